// The one place where libbpf's error convention (negative errno returned, or
// NULL with errno set) becomes an absl::Status. Everything else in
// agent/capture/ calls these instead of interpreting errno itself.
#ifndef TRACER_AGENT_CAPTURE_LIBBPF_STATUS_H_
#define TRACER_AGENT_CAPTURE_LIBBPF_STATUS_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace tracer::capture {

// Converts a libbpf/bpf(2) result to a Status. `err` is a libbpf return value:
// 0 or positive (a count or an fd) means success; negative is -errno. `what` names the failed step
// ("load BPF programs") and starts the message. Mapping:
//   EPERM, EACCES         -> PERMISSION_DENIED, saying root (CAP_BPF +
//                            CAP_PERFMON) is required; but EACCES while the
//                            caller holds those capabilities is the verifier
//                            rejecting a program -> INTERNAL
//   ENOENT, EOPNOTSUPP,
//   ENOTSUPP (524), ESRCH -> FAILED_PRECONDITION (kernel lacks BTF, a
//                            tracepoint or a program/map type)
//   EINVAL                -> INTERNAL (usually a verifier rejection; the
//                            verifier log went to the libbpf log)
//   anything else         -> INTERNAL
// The message carries libbpf's errno text. Thread-safe.
absl::Status LibbpfStatus(int err, absl::string_view what);

// Same for the libbpf calls that return a pointer and set errno on failure:
// call right after such a call returned NULL.
absl::Status LibbpfErrnoStatus(absl::string_view what);

}  // namespace tracer::capture

#endif  // TRACER_AGENT_CAPTURE_LIBBPF_STATUS_H_
