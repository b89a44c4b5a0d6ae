// End to end, as root: a real trace-agent (BPF capture, WAL, uploader,
// control client) against an in-process fake control plane that pushes a
// session targeting the comm of a process this test starts; the spans the
// agent uploads carry the session id. Skips when not root (fails under CI).
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/upload/testing/fake_agent_service.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "storage/testing/temp_dir.h"
#include "tests/testing/grpc_health.h"

namespace {

using tracer::upload::testing::FakeAgentService;
using tracer::upload::testing::FakeControlPlane;

TEST(TraceAgentTest, CommSessionSpansAreUploaded) {
  if (geteuid() != 0) {
    if (std::getenv("CI") != nullptr) FAIL() << "needs root and CI is set";
    GTEST_SKIP() << "needs root to load BPF programs; skipping";
  }
  FakeControlPlane cp;
  tracer::v1::Policy p;
  p.set_version(1);
  auto* s = p.add_sessions();
  s->set_id("e2e-session");
  s->set_state(tracer::v1::Session::ACTIVE);
  s->mutable_target()->set_comm("agent-e2e-tgt");
  s->mutable_capture()->add_syscalls("getppid");
  cp.service().SetPolicy(p);

  // The workload: renames itself, then calls getppid() in a loop.
  pid_t workload = fork();
  ASSERT_GE(workload, 0);
  if (workload == 0) {
    prctl(PR_SET_NAME, "agent-e2e-tgt");
    for (int i = 0; i < 600; ++i) {
      getppid();
      usleep(50 * 1000);
    }
    _exit(0);
  }

  tracer::storage::testing::TempDir dir;
  const std::string health_addr = absl::StrCat("127.0.0.1:", tracer::testing::FreePort());
  pid_t agent = fork();
  ASSERT_GE(agent, 0);
  if (agent == 0) {
    std::string data = absl::StrCat("--data_dir=", dir.path());
    std::string target = absl::StrCat("--controlplane=", cp.address());
    std::string health = absl::StrCat("--health_listen=", health_addr);
    execl("agent/trace-agent", "trace-agent", data.c_str(), target.c_str(), "--insecure",
          "--node_id=e2e-node", "--heartbeat_interval=0.2", health.c_str(),
          "--host_name=worker-7.example", static_cast<char*>(nullptr));
    _exit(127);
  }

  bool got = cp.service().WaitFor(
      [](const FakeAgentService& svc) {
        for (const auto& st : svc.stored()) {
          if (st.span_count > 0) return true;
        }
        return false;
      },
      absl::Seconds(30));
  // Liveness/readiness: the agent's gRPC health service answers SERVING.
  EXPECT_EQ(tracer::testing::WaitForHealth(health_addr), tracer::testing::kHealthServing());
  kill(agent, SIGTERM);
  int status = 0;
  waitpid(agent, &status, 0);
  kill(workload, SIGKILL);
  waitpid(workload, nullptr, 0);
  ASSERT_TRUE(got) << "no spans uploaded within 30 s";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  // The session was applied and reported.
  auto statuses = cp.service().policy_statuses();
  ASSERT_FALSE(statuses.empty());
  ASSERT_EQ(statuses[0].sessions_size(), 1);
  EXPECT_TRUE(statuses[0].sessions(0).applied()) << statuses[0].sessions(0).error();
  EXPECT_EQ(cp.service().hellos()[0].node_id(), "e2e-node");
  EXPECT_EQ(cp.service().hellos()[0].hostname(), "worker-7.example");

  // Uploaded batches are OTLP requests with getppid spans of the session.
  int getppid_spans = 0;
  for (const auto& st : cp.service().stored()) {
    EXPECT_EQ(st.agent_id, "agent-e2e-node");
    opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest req;
    ASSERT_TRUE(req.ParseFromString(st.batch));
    for (const auto& rs : req.resource_spans()) {
      bool session = false;
      std::string host;
      for (const auto& kv : rs.resource().attributes()) {
        if (kv.key() == "tracer.session.id" && kv.value().string_value() == "e2e-session") {
          session = true;
        }
        if (kv.key() == "host.name") host = kv.value().string_value();
      }
      EXPECT_TRUE(session);
      EXPECT_EQ(host, "worker-7.example");  // --host_name, not the pod's hostname
      for (const auto& ss : rs.scope_spans())
        for (const auto& sp : ss.spans()) getppid_spans += sp.name() == "getppid";
    }
  }
  EXPECT_GT(getppid_spans, 0);
}

// Flags that would expose or mislabel the node are refused before anything
// starts (exit 2), and the message names the flag.
TEST(TraceAgentTest, BadHostNameAndNonLoopbackHealthAreRefused) {
  tracer::storage::testing::TempDir dir;
  const std::string data = absl::StrCat("--data_dir=", dir.path());
  auto run = [&](const char* flag) {
    std::string cmd =
        absl::StrCat("agent/trace-agent ", data,
                     " --insecure --controlplane=127.0.0.1:1 --node_id=n ", flag, " 2>&1");
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[512];
    while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
    int status = pclose(p);
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, out);
  };
  auto [code, out] = run("'--host_name=two words'");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--host_name"), std::string::npos) << out;
  std::tie(code, out) = run("--health_listen=0.0.0.0:0");
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--health_listen"), std::string::npos) << out;
}

}  // namespace
