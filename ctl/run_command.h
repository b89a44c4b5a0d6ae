// `tracectl run`: trace one command (or an attached process) end to end with
// no daemons: BPF capture → span builder → terminal tree / stats table /
// OTLP JSON file / OTLP export.
#ifndef TRACER_CTL_RUN_COMMAND_H_
#define TRACER_CTL_RUN_COMMAND_H_

#include "ctl/run_options.h"

namespace tracer::ctl {

// Exit codes besides the traced command's own (see RunUsage()).
inline constexpr int kExitUsage = 2;
inline constexpr int kExitCannotTrace = 1;
inline constexpr int kExitExportFailed = 69;  // sysexits.h EX_UNAVAILABLE

// Runs the trace described by `options` and returns tracectl's exit code.
// Diagnostics go to stderr.
int RunCommand(const RunOptions& options);

}  // namespace tracer::ctl

#endif  // TRACER_CTL_RUN_COMMAND_H_
