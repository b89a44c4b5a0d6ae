// One session of the control plane's Policy (proto/tracer/v1/session.proto)
// as this agent holds it: its validated capture set, threshold and
// deadline, whether it was applied (and why not), whether it ended here
// (and why), and its span counts. NewSession() validates a spec; the
// session manager (session_manager.h) owns the sessions.
#ifndef TRACER_AGENT_DAEMON_SESSION_POLICY_H_
#define TRACER_AGENT_DAEMON_SESSION_POLICY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "agent/capture/events.h"
#include "tracer/v1/agent.pb.h"
#include "tracer/v1/session.pb.h"

namespace tracer::daemon {

struct Session {
  tracer::v1::Session spec;
  std::string key;  // SessionKey(spec): the fields that change the capture
  bool all_syscalls = true;
  std::set<int> syscalls;                        // the session's own set (classes + names)
  uint64_t min_ns = 0;                           // capture.min_duration_us, in ns
  absl::Time deadline = absl::InfiniteFuture();  // limits.duration_seconds
  bool applied = false;
  std::string error;  // why not applied
  bool ended = false;
  std::string end_reason;
  uint64_t cgroup_id = 0;       // cgroup target: its id in the kernel
  uint64_t syscall_spans = 0;   // routed syscalls (the max_spans limit)
  uint64_t spans_captured = 0;  // spans built

  // Applied and not ended: its targets are traced.
  bool active() const { return applied && !ended; }
  // Whether syscall `e` passes the session's own set and duration
  // threshold (the kernel captures the union of every session's).
  bool Wants(const capture::SyscallEvent& e) const;
};

// Sessions by id (the first by id wins a process several sessions match).
using SessionMap = std::map<std::string, std::unique_ptr<Session>>;

// Whether a session in state `s` is to be captured (not STOPPED/EXPIRED).
bool IsActiveState(tracer::v1::Session::State s);

// The spec without the fields that do not change what is captured (state,
// version, nodes), serialized: equal keys mean the session goes on as is.
std::string SessionKey(const tracer::v1::Session& spec);

// The session for `spec`, validated: applied = false with the reason when
// a syscall class or name is unknown or the target is invalid ("target.pid
// N: no such process on this node" under `proc_root`, a comm outside 1..15
// bytes, a relative cgroup path, no target). The deadline runs from
// created_unix_nano, or from now when the control plane did not set it.
std::unique_ptr<Session> NewSession(const tracer::v1::Session& spec, const std::string& proc_root);

// Its entry in the PolicyStatus reported to the control plane.
void ReportSession(const Session& s, tracer::v1::PolicyStatus::SessionState* out);

}  // namespace tracer::daemon

#endif  // TRACER_AGENT_DAEMON_SESSION_POLICY_H_
