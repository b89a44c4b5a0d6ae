#include "agent/daemon/session_manager.h"

#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/daemon/proc_scan.h"
#include "agent/daemon/session_limits.h"
#include "common/clock.h"
#include "glog/logging.h"

namespace tracer::daemon {

// The router as the node pipeline's event sink: each event under state_mu_,
// so the capture thread may change sessions and traces between events.
class SessionManager::LockedEvents : public capture::EventSink {
 public:
  explicit LockedEvents(SessionManager* m) : m_(m) {}
  void OnSyscall(const capture::SyscallEvent& e) override {
    absl::MutexLock l(&m_->state_mu_);
    m_->router_.OnSyscall(e);
  }
  void OnProcess(const capture::ProcessEvent& e) override {
    absl::MutexLock l(&m_->state_mu_);
    m_->router_.OnProcess(e);
  }
  void OnSocketOpen(const capture::SocketOpenEvent& e) override {
    absl::MutexLock l(&m_->state_mu_);
    m_->router_.OnSocketOpen(e);
  }
  void OnSocketData(const capture::SocketDataEvent& e) override {
    absl::MutexLock l(&m_->state_mu_);
    m_->router_.OnSocketData(e);
  }
  void OnSocketClose(const capture::SocketCloseEvent& e) override {
    absl::MutexLock l(&m_->state_mu_);
    m_->router_.OnSocketClose(e);
  }

 private:
  SessionManager* const m_;
};

namespace {

// Events the kernel lost in a capture: ring buffers full (syscalls, sockets).
uint64_t KernelDrops(const capture::CaptureCounters& cc) {
  uint64_t n = cc.sockets.ringbuf_drops;
  for (uint64_t d : cc.ringbuf_drops_per_cpu) n += d;
  return n;
}

uint32_t SelfPid(uint32_t configured) {
  return configured != 0 ? configured : static_cast<uint32_t>(getpid());
}

pipeline::NodePipelineOptions PipelineOptions(const SessionManagerOptions& o) {
  pipeline::NodePipelineOptions p;
  p.wal = o.wal;
  p.sink = o.sink;
  return p;
}

SpanRouterOptions RouterOptions(const SessionManagerOptions& o, spans::BatchSink* batches,
                                uint32_t self_pid) {
  SpanRouterOptions r;
  r.batches = batches;
  r.host_name = o.host_name;
  r.max_batch_spans = o.max_batch_spans;
  r.read_proc = o.read_proc;
  r.self_pid = self_pid;
  return r;
}

}  // namespace

SessionManager::SessionManager(SessionManagerOptions options)
    : options_(std::move(options)),
      self_pid_(SelfPid(options_.self_pid)),
      pipeline_(PipelineOptions(options_)),
      router_(RouterOptions(options_, pipeline_.batch_sink(), self_pid_), &sessions_),
      events_(std::make_unique<LockedEvents>(this)) {}

SessionManager::~SessionManager() {
  // Deliver what the pipeline holds while the router still exists.
  (void)pipeline_.Detach();
}

tracer::v1::PolicyStatus SessionManager::Apply(const tracer::v1::Policy& policy) {
  absl::MutexLock l(&mu_);
  pending_ = policy;
  const uint64_t ticket = ++pending_ticket_;
  auto done = [this, ticket]()
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_ticket_ >= ticket; };
  if (!mu_.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(30))) {
    tracer::v1::PolicyStatus st;
    st.set_policy_version(policy.version());
    for (const auto& s : policy.sessions()) {
      auto* ss = st.add_sessions();
      ss->set_session_id(s.id());
      ss->set_error("agent: capture thread did not apply the policy within 30 s");
    }
    return st;
  }
  return done_status_;
}

void SessionManager::CloseCapture() {
  if (!source_) return;
  // Deliver what is still in the ring buffer (to the sessions as they are
  // now), then end every trace.
  state_mu_.Unlock();
  (void)pipeline_.Detach();
  state_mu_.Lock();
  drops_closed_sources_ += KernelDrops(source_->Counters());
  router_.RemoveTraces(nullptr);
  router_.SetSource(nullptr);
  source_.reset();
  source_options_.reset();
}

absl::Status SessionManager::SyncCapture() {
  const CaptureWant want = CaptureFor(sessions_, self_pid_);
  const bool same = want.any && source_ && source_options_ && !kernel_targets_.Stale(want) &&
                    SameCapture(*source_options_, want);
  if (same) {
    // Sessions new to this capture: their kernel-side targets, then their
    // processes that are already running (routed ones are skipped).
    kernel_targets_.Install(*source_, sessions_);
    Rescan();
    return absl::OkStatus();
  }
  CloseCapture();
  kernel_targets_.Clear();
  router_.SetSource(nullptr);
  if (!want.any) return absl::OkStatus();
  auto src = options_.open_source(want.options);
  if (!src.ok()) return src.status();
  source_ = std::move(*src);
  source_options_ = want.options;
  ++captures_opened_;
  router_.SetSource(source_.get());
  pipeline_.Attach(source_.get(), events_.get());
  kernel_targets_.Install(*source_, sessions_);
  for (auto& [id, s] : sessions_) {
    if (s->active() && s->spec.target().kind_case() == tracer::v1::Target::kPid) {
      router_.Attach(*s, s->spec.target().pid());
    }
  }
  // Processes of comm/cgroup/all sessions already running; the kernel
  // catches the ones that appear from now on.
  Rescan();
  return absl::OkStatus();
}

void SessionManager::Rescan() {
  std::vector<Session*> scanners;
  for (auto& [id, s] : sessions_) {
    if (s->active() && s->spec.target().kind_case() != tracer::v1::Target::kPid) {
      scanners.push_back(s.get());
    }
  }
  if (!source_) return;
  ScanProc(
      options_.proc_root, self_pid_, scanners, [this](uint32_t pid) { return router_.Routed(pid); },
      [this](Session& s, uint32_t pid) { router_.Attach(s, pid); });
}

void SessionManager::ApplyNow(const tracer::v1::Policy& policy, tracer::v1::PolicyStatus* status) {
  policy_version_ = policy.version();
  std::map<std::string, const tracer::v1::Session*> wanted;
  for (const auto& s : policy.sessions()) {
    if (IsActiveState(s.state()) && !s.id().empty()) wanted[s.id()] = &s;
  }
  // Sessions gone, stopped or changed end here.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto w = wanted.find(it->first);
    if (w != wanted.end() && SessionKey(*w->second) == it->second->key) {
      ++it;
    } else {
      EndSession(*it->second, "stopped");
      it = sessions_.erase(it);
    }
  }
  for (const auto& [id, spec] : wanted) {
    if (sessions_.count(id) > 0) continue;
    std::unique_ptr<Session> s = NewSession(*spec, options_.proc_root);
    if (shut_down_) {
      s->applied = false;
      s->error = "agent: shutting down";
    }
    if (!s->applied) LOG(WARNING) << "session " << id << " not applied: " << s->error;
    sessions_[id] = std::move(s);
  }
  if (absl::Status st = SyncCapture(); !st.ok()) {
    LOG(ERROR) << "capture: " << st;
    for (auto& [id, s] : sessions_) {
      if (!s->active()) continue;
      s->applied = false;
      s->error = absl::StrCat("capture: ", st.message());
    }
  }
  *status = CurrentStatus();
}

void SessionManager::EndSession(Session& s, const std::string& why) {
  if (s.ended) return;
  s.ended = true;
  s.end_reason = why;
  router_.RemoveTraces(&s);
  LOG(INFO) << "session " << s.spec.id() << " ended on this node: " << why;
}

void SessionManager::CheckLimits() {
  const absl::Time now = absl::Now();
  bool changed = false;
  for (auto& [id, s] : sessions_) {
    if (!s->active()) continue;
    if (std::string why = LimitReached(*s, now); !why.empty()) {
      EndSession(*s, why);
      changed = true;
    }
  }
  if (!changed) return;
  source_options_.reset();  // drop the ended sessions' kernel targets
  if (absl::Status st = SyncCapture(); !st.ok()) LOG(ERROR) << "capture: " << st;
  if (options_.on_status_change) options_.on_status_change(CurrentStatus());
}

tracer::v1::PolicyStatus SessionManager::CurrentStatus() const {
  tracer::v1::PolicyStatus st;
  st.set_policy_version(policy_version_);
  for (const auto& [id, s] : sessions_) ReportSession(*s, st.add_sessions());
  return st;
}

void SessionManager::ApplyPending() {
  std::optional<tracer::v1::Policy> policy;
  uint64_t ticket = 0;
  {
    absl::MutexLock l(&mu_);
    policy = std::move(pending_);
    pending_.reset();
    ticket = pending_ticket_;
  }
  if (!policy) return;
  tracer::v1::PolicyStatus st;
  {
    absl::MutexLock l(&state_mu_);
    ApplyNow(*policy, &st);
  }
  absl::MutexLock l(&mu_);
  done_ticket_ = ticket;
  done_status_ = st;
  published_status_ = std::move(st);
}

void SessionManager::RunOnce(int poll_timeout_ms) {
  ApplyPending();
  if (pipeline_.attached()) {
    // Events reach the router on the pipeline's worker (or here, for a
    // source without raw records); state_mu_ is not held meanwhile.
    auto n = pipeline_.PollOnce(poll_timeout_ms);
    if (!n.ok()) {
      LOG_EVERY_N(ERROR, 100) << "capture: " << n.status();
    }
  } else {
    absl::SleepFor(absl::Milliseconds(poll_timeout_ms));
  }
  absl::MutexLock l(&state_mu_);
  const absl::Time now = absl::Now();
  if (!router_.empty()) router_.TickHttp(common::MonotonicNowNs());
  if (now - last_flush_ >= options_.flush_interval) {
    router_.Flush();
    last_flush_ = now;
    tracer::v1::PolicyStatus st = CurrentStatus();
    absl::MutexLock p(&mu_);
    published_status_ = std::move(st);
  }
  CheckLimits();
  PublishCounters();
}

void SessionManager::Shutdown() {
  // Deliver what is still in the ring buffer to the sessions first.
  (void)pipeline_.Detach();
  {
    absl::MutexLock l(&state_mu_);
    for (auto& [id, s] : sessions_) {
      if (!s->ended) {
        s->ended = true;
        s->end_reason = "agent shut down";
      }
    }
    // Ends every trace and closes the capture.
    source_options_.reset();
    if (absl::Status st = SyncCapture(); !st.ok()) LOG(ERROR) << "capture: " << st;
    router_.RemoveTraces(nullptr);
    shut_down_ = true;
  }
  // Answer a policy still waiting in Apply() (its sessions are refused).
  ApplyPending();
  // Every batch appended to the WAL and forwarded.
  if (absl::Status st = pipeline_.Close(); !st.ok()) LOG(ERROR) << "WAL: " << st;
  absl::MutexLock l(&state_mu_);
  PublishCounters();
}

void SessionManager::PublishCounters() {
  const SpanRouterCounters& r = router_.counters();
  const pipeline::NodePipelineCounters p = pipeline_.counters();
  SessionManagerCounters c;
  c.spans_captured = r.spans_captured;
  c.spans_sampled_out = r.spans_sampled_out;
  c.spans_filtered_out = r.spans_filtered_out;
  c.traced_processes = r.traced_processes;
  c.http_spans = r.http_spans;
  c.http_spans_marked = r.http_spans_marked;
  c.captures_opened = captures_opened_;
  c.kernel_drops = drops_closed_sources_ + p.records_dropped;
  if (source_) c.kernel_drops += KernelDrops(source_->Counters());
  c.wal_spans_failed = p.wal.spans_failed;
  for (const auto& [id, s] : sessions_) c.active_sessions += s->active();
  absl::MutexLock l(&mu_);
  published_ = c;
}

SessionManagerCounters SessionManager::Counters() const {
  absl::MutexLock l(&mu_);
  return published_;
}

tracer::v1::PolicyStatus SessionManager::StatusSnapshot() const {
  absl::MutexLock l(&mu_);
  return published_status_;
}

}  // namespace tracer::daemon
