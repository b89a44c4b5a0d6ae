#include "agent/daemon/session_manager.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <set>
#include <string>
#include <thread>

#include "agent/daemon/testing/fake_event_source.h"
#include "agent/syscalls/syscall_table.h"
#include "gtest/gtest.h"

namespace tracer::daemon {
namespace {

using testing::FakeCaptureState;

class CollectingSink : public spans::BatchSink {
 public:
  void OnBatch(std::shared_ptr<const spans::SpanBatch> b) override {
    absl::MutexLock l(&mu_);
    batches_.push_back(std::move(b));
  }
  std::vector<std::shared_ptr<const spans::SpanBatch>> batches() {
    absl::MutexLock l(&mu_);
    return batches_;
  }
  size_t spans() {
    size_t n = 0;
    for (auto& b : batches()) n += b->span_count;
    return n;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::shared_ptr<const spans::SpanBatch>> batches_;
};

capture::SyscallEvent Syscall(uint32_t tgid, const char* name, uint64_t dur_ns = 1000) {
  capture::SyscallEvent e;
  e.tgid = e.tid = tgid;
  e.nr = *syscalls::SyscallNumber(name);
  e.start_ns = 1;
  e.duration_ns = dur_ns;
  return e;
}

tracer::v1::Session PidSession(const std::string& id, uint32_t pid) {
  tracer::v1::Session s;
  s.set_id(id);
  s.set_state(tracer::v1::Session::ACTIVE);
  s.mutable_target()->set_pid(pid);
  return s;
}

class SessionManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = std::make_shared<FakeCaptureState>();
    SessionManagerOptions o;
    o.open_source = testing::FakeSourceFactory(state_);
    o.sink = &sink_;
    o.host_name = "node-a";
    o.read_proc = false;
    o.self_pid = 1;  // let the test process itself be a target
    o.flush_interval = absl::Milliseconds(20);
    o.on_status_change = [this](const tracer::v1::PolicyStatus& st) {
      absl::MutexLock l(&mu_);
      status_changes_.push_back(st);
    };
    mgr_ = std::make_unique<SessionManager>(o);
    loop_ = std::thread([this] {
      while (!stop_.load()) mgr_->RunOnce(5);
      mgr_->Shutdown();
    });
  }
  void TearDown() override {
    stop_.store(true);
    loop_.join();
  }

  tracer::v1::PolicyStatus Apply(uint64_t version, std::vector<tracer::v1::Session> sessions) {
    tracer::v1::Policy p;
    p.set_version(version);
    for (auto& s : sessions) *p.add_sessions() = s;
    return mgr_->Apply(p);
  }
  template <typename Pred>
  bool Eventually(Pred pred) {
    for (int i = 0; i < 1000 && !pred(); ++i) absl::SleepFor(absl::Milliseconds(5));
    return pred();
  }
  std::vector<uint32_t> Targets() {
    absl::MutexLock l(&state_->mu);
    return state_->targets;
  }
  int OpenNow() {
    absl::MutexLock l(&state_->mu);
    return state_->open_now;
  }

  std::shared_ptr<FakeCaptureState> state_;
  CollectingSink sink_;
  std::unique_ptr<SessionManager> mgr_;
  std::thread loop_;
  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  std::vector<tracer::v1::PolicyStatus> status_changes_;
};

TEST_F(SessionManagerTest, PidSessionCapturesFiltersAndTagsSpans) {
  const uint32_t me = getpid();
  auto s = PidSession("s-1", me);
  s.mutable_capture()->add_syscalls("openat");
  s.mutable_capture()->set_min_duration_us(5);
  auto st = Apply(3, {s});
  EXPECT_EQ(st.policy_version(), 3u);
  ASSERT_EQ(st.sessions_size(), 1);
  EXPECT_TRUE(st.sessions(0).applied()) << st.sessions(0).error();
  EXPECT_EQ(Targets(), std::vector<uint32_t>{me});
  {
    absl::MutexLock l(&state_->mu);
    EXPECT_EQ(state_->last_options.syscalls, std::vector<int>{*syscalls::SyscallNumber("openat")});
    EXPECT_EQ(state_->last_options.min_duration_ns, 5000u);
  }
  state_->Push(Syscall(me, "openat", 10000));
  state_->Push(Syscall(me, "read", 10000));    // not in the set
  state_->Push(Syscall(me, "openat", 5000));   // not slower than 5 µs
  state_->Push(Syscall(4242, "openat", 10000));  // not a target
  ASSERT_TRUE(Eventually([&] { return sink_.spans() >= 1; }));
  absl::SleepFor(absl::Milliseconds(100));
  auto batches = sink_.batches();
  ASSERT_EQ(sink_.spans(), 1u);  // the process span is still open
  const auto& rs = batches[0]->request.resource_spans(0);
  bool has_session = false;
  for (const auto& kv : rs.resource().attributes()) {
    if (kv.key() == "tracer.session.id") has_session = kv.value().string_value() == "s-1";
  }
  EXPECT_TRUE(has_session);
  EXPECT_EQ(rs.scope_spans(0).spans(0).name(), "openat");
  EXPECT_EQ(mgr_->Counters().spans_filtered_out, 2u);

  // Process exit ends the process span.
  capture::ProcessEvent exit;
  exit.kind = capture::ProcessEvent::Kind::kExit;
  exit.tgid = me;
  state_->Push(exit);
  ASSERT_TRUE(Eventually([&] { return sink_.spans() == 2; }));

  // A policy without the session stops it and closes the capture.
  auto st2 = Apply(4, {});
  EXPECT_EQ(st2.sessions_size(), 0);
  EXPECT_EQ(OpenNow(), 0);
}

TEST_F(SessionManagerTest, InvalidSessionsAreReportedNotApplied) {
  auto bad_name = PidSession("bad-name", getpid());
  bad_name.mutable_capture()->add_syscalls("no_such_call");
  auto bad_class = PidSession("bad-class", getpid());
  bad_class.mutable_capture()->add_syscall_classes("nonsense");
  auto gone = PidSession("gone", 0x3fffffff);
  tracer::v1::Session no_target;
  no_target.set_id("no-target");
  auto st = Apply(1, {bad_name, bad_class, gone, no_target});
  ASSERT_EQ(st.sessions_size(), 4);
  for (const auto& ss : st.sessions()) {
    EXPECT_FALSE(ss.applied()) << ss.session_id();
    EXPECT_FALSE(ss.error().empty()) << ss.session_id();
  }
  for (const auto& ss : st.sessions()) {
    if (ss.session_id() == "bad-name") {
      EXPECT_NE(ss.error().find("no_such_call"), std::string::npos) << ss.error();
    }
    if (ss.session_id() == "gone") EXPECT_NE(ss.error().find("no such process"), std::string::npos);
  }
  EXPECT_EQ(OpenNow(), 0);  // nothing valid: no capture
}

TEST_F(SessionManagerTest, UnsampledTracesAreCountedNotPassedOn) {
  auto s = PidSession("off", getpid());
  s.mutable_sampling()->set_sampler(tracer::v1::Sampling::ALWAYS_OFF);
  ASSERT_TRUE(Apply(1, {s}).sessions(0).applied());
  for (int i = 0; i < 3; ++i) state_->Push(Syscall(getpid(), "getpid"));
  ASSERT_TRUE(Eventually([&] { return mgr_->Counters().spans_sampled_out == 3; }));
  EXPECT_EQ(sink_.spans(), 0u);
  EXPECT_EQ(mgr_->Counters().spans_captured, 3u);
}

TEST_F(SessionManagerTest, SpanLimitEndsTheSessionAndReportsIt) {
  auto s = PidSession("lim", getpid());
  s.mutable_limits()->set_max_spans(2);
  ASSERT_TRUE(Apply(1, {s}).sessions(0).applied());
  for (int i = 0; i < 5; ++i) state_->Push(Syscall(getpid(), "getpid"));
  ASSERT_TRUE(Eventually([&] {
    absl::MutexLock l(&mu_);
    return !status_changes_.empty();
  }));
  {
    absl::MutexLock l(&mu_);
    ASSERT_EQ(status_changes_[0].sessions_size(), 1);
    EXPECT_FALSE(status_changes_[0].sessions(0).applied());
    EXPECT_NE(status_changes_[0].sessions(0).error().find("span limit"), std::string::npos);
  }
  // Two syscall spans plus the root's process span (ended by the limit).
  ASSERT_TRUE(Eventually([&] { return sink_.spans() == 3; }));
  EXPECT_TRUE(Eventually([&] { return OpenNow() == 0; }));
}

TEST_F(SessionManagerTest, CommTargetAttachesMatchingProcessesAndFollowsForks) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    prctl(PR_SET_NAME, "sm-test-target");
    pause();
    _exit(0);
  }
  tracer::v1::Session s;
  s.set_id("comm");
  s.set_state(tracer::v1::Session::ACTIVE);
  s.mutable_target()->set_comm("sm-test-target");
  s.mutable_capture()->set_follow_forks(true);
  // The child renames itself after fork; wait until /proc shows it.
  ASSERT_TRUE(Eventually([&] {
    FILE* f = fopen(("/proc/" + std::to_string(child) + "/comm").c_str(), "r");
    char buf[32] = {};
    if (f) fgets(buf, sizeof buf, f), fclose(f);
    return std::string(buf) == "sm-test-target\n";
  }));
  ASSERT_TRUE(Apply(1, {s}).sessions(0).applied());
  ASSERT_TRUE(Eventually([&] {
    auto t = Targets();
    return std::find(t.begin(), t.end(), static_cast<uint32_t>(child)) != t.end();
  }));
  {
    absl::MutexLock l(&state_->mu);
    EXPECT_TRUE(state_->last_options.follow_forks);
  }
  // A fork of the target is routed to the same trace.
  capture::ProcessEvent fork_ev;
  fork_ev.kind = capture::ProcessEvent::Kind::kFork;
  fork_ev.tgid = 777777;
  fork_ev.parent_tgid = child;
  state_->Push(fork_ev);
  state_->Push(Syscall(777777, "getpid"));
  ASSERT_TRUE(Eventually([&] { return sink_.spans() >= 1; }));  // the child's syscall
  auto batches = sink_.batches();
  std::string trace;
  for (auto& b : batches)
    for (auto& rs : b->request.resource_spans())
      for (auto& sp : rs.scope_spans(0).spans()) {
        if (trace.empty()) trace = sp.trace_id();
        EXPECT_EQ(sp.trace_id(), trace);
      }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
}

tracer::v1::Session TargetSession(const std::string& id) {
  tracer::v1::Session s;
  s.set_id(id);
  s.set_state(tracer::v1::Session::ACTIVE);
  return s;
}

capture::KernelAdmission Admission(capture::KernelAdmission::Reason reason,
                                   uint64_t cgroup_id = 0, std::string comm = "") {
  capture::KernelAdmission a;
  a.reason = reason;
  a.cgroup_id = cgroup_id;
  a.comm = std::move(comm);
  return a;
}

// The session id on the resource of every span batch seen for `tgid`'s trace.
std::set<std::string> SessionsOfSpans(CollectingSink& sink) {
  std::set<std::string> out;
  for (auto& b : sink.batches())
    for (auto& rs : b->request.resource_spans())
      for (const auto& kv : rs.resource().attributes())
        if (kv.key() == "tracer.session.id") out.insert(kv.value().string_value());
  return out;
}

TEST_F(SessionManagerTest, CommTargetIsMatchedInTheKernelAndAdmissionsAreRouted) {
  auto s = TargetSession("by-comm");
  s.mutable_target()->set_comm("no-such-comm-x");
  ASSERT_TRUE(Apply(1, {s}).sessions(0).applied());
  {
    absl::MutexLock l(&state_->mu);
    EXPECT_EQ(state_->comm_targets, std::vector<std::string>{"no-such-comm-x"});
    EXPECT_FALSE(state_->trace_all);
    EXPECT_EQ(state_->last_options.exclude_tgid, 1u);  // SessionManagerOptions::self_pid
    EXPECT_TRUE(state_->targets.empty());  // no running process has that comm
  }
  // The kernel admitted 5555 at exec: its exec record comes first.
  state_->Admit(5555, Admission(capture::KernelAdmission::Reason::kComm, 0, "no-such-comm-x"));
  capture::ProcessEvent exec;
  exec.kind = capture::ProcessEvent::Kind::kExec;
  exec.tgid = 5555;
  exec.comm = "no-such-comm-x";
  exec.filename = "/usr/bin/no-such-comm-x";
  state_->Push(exec);
  state_->Push(Syscall(5555, "execve"));
  state_->Push(Syscall(5555, "brk"));
  // A process the kernel did not admit for this session is not routed.
  state_->Push(Syscall(6666, "getpid"));
  state_->Admit(6667, Admission(capture::KernelAdmission::Reason::kComm, 0, "other"));
  state_->Push(Syscall(6667, "getpid"));
  ASSERT_TRUE(Eventually([&] { return sink_.spans() >= 2; }));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(sink_.spans(), 2u);  // execve + brk; the process span is open
  EXPECT_EQ(mgr_->Counters().traced_processes, 1u);
  EXPECT_EQ(SessionsOfSpans(sink_), std::set<std::string>{"by-comm"});
  absl::MutexLock l(&state_->mu);
  EXPECT_EQ(state_->admissions.count(6667), 0u);  // asked once, then remembered
}

TEST_F(SessionManagerTest, CgroupTargetsAreResolvedAndRoutedById) {
  {
    absl::MutexLock l(&state_->mu);
    state_->cgroup_ids["/grp/a"] = 42;
  }
  auto a = TargetSession("cg-a");
  a.mutable_target()->set_cgroup_path("/grp/a");
  auto missing = TargetSession("cg-missing");
  missing.mutable_target()->set_cgroup_path("/grp/none");
  auto st = Apply(1, {a, missing});
  ASSERT_EQ(st.sessions_size(), 2);
  for (const auto& ss : st.sessions()) {
    if (ss.session_id() == "cg-a") {
      EXPECT_TRUE(ss.applied()) << ss.error();
    }
    if (ss.session_id() == "cg-missing") {
      EXPECT_FALSE(ss.applied());
      EXPECT_NE(ss.error().find("target.cgroup_path /grp/none: no such cgroup"),
                std::string::npos)
          << ss.error();
    }
  }
  {
    absl::MutexLock l(&state_->mu);
    EXPECT_EQ(state_->cgroup_targets, std::vector<std::string>{"/grp/a"});
  }
  state_->Admit(7777, Admission(capture::KernelAdmission::Reason::kCgroup, 42));
  state_->Admit(7778, Admission(capture::KernelAdmission::Reason::kCgroup, 43));
  state_->Push(Syscall(7778, "getpid"));
  state_->Push(Syscall(7777, "getpid"));
  ASSERT_TRUE(Eventually([&] { return sink_.spans() >= 1; }));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(sink_.spans(), 1u);
  EXPECT_EQ(mgr_->Counters().traced_processes, 1u);
  EXPECT_EQ(SessionsOfSpans(sink_), std::set<std::string>{"cg-a"});
}

TEST_F(SessionManagerTest, AllProcessesUsesTraceAllAndDroppingItReopensTheCapture) {
  auto all = TargetSession("all");
  all.mutable_target()->set_all_processes(true);
  auto comm = TargetSession("comm");
  comm.mutable_target()->set_comm("keep-me");
  auto st = Apply(1, {all, comm});
  ASSERT_TRUE(st.sessions(0).applied() && st.sessions(1).applied());
  {
    absl::MutexLock l(&state_->mu);
    EXPECT_TRUE(state_->trace_all);
    EXPECT_EQ(state_->opened, 1);
  }
  state_->Admit(8888, Admission(capture::KernelAdmission::Reason::kTraceAll));
  state_->Push(Syscall(8888, "getpid"));
  ASSERT_TRUE(Eventually([&] { return sink_.spans() >= 1; }));
  EXPECT_EQ(SessionsOfSpans(sink_), std::set<std::string>{"all"});
  // Trace-all cannot be taken back from a capture: a new one, with the
  // remaining session's comm target only.
  ASSERT_TRUE(Apply(2, {comm}).sessions(0).applied());
  absl::MutexLock l(&state_->mu);
  EXPECT_EQ(state_->opened, 2);
  EXPECT_EQ(state_->open_now, 1);
  EXPECT_FALSE(state_->trace_all);
  EXPECT_EQ(state_->comm_targets, std::vector<std::string>{"keep-me"});
}

}  // namespace
}  // namespace tracer::daemon
