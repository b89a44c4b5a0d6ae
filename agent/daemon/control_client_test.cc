#include "agent/daemon/control_client.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "agent/daemon/node_identity.h"
#include "agent/daemon/session_manager.h"
#include "agent/daemon/testing/fake_event_source.h"
#include "agent/upload/testing/fake_agent_service.h"
#include "gtest/gtest.h"
#include "version/semver.h"

namespace tracer::daemon {
namespace {

using upload::testing::FakeAgentService;
using upload::testing::FakeControlPlane;

TEST(NodeIdentityTest, ParsesLabels) {
  auto l = ParseLabels(" zone = a , role=db,empty=");
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->size(), 3u);
  EXPECT_EQ(l->at("zone"), "a");
  EXPECT_EQ(l->at("role"), "db");
  EXPECT_EQ(l->at("empty"), "");
  EXPECT_TRUE(ParseLabels("")->empty());
  EXPECT_FALSE(ParseLabels("novalue").ok());
  EXPECT_FALSE(ParseLabels("a=1,a=2").ok());
  EXPECT_FALSE(ParseLabels("bad key=1").ok());
}

TEST(NodeIdentityTest, NodeIdFromFlagThenMachineIdFile) {
  EXPECT_EQ(*ResolveNodeId("n1", "/nonexistent"), "n1");
  char path[] = "/tmp/machine-id.XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "abc123\n", 7), 7);
  close(fd);
  EXPECT_EQ(*ResolveNodeId("", path), "abc123");
  unlink(path);
  EXPECT_FALSE(ResolveNodeId(std::string(200, 'x'), path).ok());
}

class ControlClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = std::make_shared<testing::FakeCaptureState>();
    SessionManagerOptions o;
    o.open_source = testing::FakeSourceFactory(state_);
    o.read_proc = false;
    o.self_pid = 1;
    mgr_ = std::make_unique<SessionManager>(o);
    loop_ = std::thread([this] {
      while (!stop_.load()) mgr_->RunOnce(5);
      mgr_->Shutdown();
    });
  }
  void TearDown() override {
    if (client_) client_->Stop();
    stop_.store(true);
    loop_.join();
  }
  void StartClient(bool with_status = false) {
    ControlClientOptions o;
    if (with_status) {
      o.current_status = [] {
        tracer::v1::PolicyStatus st;
        st.set_policy_version(3);
        auto* ss = st.add_sessions();
        ss->set_session_id("s-1");
        ss->set_applied(true);
        ss->set_spans_captured(99);
        return st;
      };
    }
    o.hello = MakeHello("node-7", {{"zone", "a"}}, {"syscalls"});
    o.heartbeat_interval = absl::Milliseconds(50);
    o.initial_backoff = absl::Milliseconds(10);
    o.max_backoff = absl::Milliseconds(50);
    o.counters = [] {
      tracer::v1::AgentCounters c;
      c.set_spans_captured(42);
      return c;
    };
    o.on_welcome = [this](const tracer::v1::Welcome& w) {
      absl::MutexLock l(&mu_);
      agent_id_ = w.agent_id();
    };
    client_ = std::make_unique<ControlClient>(cp_.NewChannel(), o, mgr_.get());
    client_->Start();
  }

  FakeControlPlane cp_;
  std::shared_ptr<testing::FakeCaptureState> state_;
  std::unique_ptr<SessionManager> mgr_;
  std::unique_ptr<ControlClient> client_;
  std::thread loop_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  std::string agent_id_;
};

TEST_F(ControlClientTest, HelloCarriesIdentityAndHeartbeatsCarryCounters) {
  StartClient();
  auto& svc = cp_.service();
  ASSERT_TRUE(svc.WaitFor([](const FakeAgentService& s) { return !s.hellos().empty(); },
                          absl::Seconds(10)));
  tracer::v1::Hello h = svc.hellos()[0];
  EXPECT_EQ(h.node_id(), "node-7");
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(h.hostname(), host);
  utsname u{};
  uname(&u);
  EXPECT_EQ(h.kernel_release(), u.release);
  EXPECT_EQ(h.agent_version(), version::kVersion);
  EXPECT_EQ(h.protocol_version(), static_cast<uint32_t>(tracer::v1::PROTOCOL_VERSION_1));
  ASSERT_EQ(h.capabilities_size(), 1);
  EXPECT_EQ(h.labels().at("zone"), "a");
  ASSERT_TRUE(svc.WaitFor([](const FakeAgentService& s) { return s.heartbeats().size() >= 2; },
                          absl::Seconds(10)));
  EXPECT_EQ(svc.heartbeats()[0].counters().spans_captured(), 42u);
  EXPECT_GT(svc.heartbeats()[0].unix_nano(), 0u);
  absl::MutexLock l(&mu_);
  EXPECT_EQ(agent_id_, "agent-node-7");
}

TEST_F(ControlClientTest, HeartbeatsRefreshSessionSpanCounts) {
  StartClient(/*with_status=*/true);
  auto& svc = cp_.service();
  ASSERT_TRUE(svc.WaitFor(
      [](const FakeAgentService& s) {
        for (const auto& st : s.policy_statuses()) {
          if (st.sessions_size() == 1 && st.sessions(0).spans_captured() == 99) return true;
        }
        return false;
      },
      absl::Seconds(10)));
}

TEST_F(ControlClientTest, AppliesPushedPolicyReportsStatusAndSurvivesReconnect) {
  auto& svc = cp_.service();
  tracer::v1::Policy p;
  p.set_version(5);
  auto* s = p.add_sessions();
  s->set_id("sess-1");
  s->set_state(tracer::v1::Session::ACTIVE);
  s->mutable_target()->set_pid(getpid());
  auto* bad = p.add_sessions();
  bad->set_id("sess-bad");
  bad->set_state(tracer::v1::Session::ACTIVE);
  bad->mutable_target()->set_pid(getpid());
  bad->mutable_capture()->add_syscalls("nope");
  svc.SetPolicy(p);
  StartClient();
  ASSERT_TRUE(svc.WaitFor([](const FakeAgentService& s) { return !s.policy_statuses().empty(); },
                          absl::Seconds(10)));
  tracer::v1::PolicyStatus st = svc.policy_statuses()[0];
  EXPECT_EQ(st.policy_version(), 5u);
  ASSERT_EQ(st.sessions_size(), 2);
  EXPECT_EQ(st.sessions(0).session_id(), "sess-1");
  EXPECT_TRUE(st.sessions(0).applied()) << st.sessions(0).error();
  EXPECT_EQ(st.sessions(1).session_id(), "sess-bad");
  EXPECT_FALSE(st.sessions(1).applied());
  EXPECT_NE(st.sessions(1).error().find("nope"), std::string::npos);
  {
    absl::MutexLock l(&state_->mu);
    EXPECT_EQ(state_->targets, std::vector<uint32_t>{static_cast<uint32_t>(getpid())});
    EXPECT_EQ(state_->opened, 1);
  }

  // The stream breaks; the client reconnects, the policy is pushed again and
  // answered without re-opening the capture.
  svc.DropConnectStreams();
  ASSERT_TRUE(svc.WaitFor([](const FakeAgentService& s) { return s.hellos().size() >= 2; },
                          absl::Seconds(10)));
  ASSERT_TRUE(svc.WaitFor([](const FakeAgentService& s) { return s.policy_statuses().size() >= 2; },
                          absl::Seconds(10)));
  EXPECT_EQ(svc.policy_statuses()[1].policy_version(), 5u);
  EXPECT_EQ(client_->State().policies_applied, 1u);
  EXPECT_GE(client_->State().stream_failures, 1u);
  {
    absl::MutexLock l(&state_->mu);
    EXPECT_EQ(state_->opened, 1);
  }

  // A newer version without the session stops the capture.
  tracer::v1::Policy empty;
  empty.set_version(6);
  svc.SetPolicy(empty);
  ASSERT_TRUE(svc.WaitFor(
      [](const FakeAgentService& s) {
        auto v = s.policy_statuses();
        return !v.empty() && v.back().policy_version() == 6;
      },
      absl::Seconds(10)));
  absl::MutexLock l(&state_->mu);
  EXPECT_EQ(state_->open_now, 0);
}

}  // namespace
}  // namespace tracer::daemon
