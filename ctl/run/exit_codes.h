// Exit codes of `tracectl run` besides the traced command's own (see
// RunUsage()), and the one-line error report of every step.
#ifndef TRACER_CTL_RUN_EXIT_CODES_H_
#define TRACER_CTL_RUN_EXIT_CODES_H_

#include <cstdio>
#include <string>

#include "absl/strings/string_view.h"

namespace tracer::ctl {

inline constexpr int kExitUsage = 2;
inline constexpr int kExitCannotTrace = 1;
inline constexpr int kExitExportFailed = 69;  // sysexits.h EX_UNAVAILABLE
inline constexpr int kExitCannotStart = 127;  // the command could not be started

namespace run {

// Prints "tracectl run: <message>" on stderr.
inline void PrintError(absl::string_view message) {
  std::fprintf(stderr, "tracectl run: %s\n", std::string(message).c_str());
}

// PrintError(message), then returns `exit_code`.
inline int Fail(int exit_code, absl::string_view message) {
  PrintError(message);
  return exit_code;
}

}  // namespace run
}  // namespace tracer::ctl

#endif  // TRACER_CTL_RUN_EXIT_CODES_H_
