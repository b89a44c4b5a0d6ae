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
#include "tracer/v1/session_limits.h"

namespace tracer::controlplane {

// The bounds are tracer/v1/session_limits.h's (shared with tracectl).
using v1::kMaxCgroupPathBytes;
using v1::kMaxCommBytes;
using v1::kMaxLabelKeyBytes;
using v1::kMaxLabelValueBytes;
using v1::kMaxMinDurationUs;
using v1::kMaxPid;
using v1::kMaxSelectorLabels;
using v1::kMaxSelectorNameBytes;
using v1::kMaxSelectorNames;
using v1::kMaxSessionDurationSeconds;
using v1::kMaxSessionNameBytes;
using v1::kMaxSessionSpans;
using v1::kMaxSyscallClassBytes;
using v1::kMaxSyscallClasses;
using v1::kMaxSyscallNameBytes;
using v1::kMaxSyscallNames;

// OK if `session` satisfies every bound above; otherwise INVALID_ARGUMENT
// whose message starts with the offending field's path, e.g.
// "session.target.comm: longer than 15 bytes". Pure and thread-safe.
absl::Status ValidateSession(const v1::Session& session);

// Bounds shared with the agent-facing API: a node selector as above
// (`field` is the path used in messages, e.g. "session.nodes").
absl::Status ValidateNodeSelector(const v1::NodeSelector& nodes, const char* field);

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_SESSIONS_SESSION_VALIDATION_H_
