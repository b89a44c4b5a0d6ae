#include "agent/daemon/session_manager.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/escaping.h"
#include "agent/daemon/testing/fake_event_source.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "syscalls/syscall_table.h"

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
    for (auto& b : batches()) n += b->span_count();
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
  state_->Push(Syscall(me, "read", 10000));      // not in the set
  state_->Push(Syscall(me, "openat", 5000));     // not slower than 5 µs
  state_->Push(Syscall(4242, "openat", 10000));  // not a target
  ASSERT_TRUE(Eventually([&] { return sink_.spans() >= 1; }));
  absl::SleepFor(absl::Milliseconds(100));
  auto batches = sink_.batches();
  ASSERT_EQ(sink_.spans(), 1u);  // the process span is still open
  const auto& rs = batches[0]->request().resource_spans(0);
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
  ASSERT_TRUE(Eventually([&] { return sink_.spans() == 3; }))
      << sink_.spans() << " spans, http " << mgr_->Counters().http_spans;
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
    for (auto& rs : b->request().resource_spans())
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

capture::KernelAdmission Admission(capture::KernelAdmission::Reason reason, uint64_t cgroup_id = 0,
                                   std::string comm = "") {
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
    for (auto& rs : b->request().resource_spans())
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
    EXPECT_TRUE(state_->targets.empty());              // no running process has that comm
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
      EXPECT_NE(ss.error().find("target.cgroup_path /grp/none: no such cgroup"), std::string::npos)
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

// Socket events of one accepted connection of `tgid` carrying `request`
// and `response` (HTTP/1.1), as the socket tracker reports them.
void PushServerExchange(FakeCaptureState& state, uint32_t tgid, uint64_t conn_id,
                        const std::string& request, const std::string& response,
                        bool close = true) {
  capture::ConnectionId conn{tgid, 7, conn_id};
  // The events' clock, as the kernel stamps them (the tracker's timeouts
  // compare these with CLOCK_MONOTONIC now).
  const uint64_t t0 = common::MonotonicNowNs();
  capture::SocketOpenEvent open;
  open.conn = conn;
  open.tid = tgid;
  open.role = capture::SocketRole::kServer;
  open.local.family = open.remote.family = capture::SocketAddress::Family::kIpv4;
  open.local.addr = {127, 0, 0, 1};
  open.remote.addr = {127, 0, 0, 1};
  open.local.port = 8080;
  open.remote.port = 45000;
  open.ts_ns = t0;
  state.Push(open);
  capture::SocketDataEvent in;
  in.conn = conn;
  in.tid = tgid;
  in.direction = capture::Direction::kIngress;
  in.start_ns = t0 + 1000;
  in.end_ns = t0 + 1100;
  in.length = request.size();
  state.Push(in, request);
  if (!response.empty()) {
    capture::SocketDataEvent out = in;
    out.direction = capture::Direction::kEgress;
    out.start_ns = t0 + 2000;
    out.end_ns = t0 + 2100;
    out.length = response.size();
    state.Push(out, response);
  }
  if (close) {
    capture::SocketCloseEvent c;
    c.conn = conn;
    c.tid = tgid;
    c.ts_ns = t0 + 3000;
    state.Push(c);
  }
}

// Every span the sink got, with its resource's process.pid.
std::vector<std::pair<int64_t, opentelemetry::proto::trace::v1::Span>> AllSpans(
    CollectingSink& sink) {
  std::vector<std::pair<int64_t, opentelemetry::proto::trace::v1::Span>> out;
  for (const auto& b : sink.batches()) {
    for (const auto& rs : b->request().resource_spans()) {
      int64_t pid = 0;
      for (const auto& kv : rs.resource().attributes()) {
        if (kv.key() == "process.pid") pid = kv.value().int_value();
      }
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& sp : ss.spans()) out.emplace_back(pid, sp);
      }
    }
  }
  return out;
}

std::string StrAttr(const opentelemetry::proto::trace::v1::Span& s, const std::string& key) {
  for (const auto& kv : s.attributes()) {
    if (kv.key() == key) return kv.value().string_value();
  }
  return "";
}

int64_t IntAttr(const opentelemetry::proto::trace::v1::Span& s, const std::string& key) {
  for (const auto& kv : s.attributes()) {
    if (kv.key() == key) return kv.value().int_value();
  }
  return -1;
}

using opentelemetry::proto::trace::v1::Span;

TEST_F(SessionManagerTest, HttpSessionTurnsSocketEventsIntoServerSpansOfTheTrace) {
  const uint32_t me = getpid();
  auto s = PidSession("s-http", me);
  s.mutable_capture()->set_http(true);
  auto st = Apply(1, {s});
  ASSERT_TRUE(st.sessions(0).applied()) << st.sessions(0).error();
  {
    absl::MutexLock l(&state_->mu);
    EXPECT_TRUE(state_->last_options.sockets);
  }
  state_->Push(Syscall(me, "accept4"));
  PushServerExchange(*state_, me, 11, "GET /items?id=3 HTTP/1.1\r\nHost: svc\r\n\r\n",
                     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  // A request whose caller said "not sampled": not exported, counted.
  PushServerExchange(*state_, me, 12,
                     "GET /quiet HTTP/1.1\r\nHost: svc\r\ntraceparent: "
                     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  // A request carrying a sampled traceparent joins the caller's trace.
  PushServerExchange(*state_, me, 13,
                     "POST /up HTTP/1.1\r\nHost: svc\r\nContent-Length: 0\r\ntraceparent: "
                     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n",
                     "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(Eventually([&] { return mgr_->Counters().http_spans == 3; }));
  capture::ProcessEvent exit;
  exit.kind = capture::ProcessEvent::Kind::kExit;
  exit.tgid = me;
  state_->Push(exit);
  // The process span and the syscall span, plus the two exported HTTP spans.
  ASSERT_TRUE(Eventually([&] { return sink_.spans() == 4; }));

  std::vector<Span> http;
  Span process;
  for (auto& [pid, sp] : AllSpans(sink_)) {
    EXPECT_EQ(pid, me);
    if (sp.kind() == Span::SPAN_KIND_SERVER) http.push_back(sp);
    if (sp.name() != "accept4" && sp.kind() == Span::SPAN_KIND_INTERNAL) process = sp;
  }
  ASSERT_EQ(http.size(), 2u);
  EXPECT_EQ(StrAttr(http[0], "http.request.method"), "GET");
  EXPECT_EQ(StrAttr(http[0], "url.path"), "/items");
  EXPECT_EQ(IntAttr(http[0], "http.response.status_code"), 404);
  EXPECT_EQ(http[0].status().code(), 0);  // 4xx is not a server error
  EXPECT_EQ(http[0].trace_id(), process.trace_id());
  EXPECT_EQ(http[0].parent_span_id(), process.span_id());
  EXPECT_EQ(StrAttr(http[1], "http.request.method"), "POST");
  EXPECT_EQ(IntAttr(http[1], "http.response.status_code"), 500);
  EXPECT_EQ(http[1].status().code(), opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  const std::string caller_trace = absl::HexStringToBytes("4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(http[1].trace_id(), caller_trace);
  EXPECT_EQ(http[1].parent_span_id(), absl::HexStringToBytes("00f067aa0ba902b7"));
  EXPECT_EQ(mgr_->Counters().http_spans_marked, 0u);
}

TEST_F(SessionManagerTest, LateSocketEventsAfterExitStillBecomeSpans) {
  const uint32_t me = getpid();
  auto s = PidSession("s-late", me);
  s.mutable_capture()->set_http(true);
  ASSERT_TRUE(Apply(1, {s}).sessions(0).applied());
  state_->Push(Syscall(me, "read"));
  capture::ProcessEvent exit;
  exit.kind = capture::ProcessEvent::Kind::kExit;
  exit.tgid = me;
  state_->Push(exit);
  ASSERT_TRUE(Eventually([&] { return sink_.spans() == 2; }));
  // The socket ring buffer delivers after the exit record; the request has
  // no response and no close: ended (marked) when the linger expires.
  PushServerExchange(*state_, me, 21, "GET /late HTTP/1.1\r\nHost: x\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  PushServerExchange(*state_, me, 22, "GET /cut HTTP/1.1\r\nHost: x\r\n\r\n", "",
                     /*close=*/false);
  ASSERT_TRUE(Eventually([&] { return sink_.spans() == 3; }))
      << sink_.spans() << " spans, http " << mgr_->Counters().http_spans;
  EXPECT_EQ(mgr_->Counters().http_spans, 1u);
  // The second one, still open, ends when the linger expires.
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < 100 && sink_.spans() < 4; ++i) absl::SleepFor(absl::Milliseconds(50));
  ASSERT_EQ(sink_.spans(), 4u);
  EXPECT_GE(absl::Now() - t0, absl::Nanoseconds(kHttpLingerNs) - absl::Milliseconds(500));
  std::map<std::string, Span> by_path;
  for (auto& [pid, sp] : AllSpans(sink_)) {
    if (sp.kind() == Span::SPAN_KIND_SERVER) by_path[StrAttr(sp, "url.path")] = sp;
  }
  ASSERT_EQ(by_path.size(), 2u);
  EXPECT_EQ(IntAttr(by_path["/late"], "http.response.status_code"), 200);
  EXPECT_EQ(StrAttr(by_path["/late"], "tracer.http.anomaly"), "");
  EXPECT_EQ(StrAttr(by_path["/cut"], "tracer.http.anomaly"), "connection_closed");
  EXPECT_EQ(mgr_->Counters().http_spans_marked, 1u);
}

TEST_F(SessionManagerTest, SessionWithoutHttpIgnoresSocketEventsAndAddingItReopens) {
  const uint32_t me = getpid();
  auto s = PidSession("s-plain", me);
  ASSERT_TRUE(Apply(1, {s}).sessions(0).applied());
  {
    absl::MutexLock l(&state_->mu);
    EXPECT_FALSE(state_->last_options.sockets);
  }
  PushServerExchange(*state_, me, 31, "GET / HTTP/1.1\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  state_->Push(Syscall(me, "read"));
  ASSERT_TRUE(Eventually([&] { return sink_.spans() == 1; }));
  EXPECT_EQ(mgr_->Counters().http_spans, 0u);
  // A second session asking for HTTP changes the capture set.
  auto h = PidSession("s-http2", me);
  h.mutable_capture()->set_http(true);
  int opened_before;
  {
    absl::MutexLock l(&state_->mu);
    opened_before = state_->opened;
  }
  auto st = Apply(2, {s, h});
  absl::MutexLock l(&state_->mu);
  EXPECT_EQ(state_->opened, opened_before + 1);
  EXPECT_TRUE(state_->last_options.sockets);
}

}  // namespace
}  // namespace tracer::daemon
