// `tracectl resend DIR`: sends the spans a `tracectl run` kept in its
// write-ahead log DIR (because its export failed) to an OTLP backend with
// the export engine, from where the log's cursor stopped, and removes DIR
// once every batch is acknowledged. An interrupted resend resumes at the
// cursor: acknowledged batches are never sent again (the batch on the wire
// when it was interrupted may be, once: delivery is at-least-once).
#ifndef TRACER_CTL_RESEND_COMMAND_H_
#define TRACER_CTL_RESEND_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/otlp_flags.h"

namespace tracer::ctl {

struct ResendOptions {
  std::string dir;  // the run's write-ahead log directory
  OtlpFlags otlp;   // the backend (flags over OTEL_EXPORTER_OTLP_*)
  bool help = false;
};

// Parses the words after `tracectl resend`. Errors: INVALID_ARGUMENT naming
// the flag, or a missing / extra DIR.
absl::StatusOr<ResendOptions> ParseResendOptions(const std::vector<std::string>& args);

// The usage text of `tracectl resend`.
const char* ResendUsage();

// Runs the resend and returns tracectl's exit code: 0 when every span was
// delivered (DIR removed), kExitExportFailed (69) when some are still unsent
// (DIR kept: run the same command again) or the backend refused some
// (dead-lettered beside DIR), 1 when DIR is not a run's log or cannot be
// opened, 2 for configuration errors. Progress and the summary go to stderr.
int ResendCommand(const ResendOptions& options, const otlp::EnvLookup& env);

}  // namespace tracer::ctl

#endif  // TRACER_CTL_RESEND_COMMAND_H_
