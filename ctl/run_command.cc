// `tracectl run` as a sequence of steps: plan (options, trace context,
// sampling) → export destinations → capture → node pipeline and sinks →
// target → run until the traced processes are gone → drain → finish the
// spans → stats table, export, summary → exit code.
#include "ctl/run_command.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/capture/event_source.h"
#include "agent/pipeline/node_pipeline.h"
#include "common/clock.h"
#include "common/memory_reuse.h"
#include "ctl/run/run_export.h"
#include "ctl/run/run_plan.h"
#include "ctl/run/run_sinks.h"
#include "ctl/run/run_summary.h"
#include "ctl/run/run_target.h"
#include "ctl/tree_printer.h"

namespace tracer::ctl {
namespace {

using run::Fail;

pipeline::NodePipelineOptions PipelineOptions(const run::RunExport* exports) {
  pipeline::NodePipelineOptions p;
  p.wal = exports != nullptr ? exports->wal() : nullptr;
  p.sink = exports != nullptr ? exports->sink() : nullptr;
  // The terminal tree is flushed on the tick: at most this late.
  p.tick_interval = absl::Milliseconds(50);
  return p;
}

// Runs the released target under trace until it is over, drains the
// pipeline and finishes the trace's spans.
// The worker has stopped when this returns: the sinks are ours again.
int TraceUntilDone(pipeline::NodePipeline& node, capture::EventSource& source,
                   run::RunTarget& target, run::RunSinks& sinks) {
  pipeline::TraceBuilder& trace = sinks.trace();
  TreePrinter* tree = sinks.tree();
  pipeline::TickFn tick;
  // The HTTP tracker's timeouts are driven on the thread that feeds it; the
  // tree's pending lines go out on the same tick.
  if (trace.has_http() || tree != nullptr) {
    tick = [&trace, tree](uint64_t now) {
      if (trace.has_http()) trace.Tick(now);
      if (tree != nullptr) tree->Flush();
    };
  }
  node.Attach(&source, &sinks.events(), std::move(tick));
  absl::Status st = node.RunUntil([&](int polled) { return target.Done(polled, sinks.events()); });
  if (!st.ok()) run::PrintError(absl::StrCat("capture failed: ", st.message()));
  if (st = node.Detach(); !st.ok()) run::PrintError(absl::StrCat("capture failed: ", st.message()));
  // Exchanges still open end as closed, before the process spans end.
  sinks.trace().Finish(common::MonotonicNowNs());
  if (tree != nullptr) tree->Flush();  // before anything else is printed
  return target.exit_code();
}

}  // namespace

int RunCommand(const RunOptions& o) {
  const EnvLookup env = ProcessEnv();
  run::RunPlan plan;
  if (auto rc = run::PlanRun(o, env, &plan)) return *rc;
  // The span path reuses its large blocks (batches, WAL memtables); the
  // tree-only run has neither and keeps glibc's defaults.
  if (plan.want_spans) common::KeepFreedMemoryForReuse();
  auto exports = run::RunExport::Create(o, env, plan.want_spans, plan.sampled);
  if (!exports.ok()) return Fail(kExitUsage, exports.status().message());
  auto source = capture::OpenBpfEventSource(run::CaptureOptionsFor(o, plan));
  if (!source.ok()) {
    return Fail(kExitCannotTrace,
                absl::StrCat("cannot start tracing: ", source.status().message()));
  }
  if (*exports) {
    if (auto st = (*exports)->OpenWal(o.data_dir, plan.want_export); !st.ok()) {
      return Fail(kExitCannotTrace, absl::StrCat("write-ahead log: ", st.message()));
    }
  }
  pipeline::NodePipeline node(PipelineOptions(exports->get()));
  run::RunSinks sinks(o, plan, node.batch_sink());
  std::unique_ptr<run::RunTarget> target;
  if (auto rc = run::RunTarget::Start(o, &target)) return *rc;
  target->InstallSignalHandlers();
  if (auto rc = target->Trace(**source, sinks)) return *rc;
  if (auto rc = target->Release()) return *rc;
  int rc = TraceUntilDone(node, **source, *target, sinks);
  const capture::CaptureCounters captured = (*source)->Counters();
  run::PrintStatsTable(o, plan, **source, sinks);
  const absl::Status wal_status = node.Close();
  if (*exports) rc = (*exports)->Finish(wal_status, rc);
  run::PrintRunSummary(o, plan, captured, node.counters(), sinks,
                       *exports ? (*exports)->Summary() : "");
  return rc;
}

}  // namespace tracer::ctl
