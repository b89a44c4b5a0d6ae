// `tracectl run`: trace one command (or an attached process) end to end with
// no daemons, over the node pipeline (agent/pipeline/node_pipeline.h): BPF
// capture → spill → terminal tree / stats table / the run's trace → WAL
// (when spans leave the node) → OTLP JSON file / OTLP export. The steps are
// in ctl/run/ (plan, export, sinks, target, summary).
#ifndef TRACER_CTL_RUN_COMMAND_H_
#define TRACER_CTL_RUN_COMMAND_H_

#include "ctl/run/exit_codes.h"
#include "ctl/run_options.h"

namespace tracer::ctl {

// Runs the trace described by `options` and returns tracectl's exit code.
// Diagnostics go to stderr.
int RunCommand(const RunOptions& options);

}  // namespace tracer::ctl

#endif  // TRACER_CTL_RUN_COMMAND_H_
