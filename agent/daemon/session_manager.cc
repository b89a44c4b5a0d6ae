#include "agent/daemon/session_manager.h"

#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "agent/daemon/sampler.h"
#include "agent/protocols/http1/http_flow_tracker.h"
#include "agent/protocols/http1/process_parent.h"
#include "syscalls/syscall_classes.h"
#include "syscalls/syscall_table.h"
#include "glog/logging.h"

namespace tracer::daemon {
namespace {


std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return s;
}

std::string Chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

// The cgroup v2 path of a process from /proc/<pid>/cgroup ("0::/path").
std::string CgroupV2Path(const std::string& cgroup_file) {
  std::istringstream in(cgroup_file);
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "0::")) return line.substr(3);
  }
  return "";
}

bool CgroupMatches(const std::string& proc_path, const std::string& want) {
  if (want == "/") return !proc_path.empty();
  return proc_path == want || absl::StartsWith(proc_path, want + "/");
}

bool IsActiveState(tracer::v1::Session::State s) {
  return s != tracer::v1::Session::STOPPED && s != tracer::v1::Session::EXPIRED;
}

}  // namespace

struct SessionManager::Session {
  tracer::v1::Session spec;
  std::string key;              // spec fields that change the capture
  bool all_syscalls = true;
  std::set<int> syscalls;
  uint64_t min_ns = 0;
  absl::Time deadline = absl::InfiniteFuture();
  bool applied = false;
  std::string error;            // why not applied
  bool ended = false;
  std::string end_reason;
  uint64_t cgroup_id = 0;       // cgroup target: its id in the kernel
  uint64_t syscall_spans = 0;   // routed syscalls (the max_spans limit)
  uint64_t spans_captured = 0;  // spans built
};

class SessionManager::SamplingSink : public spans::BatchSink {
 public:
  SamplingSink(SessionManager* m, Session* s) : m_(m), s_(s) {}
  void set_sampled(bool sampled) { sampled_ = sampled; }
  void OnBatch(std::shared_ptr<const spans::SpanBatch> batch) override {
    const uint64_t n = batch->span_count;
    s_->spans_captured += n;
    m_->local_.spans_captured += n;
    if (sampled_ && batch->sampled && m_->options_.sink != nullptr) {
      m_->options_.sink->OnBatch(std::move(batch));
    } else {
      m_->local_.spans_sampled_out += n;
    }
  }

 private:
  SessionManager* const m_;
  Session* const s_;
  bool sampled_ = true;
};

// HTTP spans of one trace -> its builder (the process's resource, the
// trace's sampling and batches).
class SessionManager::TraceHttpSink : public http::HttpSpanSink {
 public:
  TraceHttpSink(SessionManager* m, spans::SpanBuilder* builder) : m_(m), builder_(builder) {}
  google::protobuf::Arena* SpanArena() override { return builder_->span_arena(); }
  void OnHttpSpan(uint32_t tgid, opentelemetry::proto::trace::v1::Span* span) override {
    ++m_->local_.http_spans;
    for (const auto& kv : span->attributes()) {
      if (kv.key() == "tracer.http.anomaly") {
        ++m_->local_.http_spans_marked;
        break;
      }
    }
    builder_->AddSpan(tgid, span);
  }

 private:
  SessionManager* const m_;
  spans::SpanBuilder* const builder_;
};

struct SessionManager::Trace {
  Session* session = nullptr;
  std::unique_ptr<SamplingSink> sink;       // declared first: outlives builder
  std::unique_ptr<spans::SpanBuilder> builder;
  // capture.http only; destroyed before the builder they feed.
  std::unique_ptr<TraceHttpSink> http_sink;
  std::unique_ptr<http::HttpFlowTracker> http;
  int live = 0;                             // routed tgids

  // Ends the trace at `now`: open HTTP exchanges, then the process spans.
  void Finish(uint64_t now) {
    if (http) http->Finish(now);
    builder->Finish(now);
  }
};

SessionManager::SessionManager(SessionManagerOptions options)
    : options_(std::move(options)),
      self_pid_(options_.self_pid != 0 ? options_.self_pid : static_cast<uint32_t>(getpid())) {}

SessionManager::~SessionManager() = default;

tracer::v1::PolicyStatus SessionManager::Apply(const tracer::v1::Policy& policy) {
  absl::MutexLock l(&mu_);
  pending_ = policy;
  const uint64_t ticket = ++pending_ticket_;
  auto done = [this, ticket]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return done_ticket_ >= ticket;
  };
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

absl::Status SessionManager::SyncCapture() {
  bool any = false;
  capture::CaptureOptions want;
  bool all_syscalls = false;
  std::set<int> union_set;
  uint64_t min_ns = ~uint64_t{0};
  std::set<std::string> want_comms, want_cgroups;
  bool want_all = false;
  for (auto& [id, s] : sessions_) {
    if (s->ended || !s->applied) continue;
    any = true;
    const auto& t = s->spec.target();
    if (t.kind_case() == tracer::v1::Target::kComm) want_comms.insert(t.comm());
    if (t.kind_case() == tracer::v1::Target::kCgroupPath) want_cgroups.insert(t.cgroup_path());
    if (t.kind_case() == tracer::v1::Target::kAllProcesses) want_all = true;
    want.follow_forks |= s->spec.capture().follow_forks();
    want.sockets |= s->spec.capture().http();
    if (s->all_syscalls) all_syscalls = true;
    union_set.insert(s->syscalls.begin(), s->syscalls.end());
    min_ns = std::min(min_ns, s->min_ns);
  }
  if (!all_syscalls) want.syscalls.assign(union_set.begin(), union_set.end());
  want.min_duration_ns = any ? min_ns : 0;
  want.exclude_tgid = self_pid_;
  // Kernel-side targets cannot be removed from a capture: one no longer
  // wanted means a fresh capture.
  bool stale_kernel_targets = kernel_all_ && !want_all;
  for (const auto& c : kernel_comms_) stale_kernel_targets |= want_comms.count(c) == 0;
  for (const auto& [path, id] : kernel_cgroups_) {
    stale_kernel_targets |= want_cgroups.count(path) == 0;
  }
  const bool same = any && source_ && source_options_ && !stale_kernel_targets &&
                    source_options_->follow_forks == want.follow_forks &&
                    source_options_->syscalls == want.syscalls &&
                    source_options_->min_duration_ns == want.min_duration_ns &&
                    source_options_->sockets == want.sockets;
  if (same) {
    // Sessions new to this capture: their kernel-side targets, then their
    // processes that are already running (routed ones are skipped).
    InstallKernelTargets();
    Rescan();
    return absl::OkStatus();
  }
  if (source_) {
    // Deliver what is still in the ring buffer, then end every trace.
    for (int idle = 0, rounds = 0; idle < 2 && rounds < 100; ++rounds) {
      auto n = source_->Poll(*this, 0);
      idle = (!n.ok() || *n == 0) ? idle + 1 : 0;
    }
    const capture::CaptureCounters cc = source_->Counters();
    for (uint64_t d : cc.ringbuf_drops_per_cpu) drops_closed_sources_ += d;
    drops_closed_sources_ += cc.sockets.ringbuf_drops;
    RemoveTraces(nullptr);
    source_.reset();
    source_options_.reset();
  }
  kernel_comms_.clear();
  kernel_cgroups_.clear();
  kernel_all_ = false;
  unrouted_.clear();
  if (!any) return absl::OkStatus();
  auto src = options_.open_source(want);
  if (!src.ok()) return src.status();
  source_ = std::move(*src);
  source_options_ = want;
  ++local_.captures_opened;
  InstallKernelTargets();
  for (auto& [id, s] : sessions_) {
    if (s->ended || !s->applied) continue;
    if (s->spec.target().kind_case() == tracer::v1::Target::kPid) Attach(*s, s->spec.target().pid());
  }
  // Processes of comm/cgroup/all sessions already running; the kernel
  // catches the ones that appear from now on.
  Rescan();
  return absl::OkStatus();
}

void SessionManager::InstallKernelTargets() {
  if (!source_) return;
  for (auto& [id, s] : sessions_) {
    if (s->ended || !s->applied) continue;
    const auto& t = s->spec.target();
    absl::Status st;
    switch (t.kind_case()) {
      case tracer::v1::Target::kComm:
        if (kernel_comms_.count(t.comm()) > 0) break;
        st = source_->AddCommTarget(t.comm());
        if (st.ok()) kernel_comms_.insert(t.comm());
        break;
      case tracer::v1::Target::kCgroupPath: {
        auto it = kernel_cgroups_.find(t.cgroup_path());
        if (it != kernel_cgroups_.end()) {
          s->cgroup_id = it->second;
          break;
        }
        auto cg = source_->AddCgroupTarget(t.cgroup_path());
        if (cg.ok()) {
          s->cgroup_id = *cg;
          kernel_cgroups_[t.cgroup_path()] = *cg;
        } else if (absl::IsNotFound(cg.status())) {
          st = absl::NotFoundError(absl::StrCat("no such cgroup on this node"));
        } else {
          st = cg.status();
        }
        break;
      }
      case tracer::v1::Target::kAllProcesses:
        if (kernel_all_) break;
        st = source_->SetTraceAll(true);
        kernel_all_ = st.ok();
        break;
      case tracer::v1::Target::kPid:
      case tracer::v1::Target::KIND_NOT_SET:
        break;
    }
    if (!st.ok()) {
      s->applied = false;
      const char* field = t.kind_case() == tracer::v1::Target::kComm         ? "target.comm "
                          : t.kind_case() == tracer::v1::Target::kCgroupPath ? "target.cgroup_path "
                                                                             : "target.all_processes";
      const std::string value = t.kind_case() == tracer::v1::Target::kComm ? t.comm()
                                : t.kind_case() == tracer::v1::Target::kCgroupPath
                                    ? t.cgroup_path()
                                    : "";
      s->error = absl::StrCat(field, value, ": ", st.message());
      LOG(WARNING) << "session " << id << " not applied: " << s->error;
    }
  }
}

void SessionManager::ApplyNow(const tracer::v1::Policy& policy,
                              tracer::v1::PolicyStatus* status) {
  policy_version_ = policy.version();
  std::map<std::string, const tracer::v1::Session*> wanted;
  for (const auto& s : policy.sessions()) {
    if (IsActiveState(s.state()) && !s.id().empty()) wanted[s.id()] = &s;
  }
  // Sessions gone, stopped or changed end here.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto w = wanted.find(it->first);
    bool keep = false;
    if (w != wanted.end()) {
      tracer::v1::Session k = *w->second;
      k.clear_state();
      k.clear_version();
      k.clear_nodes();
      keep = k.SerializeAsString() == it->second->key;
    }
    if (keep) {
      ++it;
    } else {
      EndSession(*it->second, "stopped");
      it = sessions_.erase(it);
    }
  }
  for (const auto& [id, spec] : wanted) {
    if (sessions_.count(id) > 0) continue;
    auto s = std::make_unique<Session>();
    s->spec = *spec;
    tracer::v1::Session k = *spec;
    k.clear_state();
    k.clear_version();
    k.clear_nodes();
    s->key = k.SerializeAsString();
    s->applied = true;
    const auto& cap = spec->capture();
    for (const std::string& cls : cap.syscall_classes()) {
      auto nrs = syscalls::SyscallsInClass(cls);
      if (!nrs.ok()) {
        s->applied = false;
        s->error = absl::StrCat("capture.syscall_classes: ", nrs.status().message());
        break;
      }
      s->syscalls.insert(nrs->begin(), nrs->end());
    }
    for (const std::string& name : cap.syscalls()) {
      auto nr = syscalls::SyscallNumber(name);
      if (!nr) {
        s->applied = false;
        s->error = absl::StrCat("capture.syscalls: unknown syscall '", name, "'");
        break;
      }
      s->syscalls.insert(*nr);
    }
    s->all_syscalls = cap.syscall_classes().empty() && cap.syscalls().empty();
    s->min_ns = cap.min_duration_us() * 1000;
    const auto& t = spec->target();
    switch (t.kind_case()) {
      case tracer::v1::Target::kPid:
        if (access(absl::StrCat(options_.proc_root, "/", t.pid()).c_str(), F_OK) != 0) {
          s->applied = false;
          s->error = absl::StrCat("target.pid ", t.pid(), ": no such process on this node");
        }
        break;
      case tracer::v1::Target::kComm:
        if (t.comm().empty() || t.comm().size() > 15) {
          s->applied = false;
          s->error = "target.comm: must be 1..15 bytes";
        }
        break;
      case tracer::v1::Target::kCgroupPath:
        if (!absl::StartsWith(t.cgroup_path(), "/")) {
          s->applied = false;
          s->error = "target.cgroup_path: must be an absolute cgroup v2 path";
        }
        break;
      case tracer::v1::Target::kAllProcesses:
        break;
      case tracer::v1::Target::KIND_NOT_SET:
        s->applied = false;
        s->error = "target: not set";
        break;
    }
    if (spec->limits().duration_seconds() > 0) {
      absl::Time start = spec->created_unix_nano() != 0
                             ? absl::FromUnixNanos(static_cast<int64_t>(spec->created_unix_nano()))
                             : absl::Now();
      s->deadline = start + absl::Seconds(static_cast<int64_t>(spec->limits().duration_seconds()));
    }
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
      if (s->ended || !s->applied) continue;
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
  RemoveTraces(&s);
  LOG(INFO) << "session " << s.spec.id() << " ended on this node: " << why;
}

void SessionManager::RemoveTraces(Session* only) {
  std::set<Trace*> done;
  const uint64_t now = common::MonotonicNowNs();
  for (auto it = routes_.begin(); it != routes_.end();) {
    Trace* t = it->second.get();
    if (only != nullptr && t->session != only) {
      ++it;
      continue;
    }
    if (done.insert(t).second) t->Finish(now);
    it = routes_.erase(it);
  }
  for (auto it = http_lingering_.begin(); it != http_lingering_.end();) {
    Trace* t = it->second.first.get();
    if (only != nullptr && t->session != only) {
      ++it;
      continue;
    }
    if (done.insert(t).second) t->Finish(now);
    it = http_lingering_.erase(it);
  }
}

void SessionManager::Attach(Session& s, uint32_t pid) {
  if (!source_ || pid == self_pid_ || routes_.count(pid) > 0) return;
  if (absl::Status st = source_->AddTarget(pid); !st.ok()) {
    LOG(WARNING) << "session " << s.spec.id() << ": cannot trace pid " << pid << ": " << st;
    return;
  }
  Route(s, pid);
}

bool SessionManager::AdoptKernelMatch(uint32_t tgid) {
  if (!source_ || tgid == self_pid_ || unrouted_.count(tgid) > 0) return false;
  std::optional<capture::KernelAdmission> a = source_->TakeAdmission(tgid);
  Session* match = nullptr;
  if (a) {
    using R = capture::KernelAdmission::Reason;
    for (auto& [id, s] : sessions_) {
      if (s->ended || !s->applied) continue;
      const auto& t = s->spec.target();
      const bool m =
          (a->reason == R::kTraceAll && t.kind_case() == tracer::v1::Target::kAllProcesses) ||
          (a->reason == R::kCgroup && t.kind_case() == tracer::v1::Target::kCgroupPath &&
           s->cgroup_id == a->cgroup_id) ||
          (a->reason == R::kComm && t.kind_case() == tracer::v1::Target::kComm &&
           t.comm() == a->comm);
      if (m) {
        match = s.get();
        break;
      }
    }
  }
  if (match == nullptr) {
    unrouted_.insert(tgid);
    return false;
  }
  Route(*match, tgid);
  return true;
}

void SessionManager::Route(Session& s, uint32_t pid) {
  auto t = std::make_shared<Trace>();
  t->session = &s;
  t->sink = std::make_unique<SamplingSink>(this, &s);
  spans::SpanBuilderOptions bo;
  bo.host_name = options_.host_name;
  bo.resource_attributes.emplace_back("tracer.session.id", s.spec.id());
  bo.max_batch_spans = options_.max_batch_spans;
  bo.read_proc = options_.read_proc;
  t->builder = std::make_unique<spans::SpanBuilder>(bo, t->sink.get());
  if (s.spec.capture().http()) {
    t->http_sink = std::make_unique<TraceHttpSink>(this, t->builder.get());
    http::HttpFlowOptions ho;
    ho.clock = bo.clock;
    ho.parent_lookup = http::ProcessSpanParent(t->builder.get(), bo.parent);
    t->http = std::make_unique<http::HttpFlowTracker>(std::move(ho), t->http_sink.get());
  }
  t->sink->set_sampled(ShouldSample(s.spec.sampling(), t->builder->trace_id(), std::nullopt));
  t->builder->AddRootProcess(pid, common::MonotonicNowNs());
  t->live = 1;
  routes_[pid] = std::move(t);
  ++local_.traced_processes;
}

void SessionManager::Rescan() {
  std::vector<Session*> scanners;
  for (auto& [id, s] : sessions_) {
    if (s->ended || !s->applied) continue;
    if (s->spec.target().kind_case() != tracer::v1::Target::kPid) scanners.push_back(s.get());
  }
  if (scanners.empty() || !source_) return;
  DIR* dir = opendir(options_.proc_root.c_str());
  if (dir == nullptr) return;
  while (dirent* de = readdir(dir)) {
    uint32_t pid = 0;
    if (!absl::SimpleAtoi(de->d_name, &pid) || pid == 0 || pid == self_pid_) continue;
    if (routes_.count(pid) > 0) continue;
    const std::string base = absl::StrCat(options_.proc_root, "/", pid);
    std::optional<std::string> comm, cgroup, cmdline;
    for (Session* s : scanners) {
      const auto& t = s->spec.target();
      bool match = false;
      if (t.kind_case() == tracer::v1::Target::kComm) {
        if (!comm) comm = Chomp(ReadSmallFile(base + "/comm"));
        match = *comm == t.comm();
      } else if (t.kind_case() == tracer::v1::Target::kCgroupPath) {
        if (!cgroup) cgroup = CgroupV2Path(ReadSmallFile(base + "/cgroup"));
        match = CgroupMatches(*cgroup, t.cgroup_path());
      } else if (t.kind_case() == tracer::v1::Target::kAllProcesses) {
        if (!cmdline) cmdline = ReadSmallFile(base + "/cmdline");
        match = !cmdline->empty();  // kernel threads have none
      }
      if (match) {
        Attach(*s, pid);
        break;
      }
    }
  }
  closedir(dir);
}

void SessionManager::OnSyscall(const capture::SyscallEvent& e) {
  auto it = routes_.find(e.tgid);
  if (it == routes_.end()) {
    if (!AdoptKernelMatch(e.tgid)) return;
    it = routes_.find(e.tgid);
  }
  Trace& t = *it->second;
  Session& s = *t.session;
  if (s.ended) return;
  if ((!s.all_syscalls && s.syscalls.count(e.nr) == 0) ||
      (s.min_ns > 0 && e.duration_ns <= s.min_ns)) {
    ++local_.spans_filtered_out;
    return;
  }
  const uint64_t max = s.spec.limits().max_spans();
  if (max > 0 && s.syscall_spans >= max) return;  // ended by CheckLimits soon
  t.builder->OnSyscall(e);
  ++s.syscall_spans;
}

void SessionManager::OnProcess(const capture::ProcessEvent& e) {
  using K = capture::ProcessEvent::Kind;
  if (e.kind == K::kFork) {
    // A parent admitted by the kernel may fork before any of its syscalls
    // is reported (the fork record precedes the clone's own record).
    auto it = routes_.find(e.parent_tgid);
    if (it == routes_.end()) {
      if (!AdoptKernelMatch(e.parent_tgid)) return;
      it = routes_.find(e.parent_tgid);
    }
    std::shared_ptr<Trace> t = it->second;
    if (t->session->ended || !t->session->spec.capture().follow_forks()) return;
    if (routes_.count(e.tgid) == 0) {
      routes_[e.tgid] = t;
      ++t->live;
      ++local_.traced_processes;
    }
    t->builder->OnProcess(e);
    return;
  }
  auto it = routes_.find(e.tgid);
  if (it == routes_.end()) {
    // Also on an exit: a process whose syscalls were all filtered out still
    // gets its process span.
    const bool adopted = AdoptKernelMatch(e.tgid);
    if (e.kind == K::kExit) unrouted_.erase(e.tgid);
    if (!adopted) return;
    it = routes_.find(e.tgid);
  }
  std::shared_ptr<Trace> t = it->second;
  t->builder->OnProcess(e);
  if (e.kind == K::kExit) {
    routes_.erase(it);
    const uint64_t now = common::MonotonicNowNs();
    if (t->http) {
      // Its socket events may still be on their way (another ring buffer):
      // the trace's exchanges end when the linger does (TickHttp).
      http_lingering_[e.tgid] = {t, now + kHttpLingerNs};
      if (--t->live == 0) t->builder->Finish(now);
    } else if (--t->live == 0) {
      t->Finish(now);
    }
  }
}

capture::EventSink* SessionManager::HttpTrackerFor(uint32_t tgid) {
  auto it = routes_.find(tgid);
  if (it == routes_.end()) {
    auto lit = http_lingering_.find(tgid);
    if (lit != http_lingering_.end()) return lit->second.first->http.get();
    // A process the kernel admitted whose first record is a socket event.
    if (!AdoptKernelMatch(tgid)) return nullptr;
    it = routes_.find(tgid);
  }
  const Trace& t = *it->second;
  if (t.session->ended) return nullptr;
  return t.http.get();
}

void SessionManager::OnSocketOpen(const capture::SocketOpenEvent& e) {
  if (capture::EventSink* h = HttpTrackerFor(e.conn.tgid)) h->OnSocketOpen(e);
}

void SessionManager::OnSocketData(const capture::SocketDataEvent& e) {
  if (capture::EventSink* h = HttpTrackerFor(e.conn.tgid)) h->OnSocketData(e);
}

void SessionManager::OnSocketClose(const capture::SocketCloseEvent& e) {
  if (capture::EventSink* h = HttpTrackerFor(e.conn.tgid)) h->OnSocketClose(e);
}

void SessionManager::TickHttp(uint64_t now) {
  // Held here: erasing a lingering entry may drop a trace's last reference.
  std::map<Trace*, std::shared_ptr<Trace>> expired;
  for (auto it = http_lingering_.begin(); it != http_lingering_.end();) {
    if (now >= it->second.second) {
      expired[it->second.first.get()] = it->second.first;
      it = http_lingering_.erase(it);
    } else {
      ++it;
    }
  }
  std::set<Trace*> live;
  for (auto& [pid, t] : routes_) live.insert(t.get());
  for (auto& [pid, entry] : http_lingering_) live.insert(entry.first.get());
  for (auto& [raw, t] : expired) {
    // A trace still holding processes (or other lingering ones) goes on.
    if (live.count(raw) > 0 || t->live > 0) continue;
    t->http->Finish(now);
    t->builder->Flush();
  }
  for (Trace* t : live) {
    if (t->http) t->http->Tick(now);
  }
}

void SessionManager::CheckLimits() {
  const absl::Time now = absl::Now();
  bool changed = false;
  for (auto& [id, s] : sessions_) {
    if (s->ended || !s->applied) continue;
    const uint64_t max = s->spec.limits().max_spans();
    if (max > 0 && s->syscall_spans >= max) {
      EndSession(*s, absl::StrCat("span limit reached (", max, ")"));
      changed = true;
    } else if (now >= s->deadline) {
      EndSession(*s, absl::StrCat("duration limit reached (",
                                  s->spec.limits().duration_seconds(), " s)"));
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
  for (const auto& [id, s] : sessions_) {
    auto* ss = st.add_sessions();
    ss->set_session_id(id);
    ss->set_applied(s->applied && !s->ended);
    ss->set_error(s->ended ? absl::StrCat("ended: ", s->end_reason) : s->error);
    ss->set_spans_captured(s->spans_captured);
  }
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
  ApplyNow(*policy, &st);
  absl::MutexLock l(&mu_);
  done_ticket_ = ticket;
  done_status_ = st;
  published_status_ = std::move(st);
}

void SessionManager::RunOnce(int poll_timeout_ms) {
  ApplyPending();
  if (source_) {
    auto n = source_->Poll(*this, poll_timeout_ms);
    if (!n.ok()) {
      LOG_EVERY_N(ERROR, 100) << "capture: " << n.status();
    }
  } else {
    absl::SleepFor(absl::Milliseconds(poll_timeout_ms));
  }
  const absl::Time now = absl::Now();
  if (!routes_.empty() || !http_lingering_.empty()) TickHttp(common::MonotonicNowNs());
  if (now - last_flush_ >= options_.flush_interval) {
    std::set<Trace*> seen;
    for (auto& [pid, t] : routes_) {
      if (seen.insert(t.get()).second) t->builder->Flush();
    }
    for (auto& [pid, entry] : http_lingering_) {
      if (seen.insert(entry.first.get()).second) entry.first->builder->Flush();
    }
    last_flush_ = now;
    tracer::v1::PolicyStatus st = CurrentStatus();
    absl::MutexLock l(&mu_);
    published_status_ = std::move(st);
  }
  CheckLimits();
  PublishCounters();
}

void SessionManager::Shutdown() {
  // Deliver what is still in the ring buffer to the sessions first.
  for (int idle = 0, rounds = 0; source_ && idle < 2 && rounds < 100; ++rounds) {
    auto n = source_->Poll(*this, 0);
    idle = (!n.ok() || *n == 0) ? idle + 1 : 0;
  }
  for (auto& [id, s] : sessions_) {
    if (!s->ended) {
      s->ended = true;
      s->end_reason = "agent shut down";
    }
  }
  source_options_.reset();
  if (absl::Status st = SyncCapture(); !st.ok()) LOG(ERROR) << "capture: " << st;
  RemoveTraces(nullptr);
  shut_down_ = true;
  // Answer a policy still waiting in Apply() (its sessions are refused).
  ApplyPending();
  PublishCounters();
}

void SessionManager::PublishCounters() {
  SessionManagerCounters c = local_;
  c.kernel_drops = drops_closed_sources_;
  if (source_) {
    const capture::CaptureCounters cc = source_->Counters();
    for (uint64_t d : cc.ringbuf_drops_per_cpu) c.kernel_drops += d;
    c.kernel_drops += cc.sockets.ringbuf_drops;
  }
  c.active_sessions = 0;
  for (const auto& [id, s] : sessions_) c.active_sessions += (s->applied && !s->ended);
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
