#include "ctl/remote/remote_options.h"

#include <map>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "syscalls/syscall_classes.h"
#include "tracer/v1/session_limits.h"

namespace tracer::ctl::remote {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

EnvLookup Env(std::map<std::string, std::string> vars = {}) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string StartError(std::vector<std::string> args) {
  args.push_back("--insecure");
  auto o = ParseSessionStart(args, Env());
  EXPECT_FALSE(o.ok());
  return std::string(o.status().message());
}

TEST(SessionStartTest, FullCommandLine) {
  auto o = ParseSessionStart({"--nodes",
                              "node-1,node-2",
                              "--comm",
                              "nginx",
                              "--syscall-class",
                              "%network",
                              "-e",
                              "trace=openat,%file",
                              "--filter-duration-gt",
                              "250",
                              "-f",
                              "--http",
                              "--sampler",
                              "parentbased_traceidratio",
                              "--sampler-arg",
                              "0.25",
                              "--duration",
                              "10m",
                              "--max-spans",
                              "5000",
                              "--name",
                              "slow nginx",
                              "--server",
                              "cp:7443",
                              "--certs",
                              "/pki",
                              "--user",
                              "al"},
                             Env());
  ASSERT_TRUE(o.ok()) << o.status();
  const tracer::v1::Session& s = o->request.session();
  EXPECT_FALSE(s.nodes().all());
  EXPECT_THAT(s.nodes().names(), ElementsAre("node-1", "node-2"));
  EXPECT_EQ(s.target().comm(), "nginx");
  EXPECT_THAT(s.capture().syscall_classes(), ElementsAre("network", "file"));
  EXPECT_THAT(s.capture().syscalls(), ElementsAre("openat"));
  EXPECT_EQ(s.capture().min_duration_us(), 250u);
  EXPECT_TRUE(s.capture().follow_forks());
  EXPECT_TRUE(s.capture().http());
  EXPECT_EQ(s.sampling().sampler(), tracer::v1::Sampling::PARENT_BASED_TRACE_ID_RATIO);
  EXPECT_DOUBLE_EQ(s.sampling().ratio(), 0.25);
  EXPECT_EQ(s.limits().duration_seconds(), 600u);
  EXPECT_EQ(s.limits().max_spans(), 5000u);
  EXPECT_EQ(s.name(), "slow nginx");
  EXPECT_EQ(o->connection.server, "cp:7443");
  EXPECT_EQ(o->connection.certs_dir, "/pki");
  EXPECT_EQ(o->connection.user, "al");
}

TEST(SessionStartTest, DefaultsAndLabels) {
  auto o = ParseSessionStart({"--all-processes", "--nodes", "label=env=prod,tier=web"},
                             Env({{"TRACER_CERTS", "/etc/tracer"}, {"TRACER_SERVER", "h:1"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  const tracer::v1::Session& s = o->request.session();
  EXPECT_TRUE(s.target().all_processes());
  EXPECT_EQ(s.nodes().labels().at("env"), "prod");
  EXPECT_EQ(s.nodes().labels().at("tier"), "web");
  EXPECT_EQ(s.sampling().sampler(), tracer::v1::Sampling::ALWAYS_ON);
  EXPECT_EQ(o->connection.certs_dir, "/etc/tracer");
  EXPECT_EQ(o->connection.server, "h:1");
  EXPECT_EQ(o->connection.user, "admin");

  auto p = ParseSessionStart({"--pid", "42", "--insecure"}, Env());
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->request.session().nodes().all());
  EXPECT_EQ(p->request.session().target().pid(), 42u);
}

// The client knows the same classes as the control plane (syscalls/), so it
// never refuses one the server would accept (`creds`, `clock`, `%stat` ...).
TEST(SessionStartTest, AcceptsEverySyscallClassTheServerKnows) {
  for (std::string_view cls : syscalls::SyscallClassNames()) {
    auto o = ParseSessionStart(
        {"--all-processes", "--syscall-class", std::string(cls), "--insecure"}, Env());
    EXPECT_TRUE(o.ok()) << cls << ": " << o.status();
  }
  auto o = ParseSessionStart({"--all-processes", "-e", "trace=%creds,%clock", "--insecure"}, Env());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_THAT(o->request.session().capture().syscall_classes(), ElementsAre("creds", "clock"));
}

TEST(SessionStartTest, BoundsAreTheSessionLimits) {
  std::vector<std::string> args = {"--all-processes"};
  for (size_t i = 0; i <= v1::kMaxSyscallClasses; ++i) {
    args.push_back("--syscall-class");
    args.push_back("file");
  }
  EXPECT_THAT(StartError(args), HasSubstr("at most 32 classes"));
  EXPECT_THAT(StartError({"--all-processes", "--nodes",
                          "label=" + std::string(v1::kMaxLabelKeyBytes + 1, 'k') + "=v"}),
              HasSubstr("too long"));
  auto o = ParseSessionStart({"--all-processes", "--nodes",
                              "label=k=" + std::string(v1::kMaxLabelValueBytes, 'v'), "--insecure"},
                             Env());
  EXPECT_TRUE(o.ok()) << o.status();
}

TEST(SessionStartTest, ClearErrors) {
  EXPECT_THAT(StartError({}), HasSubstr("no target"));
  EXPECT_THAT(StartError({"--pid", "1", "--comm", "x"}), HasSubstr("only one target"));
  EXPECT_THAT(StartError({"--pid", "abc"}), HasSubstr("--pid abc"));
  EXPECT_THAT(StartError({"--comm", "a-very-long-command-name"}), HasSubstr("--comm"));
  EXPECT_THAT(StartError({
                  "--cgroup",
                  "relative/path",
              }),
              HasSubstr("--cgroup"));
  EXPECT_THAT(StartError({"--all-processes", "--syscall-class", "bogus"}),
              HasSubstr("--syscall-class bogus"));
  EXPECT_THAT(StartError({"--all-processes", "-e", "trace=notasyscall"}), HasSubstr("notasyscall"));
  EXPECT_THAT(StartError({"--all-processes", "-e", "trace=!openat"}),
              HasSubstr("names and %classes only"));
  EXPECT_THAT(StartError({"--all-processes", "--sampler", "sometimes"}),
              HasSubstr("--sampler sometimes"));
  EXPECT_THAT(StartError({"--all-processes", "--sampler", "traceidratio", "--sampler-arg", "1.5"}),
              HasSubstr("--sampler-arg 1.5"));
  EXPECT_THAT(StartError({"--all-processes", "--sampler-arg", "0.5"}),
              HasSubstr("applies only to"));
  EXPECT_THAT(StartError({"--all-processes", "--duration", "soon"}), HasSubstr("--duration soon"));
  EXPECT_THAT(StartError({"--all-processes", "--max-spans", "0"}), HasSubstr("--max-spans 0"));
  EXPECT_THAT(StartError({"--all-processes", "--name", std::string(129, 'x')}),
              HasSubstr("--name"));
  EXPECT_THAT(StartError({"--all-processes", "--nodes", "label=novalue"}), HasSubstr("--nodes"));
  EXPECT_THAT(StartError({"--all-processes", "--since", "1m"}), HasSubstr("does not apply"));
  EXPECT_THAT(StartError({"--all-processes", "--bogus"}), HasSubstr("unknown option --bogus"));
  EXPECT_THAT(StartError({"--all-processes", "extra"}), HasSubstr("unexpected argument 'extra'"));
  auto no_certs = ParseSessionStart({"--all-processes"}, Env());
  EXPECT_THAT(std::string(no_certs.status().message()), HasSubstr("--certs DIR"));
}

TEST(RemoteTest, ParsesCommands) {
  auto t =
      ParseRemote("traces", {"list", "--since", "10m", "--service", "nginx", "--insecure"}, Env());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->command, "traces list");
  EXPECT_EQ(t->since_ns, 600ull * 1000000000);
  EXPECT_EQ(t->service, "nginx");

  auto show =
      ParseRemote("traces", {"show", "0AF7651916CD43DD8448EB211C80319C", "--insecure"}, Env());
  ASSERT_TRUE(show.ok()) << show.status();
  EXPECT_EQ(show->argument, "0af7651916cd43dd8448eb211c80319c");

  auto stop = ParseRemote("session", {"stop", "s-1", "--certs", "d"}, Env());
  ASSERT_TRUE(stop.ok());
  EXPECT_EQ(stop->command, "session stop");
  EXPECT_EQ(stop->argument, "s-1");

  auto st = ParseRemote("status", {"--insecure"}, Env());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->command, "status");
}

TEST(RemoteTest, ClearErrors) {
  auto err = [](const std::string& g, const std::vector<std::string>& a) {
    std::vector<std::string> args = a;
    args.push_back("--insecure");
    auto o = ParseRemote(g, args, Env());
    EXPECT_FALSE(o.ok());
    return std::string(o.status().message());
  };
  EXPECT_THAT(err("traces", {"show", "xyz"}), HasSubstr("32 hex digits"));
  EXPECT_THAT(err("traces", {"show"}), HasSubstr("takes one TRACE_ID"));
  EXPECT_THAT(err("session", {"stop"}), HasSubstr("takes one SESSION_ID"));
  EXPECT_THAT(err("session", {"pause", "x"}), HasSubstr("unknown action 'pause'"));
  EXPECT_THAT(err("agents", {"list", "--since", "1m"}), HasSubstr("--since does not apply"));
  EXPECT_THAT(err("traces", {"list", "--since", "yesterday"}), HasSubstr("--since yesterday"));
  EXPECT_THAT(err("traces", {"list", "--limit", "5000"}), HasSubstr("--limit 5000"));
  EXPECT_THAT(err("session", {"list", "extra"}), HasSubstr("unexpected argument"));
}

}  // namespace
}  // namespace tracer::ctl::remote

namespace tracer::ctl::remote {
namespace {

using ::testing::HasSubstr;

EnvLookup ExporterEnv(std::map<std::string, std::string> vars = {}) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string ExportersError(std::vector<std::string> args) {
  args.push_back("--insecure");
  auto o = ParseRemote("exporters", args, ExporterEnv());
  EXPECT_FALSE(o.ok());
  return std::string(o.status().message());
}

TEST(ExportersOptionsTest, AddWithEveryFlag) {
  auto o = ParseRemote("exporters",
                       {"add",
                        "honeycomb",
                        "--endpoint",
                        "https://api.honeycomb.io",
                        "--protocol",
                        "http/protobuf",
                        "--header",
                        "x-honeycomb-dataset=prod",
                        "--header-from-env",
                        "x-honeycomb-team=HC_KEY",
                        "--compression",
                        "gzip",
                        "--timeout",
                        "2.5s",
                        "--ca",
                        "/etc/ssl/ca.pem",
                        "--client-cert",
                        "/pki/me.pem",
                        "--client-key",
                        "/pki/me.key",
                        "--backend-insecure",
                        "--max-batch-spans",
                        "512",
                        "--max-batch-bytes",
                        "1048576",
                        "--breaker-failures",
                        "3",
                        "--breaker-open-for",
                        "1m",
                        "--retry-initial",
                        "250ms",
                        "--retry-max",
                        "10s",
                        "--replace",
                        "--certs",
                        "/pki"},
                       ExporterEnv({{"HC_KEY", "s3cr3t"}}));
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->command, "exporters add");
  EXPECT_EQ(o->argument, "honeycomb");
  EXPECT_TRUE(o->add_exporter.replace());
  const tracer::v1::ExporterSpec& e = o->add_exporter.exporter();
  EXPECT_EQ(e.name(), "honeycomb");
  EXPECT_EQ(e.endpoint(), "https://api.honeycomb.io");
  EXPECT_EQ(e.protocol(), "http/protobuf");
  ASSERT_EQ(e.headers_size(), 2);
  EXPECT_EQ(e.headers(0).key(), "x-honeycomb-dataset");
  EXPECT_EQ(e.headers(0).value(), "prod");
  EXPECT_EQ(e.headers(1).key(), "x-honeycomb-team");
  EXPECT_EQ(e.headers(1).value(), "s3cr3t");
  EXPECT_EQ(e.compression(), "gzip");
  EXPECT_EQ(e.timeout_ms(), 2500u);
  EXPECT_EQ(e.certificate_file(), "/etc/ssl/ca.pem");
  EXPECT_EQ(e.client_certificate_file(), "/pki/me.pem");
  EXPECT_EQ(e.client_key_file(), "/pki/me.key");
  EXPECT_TRUE(e.insecure());
  EXPECT_EQ(e.max_batch_spans(), 512u);
  EXPECT_EQ(e.max_batch_bytes(), 1048576u);
  EXPECT_EQ(e.breaker_failure_threshold(), 3u);
  EXPECT_EQ(e.breaker_open_for_ms(), 60000u);
  EXPECT_EQ(e.retry_initial_interval_ms(), 250u);
  EXPECT_EQ(e.retry_max_interval_ms(), 10000u);
  EXPECT_FALSE(o->connection.insecure);  // --backend-insecure is the backend's
}

TEST(ExportersOptionsTest, AddMinimalRemoveList) {
  auto o = ParseRemote("exporters", {"add", "jaeger", "--endpoint", "jaeger:4317", "--insecure"},
                       ExporterEnv());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->add_exporter.exporter().protocol(), "");
  EXPECT_EQ(o->add_exporter.exporter().headers_size(), 0);
  EXPECT_FALSE(o->add_exporter.replace());
  EXPECT_TRUE(o->connection.insecure);
  o = ParseRemote("exporters", {"remove", "jaeger", "--insecure"}, ExporterEnv());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->command, "exporters remove");
  EXPECT_EQ(o->argument, "jaeger");
  o = ParseRemote("exporters", {"list", "--insecure"}, ExporterEnv());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->command, "exporters list");
  o = ParseRemote("exporters", {"--help"}, ExporterEnv());
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
}

TEST(ExportersOptionsTest, Errors) {
  EXPECT_THAT(ExportersError({"add", "jaeger"}), HasSubstr("--endpoint URL is required"));
  EXPECT_THAT(ExportersError({"add", "--endpoint", "j:4317"}),
              HasSubstr("takes one exporter NAME"));
  EXPECT_THAT(ExportersError({"add", "a", "b", "--endpoint", "j:4317"}),
              HasSubstr("takes one exporter NAME"));
  EXPECT_THAT(ExportersError({"add", "a", "--endpoint", "j:4317", "--protocol", "thrift"}),
              HasSubstr("--protocol thrift: expected grpc, http/protobuf or http/json"));
  EXPECT_THAT(ExportersError({"add", "a", "--endpoint", "j:4317", "--header", "novalue"}),
              HasSubstr("--header: expected KEY=VALUE"));
  EXPECT_THAT(ExportersError({"add", "a", "--endpoint", "j:4317", "--header-from-env", "k=NOPE"}),
              HasSubstr("$NOPE is not set"));
  EXPECT_THAT(ExportersError({"add", "a", "--endpoint", "j:4317", "--compression", "zstd"}),
              HasSubstr("--compression zstd"));
  EXPECT_THAT(ExportersError({"add", "a", "--endpoint", "j:4317", "--timeout", "11m"}),
              HasSubstr("--timeout 11m: expected a duration from 1ms to 10m"));
  EXPECT_THAT(ExportersError({"add", "a", "--endpoint", "j:4317", "--ca", "ca.pem"}),
              HasSubstr("--ca ca.pem: give an absolute path"));
  EXPECT_THAT(ExportersError({"add", "a", "--endpoint", "j:4317", "--client-cert", "/c.pem"}),
              HasSubstr("--client-cert and --client-key go together"));
  EXPECT_THAT(ExportersError({"add", "a", "--endpoint", "j:4317", "--max-batch-spans", "0"}),
              HasSubstr("--max-batch-spans 0"));
  EXPECT_THAT(ExportersError({"list", "--endpoint", "j:4317"}),
              HasSubstr("does not apply to exporters list"));
  EXPECT_THAT(ExportersError({"remove"}), HasSubstr("takes one exporter NAME"));
  EXPECT_THAT(ExportersError({"update", "a"}), HasSubstr("unknown action 'update'"));
  EXPECT_THAT(ExportersError({"list", "extra"}), HasSubstr("unexpected argument 'extra'"));
  // Exporter flags do not leak into other commands.
  auto o = ParseRemote("status", {"--endpoint", "x:1", "--insecure"}, ExporterEnv());
  EXPECT_FALSE(o.ok());
}

}  // namespace
}  // namespace tracer::ctl::remote
