#include "ctl/run_options.h"

#include <sys/syscall.h>
#include <map>

#include "gtest/gtest.h"

namespace tracer::ctl {
namespace {

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

absl::StatusOr<RunOptions> Parse(std::vector<std::string> args,
                                 std::map<std::string, std::string> env = {}) {
  return ParseRunOptions(args, Env(env));
}

TEST(RunOptions, CommandAfterDoubleDash) {
  auto o = Parse({"-f", "--", "ls", "-la", "/etc"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->follow_forks);
  EXPECT_EQ(o->command, (std::vector<std::string>{"ls", "-la", "/etc"}));
  EXPECT_TRUE(o->syscalls.empty());
}

TEST(RunOptions, CommandWithoutDoubleDashStopsAtFirstWord) {
  auto o = Parse({"ls", "-la"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->command, (std::vector<std::string>{"ls", "-la"}));
  EXPECT_FALSE(o->follow_forks);
}

TEST(RunOptions, TraceExpressionAndClassesUnion) {
  auto o = Parse({"-e", "trace=openat,close", "--syscall-class", "network", "--", "true"});
  ASSERT_TRUE(o.ok()) << o.status();
  auto has = [&](int nr) {
    return std::find(o->syscalls.begin(), o->syscalls.end(), nr) != o->syscalls.end();
  };
  EXPECT_TRUE(has(SYS_openat));
  EXPECT_TRUE(has(SYS_close));
  EXPECT_TRUE(has(SYS_connect));
  EXPECT_FALSE(has(SYS_read));
}

TEST(RunOptions, BareExpressionIsTrace) {
  auto o = Parse({"-e", "openat", "--", "true"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->syscalls, std::vector<int>{SYS_openat});
}

TEST(RunOptions, UnknownSyscallNamesIt) {
  auto o = Parse({"-e", "trace=opnat", "--", "true"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("opnat"), std::string::npos) << o.status();
}

TEST(RunOptions, UnknownClassNamesIt) {
  auto o = Parse({"--syscall-class", "bogus", "--", "true"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("bogus"), std::string::npos) << o.status();
}

TEST(RunOptions, UnsupportedQualifierRejected) {
  auto o = Parse({"-e", "signal=none", "--", "true"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("trace="), std::string::npos);
}

TEST(RunOptions, DurationInMicroseconds) {
  auto o = Parse({"--filter-duration-gt", "1.5", "--", "true"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->min_duration_ns, 1500u);
  EXPECT_FALSE(Parse({"--filter-duration-gt", "-3", "--", "true"}).ok());
  EXPECT_FALSE(Parse({"--filter-duration-gt", "abc", "--", "true"}).ok());
}

TEST(RunOptions, AttachPid) {
  auto o = Parse({"-p", "1234"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(*o->attach_pid, 1234);
  EXPECT_FALSE(Parse({"-p", "0"}).ok());
  EXPECT_FALSE(Parse({"-p", "x"}).ok());
  EXPECT_FALSE(Parse({"-p", "12", "--", "ls"}).ok());
}

TEST(RunOptions, MissingCommand) {
  auto o = Parse({"-f"});
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("no command"), std::string::npos);
}

TEST(RunOptions, MissingArgumentAndUnknownOption) {
  EXPECT_NE(Parse({"--output"}).status().message().find("needs an argument"), std::string::npos);
  EXPECT_NE(Parse({"--bogus", "--", "ls"}).status().message().find("--bogus"), std::string::npos);
}

TEST(RunOptions, OtlpProtocolValues) {
  EXPECT_EQ(Parse({"--otlp-protocol", "http", "--", "ls"})->otlp_protocol, "http/protobuf");
  EXPECT_EQ(Parse({"--otlp-protocol", "grpc", "--", "ls"})->otlp_protocol, "grpc");
  EXPECT_FALSE(Parse({"--otlp-protocol", "carrier-pigeon", "--", "ls"}).ok());
}

TEST(RunOptions, ResourceAttributesFromEnvironment) {
  std::map<std::string, std::string> env = {
      {"OTEL_RESOURCE_ATTRIBUTES",
       "service.name=from-list,deployment.environment=prod,team=a%20b"}};
  auto o = Parse({"--", "ls"}, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->service_name, "from-list");
  using KV = std::pair<std::string, std::string>;
  EXPECT_EQ(o->resource_attributes,
            (std::vector<KV>{{"deployment.environment", "prod"}, {"team", "a b"}}));
  EXPECT_TRUE(o->warnings.empty());

  // OTEL_SERVICE_NAME wins over the list's service.name; the flag over both.
  env["OTEL_SERVICE_NAME"] = "from-env";
  EXPECT_EQ(Parse({"--", "ls"}, env)->service_name, "from-env");
  EXPECT_EQ(Parse({"--otlp-service-name", "flag", "--", "ls"}, env)->service_name, "flag");

  // A malformed list is discarded whole, with a warning naming it.
  env["OTEL_RESOURCE_ATTRIBUTES"] = "good=1,broken";
  o = Parse({"--", "ls"}, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->resource_attributes.empty());
  ASSERT_EQ(o->warnings.size(), 1u);
  EXPECT_NE(o->warnings[0].find("OTEL_RESOURCE_ATTRIBUTES"), std::string::npos) << o->warnings[0];
  EXPECT_EQ(o->service_name, "from-env");
}

TEST(RunOptions, EnvironmentAndFlagPrecedence) {
  std::map<std::string, std::string> env = {
      {"TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
      {"TRACESTATE", "congo=t61rcWkgMzE"},
      {"OTEL_SERVICE_NAME", "from-env"},
      {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "100"}};
  auto o = Parse({"--", "ls"}, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->trace_parent, env["TRACEPARENT"]);
  EXPECT_EQ(o->trace_state, "congo=t61rcWkgMzE");
  EXPECT_EQ(o->service_name, "from-env");
  EXPECT_EQ(o->max_export_batch_spans, 100u);

  o = Parse({"--trace-parent", "00-aa-bb-01", "--otlp-service-name", "flag", "--", "ls"}, env);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->trace_parent, "00-aa-bb-01");
  EXPECT_EQ(o->service_name, "flag");

  EXPECT_FALSE(Parse({"--", "ls"}, {{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0"}}).ok());
}

TEST(RunOptions, HttpOnByDefaultWhenNetworkSyscallsAreTraced) {
  struct Case {
    std::vector<std::string> args;
    bool http;
  };
  const Case cases[] = {
      {{"--", "true"}, true},                               // everything traced
      {{"-e", "trace=openat,close", "--", "true"}, false},  // no network syscall
      {{"-e", "trace=connect", "--", "true"}, true},
      {{"-e", "trace=%network", "--", "true"}, true},
      {{"--syscall-class", "network", "--", "true"}, true},
      {{"-e", "trace=write", "--", "true"}, true},  // data on any fd
      {{"--syscall-class", "file", "--", "true"}, false},
      {{"--http", "-e", "trace=openat", "--", "true"}, true},  // explicit wins
      {{"--no-http", "--", "true"}, false},
      {{"--http", "--no-http", "--", "true"}, false},        // last one wins
      {{"-e", "trace=none", "--", "true"}, false},           // no syscall at all
      {{"--http", "-e", "trace=none", "--", "true"}, true},  // HTTP spans alone
  };
  for (const Case& c : cases) {
    auto o = Parse(c.args);
    ASSERT_TRUE(o.ok()) << o.status();
    EXPECT_EQ(o->http, c.http) << c.args[0] << " " << c.args[1];
  }
}

TEST(RunOptions, EmptySelectionTracesNoSyscall) {
  for (const char* expr : {"trace=none", "trace=!all", "none"}) {
    auto o = Parse({"-e", expr, "--", "true"});
    ASSERT_TRUE(o.ok()) << expr << ": " << o.status();
    EXPECT_TRUE(o->no_syscalls) << expr;
    EXPECT_TRUE(o->syscalls.empty()) << expr;
  }
  auto o = Parse({"-e", "trace=openat", "--", "true"});
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->no_syscalls);
  EXPECT_FALSE(Parse({"--", "true"})->no_syscalls);  // no selection: every syscall
}

TEST(RunOptions, HttpCaptureBytes) {
  auto o = Parse({"--http-capture-bytes", "16384", "--", "true"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->http_capture_bytes, 16384u);
  o = Parse({"--", "true"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->http_capture_bytes, 4096u);
  o = Parse({"--http-capture-bytes", "0", "--", "true"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->http_capture_bytes, 0u);
  for (const char* bad : {"16385", "-1", "4k", ""}) {
    o = Parse({"--http-capture-bytes", bad, "--", "true"});
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_NE(o.status().message().find("--http-capture-bytes"), std::string::npos);
  }
}

TEST(RunOptions, RingBufferSize) {
  auto o = Parse({"--", "true"});
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->ring_buffer_bytes, capture::kDefaultRingbufBytes);
  const std::pair<const char*, uint32_t> good[] = {
      {"4096", 4096u},      {"4K", 4096u},        {"4k", 4096u},
      {"4KiB", 4096u},      {"256K", 256u << 10}, {"8M", 8u << 20},
      {"16MiB", 16u << 20}, {"1G", 1u << 30},     {"1048576", 1u << 20}};
  for (const auto& [arg, want] : good) {
    o = Parse({"--ring-buffer-size", arg, "--", "true"});
    ASSERT_TRUE(o.ok()) << arg << ": " << o.status();
    EXPECT_EQ(o->ring_buffer_bytes, want) << arg;
  }
  // Not a power of two, below a page, above 1 GiB, not a number.
  for (const char* bad : {"3000", "2048", "0", "12K", "6M", "2G", "4096G", "", "K", "x", "-4096",
                          "+4096", "4 K", "4KB"}) {
    o = Parse({"--ring-buffer-size", bad, "--", "true"});
    ASSERT_FALSE(o.ok()) << bad;
    EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(o.status().message().find("--ring-buffer-size"), std::string::npos) << bad;
  }
}

TEST(RunOptions, Help) {
  auto o = Parse({"--help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
  EXPECT_NE(std::string(RunUsage()).find("--otlp-endpoint"), std::string::npos);
}

}  // namespace
}  // namespace tracer::ctl
