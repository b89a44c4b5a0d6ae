// `tracectl run`, the span stage: where the node pipeline's decoded events
// go. One fan-out feeds the terminal tree (TreePrinter), the --stats table
// (strace::StatsAggregator) and the run's one trace (pipeline::TraceBuilder:
// syscall, process and HTTP spans), and keeps the set of live traced
// processes (the root plus forked children) so the run knows when it is
// over.
#ifndef TRACER_CTL_RUN_RUN_SINKS_H_
#define TRACER_CTL_RUN_RUN_SINKS_H_

#include <cstdint>
#include <memory>
#include <set>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/capture/events.h"
#include "agent/pipeline/trace_builder.h"
#include "agent/strace/stats.h"
#include "ctl/run/run_plan.h"
#include "ctl/run_options.h"
#include "ctl/tree_printer.h"

namespace tracer::ctl::run {

// Feeds every event to several sinks in order. Events arrive on the node
// pipeline's worker thread; AddLive/AnyLive/PruneGone/processes() may be
// called from the polling thread meanwhile.
class EventFanout : public capture::EventSink {
 public:
  // Not owned; must outlive the fan-out. nullptr is ignored. Before events
  // flow only.
  void Add(capture::EventSink* sink);
  void AddLive(uint32_t tgid);
  bool AnyLive() const;
  // Forgets traced processes that no longer exist (their exit record may
  // have been lost to a full ring buffer), so the run cannot hang on them.
  void PruneGone();
  // Read once the events stopped.
  uint64_t syscalls() const { return syscalls_; }
  // The root plus every fork seen.
  uint64_t processes() const;

  void OnSyscall(const capture::SyscallEvent& e) override;
  void OnProcess(const capture::ProcessEvent& e) override;
  void OnSocketOpen(const capture::SocketOpenEvent& e) override;
  void OnSocketData(const capture::SocketDataEvent& e) override;
  void OnSocketClose(const capture::SocketCloseEvent& e) override;

 private:
  std::vector<capture::EventSink*> sinks_;
  mutable absl::Mutex mu_;
  std::set<uint32_t> live_ ABSL_GUARDED_BY(mu_);
  uint64_t syscalls_ = 0;  // worker thread
  uint64_t processes_ ABSL_GUARDED_BY(mu_) = 1;
};

// The sinks of one run, wired into `events()` as the plan asks.
class RunSinks {
 public:
  // `batches` receives the trace's batches (NodePipeline::batch_sink(), or
  // nullptr when nothing is exported); not owned.
  RunSinks(const RunOptions& options, const RunPlan& plan, spans::BatchSink* batches);

  EventFanout& events() { return fanout_; }
  pipeline::TraceBuilder& trace() { return *trace_; }
  // nullptr when not shown / not asked for.
  TreePrinter* tree() { return tree_.get(); }
  strace::StatsAggregator* stats() { return stats_.get(); }

  // Declares the traced root process (tracing of it is in place) at
  // CLOCK_MONOTONIC `now_mono_ns`: its process span, the tree's first line.
  void AddRoot(uint32_t tgid, const std::string& name, uint64_t now_mono_ns);

 private:
  const RunPlan plan_;
  EventFanout fanout_;
  std::unique_ptr<TreePrinter> tree_;
  std::unique_ptr<strace::StatsAggregator> stats_;
  std::unique_ptr<pipeline::TraceBuilder> trace_;
};

}  // namespace tracer::ctl::run

#endif  // TRACER_CTL_RUN_RUN_SINKS_H_
