// Validation of sessions submitted by tracectl (ControlService.StartSession)
// before the control plane accepts them (DESIGN.md, "Security": every request
// field bounded and validated; a bad request changes nothing).
//
// Bounds, all in bytes of UTF-8 / raw proto string:
//   session.name                         <= 128
//   session.nodes: exactly one of all / names / labels
//     names                              1..256 entries, each 1..253 bytes
//     labels                             1..32 pairs, key 1..128, value <= 256
//   session.target: exactly one kind
//     pid                                1..4194304 (PID_MAX_LIMIT)
//     cgroup_path                        absolute, <= 4096, no "." / ".."
//                                        components, no NUL
//     comm                               1..15 bytes (TASK_COMM_LEN - 1), no
//                                        '/' and no NUL
//     all_processes                      must be true
//   session.capture.syscall_classes      <= 32, each a class of
//                                        syscalls/syscall_classes.h
//   session.capture.syscalls             <= 512, each an x86-64 syscall name
//   session.capture.min_duration_us      <= 3.6e9 (one hour)
//   session.sampling.sampler             a known Sampler value
//   session.sampling.ratio               finite, in [0, 1]
//   session.limits.duration_seconds      <= 604800 (7 days)
//   session.limits.max_spans             <= 1e12
// Fields the control plane assigns (id, state, times, created_by, version)
// are ignored.
#ifndef TRACER_CONTROLPLANE_SESSIONS_SESSION_VALIDATION_H_
#define TRACER_CONTROLPLANE_SESSIONS_SESSION_VALIDATION_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "tracer/v1/session.pb.h"

namespace tracer::controlplane {

inline constexpr size_t kMaxSessionNameBytes = 128;
inline constexpr size_t kMaxSelectorNames = 256;
inline constexpr size_t kMaxSelectorNameBytes = 253;
inline constexpr size_t kMaxSelectorLabels = 32;
inline constexpr size_t kMaxLabelKeyBytes = 128;
inline constexpr size_t kMaxLabelValueBytes = 256;
inline constexpr uint32_t kMaxPid = 4194304;
inline constexpr size_t kMaxCgroupPathBytes = 4096;
inline constexpr size_t kMaxCommBytes = 15;
inline constexpr size_t kMaxSyscallClasses = 32;
inline constexpr size_t kMaxSyscallNames = 512;
inline constexpr uint64_t kMaxMinDurationUs = uint64_t{3600} * 1000000;
inline constexpr uint64_t kMaxSessionDurationSeconds = 7 * 24 * 3600;
inline constexpr uint64_t kMaxSessionSpans = uint64_t{1000000000000};

// OK if `session` satisfies every bound above; otherwise INVALID_ARGUMENT
// whose message starts with the offending field's path, e.g.
// "session.target.comm: longer than 15 bytes". Pure and thread-safe.
absl::Status ValidateSession(const v1::Session& session);

// Bounds shared with the agent-facing API: a node selector as above
// (`field` is the path used in messages, e.g. "session.nodes").
absl::Status ValidateNodeSelector(const v1::NodeSelector& nodes,
                                  const char* field);

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_SESSIONS_SESSION_VALIDATION_H_
