#include "ctl/run/run_sinks.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/clock.h"

namespace tracer::ctl::run {

void EventFanout::Add(capture::EventSink* sink) {
  if (sink != nullptr) sinks_.push_back(sink);
}

void EventFanout::AddLive(uint32_t tgid) {
  absl::MutexLock l(&mu_);
  live_.insert(tgid);
}

bool EventFanout::AnyLive() const {
  absl::MutexLock l(&mu_);
  return !live_.empty();
}

void EventFanout::PruneGone() {
  absl::MutexLock l(&mu_);
  for (auto it = live_.begin(); it != live_.end();) {
    if (kill(static_cast<pid_t>(*it), 0) != 0 && errno == ESRCH) {
      it = live_.erase(it);
    } else {
      ++it;
    }
  }
}

uint64_t EventFanout::processes() const {
  absl::MutexLock l(&mu_);
  return processes_;
}

void EventFanout::OnSyscall(const capture::SyscallEvent& e) {
  ++syscalls_;
  for (auto* s : sinks_) s->OnSyscall(e);
}

void EventFanout::OnProcess(const capture::ProcessEvent& e) {
  {
    absl::MutexLock l(&mu_);
    if (e.kind == capture::ProcessEvent::Kind::kFork) {
      live_.insert(e.tgid);
      ++processes_;
    } else if (e.kind == capture::ProcessEvent::Kind::kExit) {
      live_.erase(e.tgid);
    }
  }
  for (auto* s : sinks_) s->OnProcess(e);
}

void EventFanout::OnSocketOpen(const capture::SocketOpenEvent& e) {
  for (auto* s : sinks_) s->OnSocketOpen(e);
}

void EventFanout::OnSocketData(const capture::SocketDataEvent& e) {
  for (auto* s : sinks_) s->OnSocketData(e);
}

void EventFanout::OnSocketClose(const capture::SocketCloseEvent& e) {
  for (auto* s : sinks_) s->OnSocketClose(e);
}

namespace {

pipeline::TraceBuilderOptions TraceOptionsFor(const RunOptions& o, const RunPlan& plan,
                                              TreePrinter* tree) {
  pipeline::TraceBuilderOptions t;
  t.spans.parent = plan.parent;
  t.spans.service_name = o.service_name;
  t.spans.resource_attributes = o.resource_attributes;
  t.spans.max_batch_spans = o.max_export_batch_spans;
  t.spans.clock = common::ClockOffset::Measure();
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  t.spans.host_name = host;
  t.build_spans = plan.want_spans;
  // HTTP flows: socket events -> tracker -> spans in the trace (children of
  // their process's span unless a request's traceparent says otherwise) and
  // lines in the tree (printed first, the span then joins the trace).
  t.http = plan.http_on;
  if (tree != nullptr) {
    t.on_http_span = [tree](uint32_t tgid, const opentelemetry::proto::trace::v1::Span& span) {
      tree->OnHttpSpan(tgid, span);
    };
  }
  return t;
}

}  // namespace

RunSinks::RunSinks(const RunOptions& o, const RunPlan& plan, spans::BatchSink* batches)
    : plan_(plan) {
  if (plan.show_tree) {
    tree_ = std::make_unique<TreePrinter>(stderr);
    fanout_.Add(tree_.get());
  }
  if (o.stats && !plan.stats_only) {
    stats_ = std::make_unique<strace::StatsAggregator>();
    fanout_.Add(stats_.get());
  }
  trace_ = std::make_unique<pipeline::TraceBuilder>(TraceOptionsFor(o, plan, tree_.get()), batches);
  if (plan.want_spans || plan.http_on) fanout_.Add(trace_.get());
}

void RunSinks::AddRoot(uint32_t tgid, const std::string& name, uint64_t now_mono_ns) {
  fanout_.AddLive(tgid);
  if (plan_.want_spans) trace_->span_builder().AddRootProcess(tgid, now_mono_ns);
  if (tree_) {
    std::fprintf(stderr, "trace %s%s\n", spans::HexId(trace_->span_builder().trace_id()).c_str(),
                 plan_.sampled ? "" : " (not sampled: printed here, not exported)");
    tree_->AddRoot(tgid, name);
  }
}

}  // namespace tracer::ctl::run
