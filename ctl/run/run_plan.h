// `tracectl run`, step 1: what the options ask for, decided once (trace
// context and sampling, which outputs, HTTP, capture settings).
#ifndef TRACER_CTL_RUN_RUN_PLAN_H_
#define TRACER_CTL_RUN_RUN_PLAN_H_

#include <optional>
#include <string>

#include "agent/capture/event_source.h"
#include "agent/spans/trace_context.h"
#include "ctl/run/exit_codes.h"
#include "ctl/run_options.h"

namespace tracer::ctl::run {

struct RunPlan {
  // W3C trace context: --trace-parent, else TRACEPARENT/TRACESTATE.
  std::optional<spans::TraceContext> parent;
  bool sampled = true;       // no parent, or its sampled flag is on
  bool want_export = false;  // an OTLP endpoint is configured (flag or env)
  bool want_spans = false;   // spans are built: export or --output
  // Like strace -o, --output sends the trace to the file instead of the
  // terminal; -q and --stats silence the tree too.
  bool show_tree = false;
  // HTTP spans are shown in the tree or built into spans; a --stats table
  // alone has no use for them.
  bool http_on = false;
  // --stats without spans: the kernel aggregates, no records per syscall.
  bool stats_only = false;
};

// Prints the options' warnings, checks that we run as root and parses the
// trace parent. Returns the plan, or the exit code to stop with (the reason
// printed).
std::optional<int> PlanRun(const RunOptions& options, const EnvLookup& env, RunPlan* plan);

// The kernel capture's settings for `options` under `plan`.
capture::CaptureOptions CaptureOptionsFor(const RunOptions& options, const RunPlan& plan);

}  // namespace tracer::ctl::run

#endif  // TRACER_CTL_RUN_RUN_PLAN_H_
