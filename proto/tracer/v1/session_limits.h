// Bounds on the fields of tracer.v1 Session, Target, Capture, Limits and
// NodeSelector (session.proto). The one place they are set: the control
// plane enforces them (controlplane/sessions/session_validation.h) and
// tracectl checks a session against the same numbers before sending it, so
// a client never refuses what the server accepts, or the reverse.
#ifndef TRACER_PROTO_TRACER_V1_SESSION_LIMITS_H_
#define TRACER_PROTO_TRACER_V1_SESSION_LIMITS_H_

#include <cstddef>
#include <cstdint>

namespace tracer::v1 {

inline constexpr size_t kMaxSessionNameBytes = 128;   // Session.name
inline constexpr size_t kMaxSessionIdBytes = 64;      // Session.id, as given in requests
inline constexpr size_t kMaxSelectorNames = 256;      // NodeSelector.names entries
inline constexpr size_t kMaxSelectorNameBytes = 253;  // one node name (a DNS name)
inline constexpr size_t kMaxSelectorLabels = 32;      // NodeSelector.labels pairs
inline constexpr size_t kMaxLabelKeyBytes = 128;
inline constexpr size_t kMaxLabelValueBytes = 256;
inline constexpr uint32_t kMaxPid = 4194304;         // Linux PID_MAX_LIMIT
inline constexpr size_t kMaxCgroupPathBytes = 4096;  // PATH_MAX
inline constexpr size_t kMaxCommBytes = 15;          // TASK_COMM_LEN - 1
inline constexpr size_t kMaxSyscallClasses = 32;     // Capture.syscall_classes entries
inline constexpr size_t kMaxSyscallClassBytes = 32;  // one class name
inline constexpr size_t kMaxSyscallNames = 512;      // Capture.syscalls entries
inline constexpr size_t kMaxSyscallNameBytes = 64;   // one syscall name
inline constexpr uint64_t kMaxMinDurationUs = uint64_t{3600} * 1000000;  // 1 h, in µs
inline constexpr uint64_t kMaxSessionDurationSeconds = 7 * 24 * 3600;    // 7 days
inline constexpr uint64_t kMaxSessionSpans = uint64_t{1000000000000};    // 10^12

}  // namespace tracer::v1

#endif  // TRACER_PROTO_TRACER_V1_SESSION_LIMITS_H_
