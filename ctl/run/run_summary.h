// `tracectl run`, the end: the --stats table, and the summary line that says
// what was traced and every place that lost events (DESIGN.md: nothing is
// lost silently), plus the HTTP tracker's anomalies.
#ifndef TRACER_CTL_RUN_RUN_SUMMARY_H_
#define TRACER_CTL_RUN_RUN_SUMMARY_H_

#include <string>

#include "agent/capture/event_source.h"
#include "agent/pipeline/node_pipeline.h"
#include "ctl/run/run_plan.h"
#include "ctl/run/run_sinks.h"
#include "ctl/run_options.h"

namespace tracer::ctl::run {

// With --stats, prints the strace -c style table on stderr: the kernel's
// totals (stats_only) or the aggregator's.
void PrintStatsTable(const RunOptions& options, const RunPlan& plan,
                     const capture::EventSource& source, RunSinks& sinks);

// Prints the summary line (or, with -q, only the losses, if any) and the
// HTTP anomalies on stderr, once the pipeline has stopped. `exported` is the
// export's summary ("" when nothing is exported).
void PrintRunSummary(const RunOptions& options, const RunPlan& plan,
                     const capture::CaptureCounters& capture,
                     const pipeline::NodePipelineCounters& node, RunSinks& sinks,
                     const std::string& exported);

}  // namespace tracer::ctl::run

#endif  // TRACER_CTL_RUN_RUN_SUMMARY_H_
