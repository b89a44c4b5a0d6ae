#include "agent/daemon/span_router.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/daemon/session_limits.h"
#include "agent/pipeline/sampler.h"
#include "common/clock.h"
#include "glog/logging.h"
#include "otlp/wire/span_record.h"

namespace tracer::daemon {

SpanRouter::SpanRouter(SpanRouterOptions options, SessionMap* sessions)
    : options_(std::move(options)), sessions_(sessions) {}

SpanRouter::~SpanRouter() = default;

void SpanRouter::SetSource(capture::EventSource* source) {
  source_ = source;
  unrouted_.clear();
}

void SpanRouter::Attach(Session& s, uint32_t pid) {
  if (source_ == nullptr || pid == options_.self_pid || Routed(pid)) return;
  if (absl::Status st = source_->AddTarget(pid); !st.ok()) {
    LOG(WARNING) << "session " << s.spec.id() << ": cannot trace pid " << pid << ": " << st;
    return;
  }
  Route(s, pid);
}

void SpanRouter::Route(Session& s, uint32_t pid) {
  pipeline::TraceBuilderOptions o;
  o.spans.host_name = options_.host_name;
  o.spans.resource_attributes.emplace_back("tracer.session.id", s.spec.id());
  o.spans.max_batch_spans = options_.max_batch_spans;
  o.spans.read_proc = options_.read_proc;
  o.http = s.spec.capture().http();
  o.sampler = [&s](const spans::TraceId& id) {
    return pipeline::ShouldSample(s.spec.sampling(), id, std::nullopt);
  };
  o.on_batch = [this, &s](const spans::SpanBatch& batch, bool passed_on) {
    s.spans_captured += batch.span_count();
    counters_.spans_captured += batch.span_count();
    if (!passed_on) counters_.spans_sampled_out += batch.span_count();
  };
  o.on_http_record = [this](uint32_t, const otlp::wire::SpanRecord& span) {
    ++counters_.http_spans;
    for (const otlp::wire::Attribute& a : span.attributes) {
      if (a.key == "tracer.http.anomaly") {
        ++counters_.http_spans_marked;
        break;
      }
    }
  };
  auto t = std::make_shared<SessionTrace>();
  t->session = &s;
  t->spans = std::make_unique<pipeline::TraceBuilder>(std::move(o), options_.batches);
  t->spans->span_builder().AddRootProcess(pid, common::MonotonicNowNs());
  t->live = 1;
  routes_[pid] = std::move(t);
  ++counters_.traced_processes;
}

bool SpanRouter::AdoptKernelMatch(uint32_t tgid) {
  if (source_ == nullptr || tgid == options_.self_pid || unrouted_.count(tgid) > 0) return false;
  std::optional<capture::KernelAdmission> a = source_->TakeAdmission(tgid);
  Session* match = nullptr;
  if (a) {
    using R = capture::KernelAdmission::Reason;
    for (auto& [id, s] : *sessions_) {
      if (!s->active()) continue;
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

SessionTrace* SpanRouter::TraceOf(uint32_t tgid) {
  auto it = routes_.find(tgid);
  if (it != routes_.end()) return it->second.get();
  if (!AdoptKernelMatch(tgid)) return nullptr;
  return routes_.find(tgid)->second.get();
}

void SpanRouter::OnSyscall(const capture::SyscallEvent& e) {
  SessionTrace* t = TraceOf(e.tgid);
  if (t == nullptr) return;
  Session& s = *t->session;
  if (s.ended) return;
  if (!s.Wants(e)) {
    ++counters_.spans_filtered_out;
    return;
  }
  if (AtSpanLimit(s)) return;  // ended by the limits check soon
  t->spans->OnSyscall(e);
  ++s.syscall_spans;
}

void SpanRouter::OnProcess(const capture::ProcessEvent& e) {
  using K = capture::ProcessEvent::Kind;
  if (e.kind == K::kFork) {
    // A parent admitted by the kernel may fork before any of its syscalls
    // is reported (the fork record precedes the clone's own record).
    SessionTrace* parent = TraceOf(e.parent_tgid);
    if (parent == nullptr) return;
    std::shared_ptr<SessionTrace> t = routes_[e.parent_tgid];
    if (t->session->ended || !t->session->spec.capture().follow_forks()) return;
    if (routes_.count(e.tgid) == 0) {
      routes_[e.tgid] = t;
      ++t->live;
      ++counters_.traced_processes;
    }
    t->spans->OnProcess(e);
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
  std::shared_ptr<SessionTrace> t = it->second;
  t->spans->OnProcess(e);
  if (e.kind != K::kExit) return;
  routes_.erase(it);
  const uint64_t now = common::MonotonicNowNs();
  if (t->spans->has_http()) {
    // Its socket events may still be on their way (another ring buffer):
    // the trace's exchanges end when the linger does (TickHttp).
    linger_.Add(e.tgid, t, now + kHttpLingerNs);
    if (--t->live == 0) t->spans->span_builder().Finish(now);
  } else if (--t->live == 0) {
    t->spans->Finish(now);
  }
}

capture::EventSink* SpanRouter::HttpFor(uint32_t tgid) {
  auto it = routes_.find(tgid);
  if (it == routes_.end()) {
    if (SessionTrace* lingering = linger_.Find(tgid)) return lingering->spans.get();
  }
  // A process the kernel admitted whose first record is a socket event.
  SessionTrace* t = TraceOf(tgid);
  if (t == nullptr || t->session->ended || !t->spans->has_http()) return nullptr;
  return t->spans.get();
}

void SpanRouter::OnSocketOpen(const capture::SocketOpenEvent& e) {
  if (capture::EventSink* h = HttpFor(e.conn.tgid)) h->OnSocketOpen(e);
}

void SpanRouter::OnSocketData(const capture::SocketDataEvent& e) {
  if (capture::EventSink* h = HttpFor(e.conn.tgid)) h->OnSocketData(e);
}

void SpanRouter::OnSocketClose(const capture::SocketCloseEvent& e) {
  if (capture::EventSink* h = HttpFor(e.conn.tgid)) h->OnSocketClose(e);
}

void SpanRouter::RemoveTraces(const Session* only) {
  std::set<SessionTrace*> done;
  const uint64_t now = common::MonotonicNowNs();
  auto selected = [only](const SessionTrace& t) { return only == nullptr || t.session == only; };
  auto finish = [&done, now](SessionTrace& t) {
    if (done.insert(&t).second) t.spans->Finish(now);
  };
  for (auto it = routes_.begin(); it != routes_.end();) {
    if (!selected(*it->second)) {
      ++it;
      continue;
    }
    finish(*it->second);
    it = routes_.erase(it);
  }
  linger_.RemoveIf(selected, finish);
}

void SpanRouter::Flush() {
  std::set<SessionTrace*> seen;
  auto flush = [&seen](SessionTrace& t) {
    if (seen.insert(&t).second) t.spans->Flush();
  };
  for (auto& [pid, t] : routes_) flush(*t);
  linger_.ForEachTrace(flush);
}

void SpanRouter::TickHttp(uint64_t now) {
  std::map<SessionTrace*, std::shared_ptr<SessionTrace>> expired = linger_.TakeExpired(now);
  std::set<SessionTrace*> live;
  for (auto& [pid, t] : routes_) live.insert(t.get());
  linger_.ForEachTrace([&live](SessionTrace& t) { live.insert(&t); });
  for (auto& [raw, t] : expired) {
    // A trace still holding processes (or other lingering ones) goes on.
    if (live.count(raw) > 0 || t->live > 0) continue;
    t->spans->FinishHttp(now);
    t->spans->Flush();
  }
  for (SessionTrace* t : live) t->spans->Tick(now);
}

}  // namespace tracer::daemon
