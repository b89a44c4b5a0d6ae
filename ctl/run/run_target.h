// `tracectl run`, the traced process: a command tracectl starts (held at a
// gate until the kernel traces it, like strace) or a process it attaches to
// (-p PID); the signal handling of a run; and when the run is over.
#ifndef TRACER_CTL_RUN_RUN_TARGET_H_
#define TRACER_CTL_RUN_RUN_TARGET_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "agent/capture/event_source.h"
#include "ctl/child_process.h"
#include "ctl/run/run_sinks.h"
#include "ctl/run_options.h"

namespace tracer::ctl::run {

// Not thread-safe: the thread running the command calls everything.
class RunTarget {
 public:
  // Spawns the command (held before its execve) or checks that -p PID
  // exists. On failure prints why and returns the exit code
  // (kExitCannotStart, kExitCannotTrace).
  static std::optional<int> Start(const RunOptions& options, std::unique_ptr<RunTarget>* out);

  // Installs the run's signal handling (after the child was forked, so it
  // starts with default dispositions): SIGTERM/SIGHUP end the run; SIGINT
  // detaches from -p PID, and is left to the command otherwise.
  void InstallSignalHandlers() const;

  // Starts tracing the root in `source` and declares it to `sinks` (with
  // strace's "Process N attached" line for -p unless -q). On failure prints
  // why and returns kExitCannotTrace.
  std::optional<int> Trace(capture::EventSource& source, RunSinks& sinks) const;

  // Lets a spawned command run (no-op for -p). On failure prints why, reaps
  // the child and returns kExitCannotStart.
  std::optional<int> Release();

  // Polling thread, after each poll that took `polled` records: whether the
  // run is over (root gone and, with -f, every traced process gone; or a
  // signal, with strace's "Process N detached" line for -p unless -q).
  bool Done(int polled, EventFanout& events);

  // The command's exit code (shell convention), 0 for -p or while running.
  int exit_code() const { return exit_code_; }

 private:
  RunTarget(const RunOptions& options) : options_(options) {}

  const RunOptions& options_;
  std::optional<GatedChild> child_;
  uint32_t root_ = 0;
  std::string root_name_;
  bool root_done_ = false;
  int exit_code_ = 0;
};

}  // namespace tracer::ctl::run

#endif  // TRACER_CTL_RUN_RUN_TARGET_H_
