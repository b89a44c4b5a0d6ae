// What the active sessions need from the node's one kernel capture: the
// union of their capture sets (CaptureFor), and the kernel-side targets
// (comm, cgroup, all processes) installed in the capture now
// (KernelTargets). Kernel-side targets cannot be removed from a capture:
// one no longer wanted means a fresh capture (KernelTargets::Stale).
#ifndef TRACER_AGENT_DAEMON_KERNEL_TARGETS_H_
#define TRACER_AGENT_DAEMON_KERNEL_TARGETS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "agent/capture/event_source.h"
#include "agent/daemon/session_policy.h"

namespace tracer::daemon {

// The capture the active sessions of `sessions` need.
struct CaptureWant {
  bool any = false;                 // some session is active
  capture::CaptureOptions options;  // union of sets, lowest threshold, forks, sockets
  std::set<std::string> comms;      // comm targets
  std::set<std::string> cgroups;    // cgroup targets
  bool all = false;                 // an all_processes target
};

// `self_pid` is never admitted by the kernel (CaptureOptions::exclude_tgid).
CaptureWant CaptureFor(const SessionMap& sessions, uint32_t self_pid);

// Whether a capture opened with `opened` serves `want` as it is (same
// settings; kernel-side targets may be added, see KernelTargets::Stale).
bool SameCapture(const capture::CaptureOptions& opened, const CaptureWant& want);

// The kernel-side targets installed in the current capture. Not
// thread-safe (the session manager's capture thread).
class KernelTargets {
 public:
  // Whether a target installed now is no longer wanted.
  bool Stale(const CaptureWant& want) const;

  // Installs in `source` the comm / cgroup / all targets of the active
  // sessions that it lacks, and sets each cgroup session's cgroup_id. A
  // session whose target cannot be installed is marked not applied with the
  // reason (e.g. "target.cgroup_path /x: no such cgroup on this node").
  void Install(capture::EventSource& source, SessionMap& sessions);

  // The capture was closed: nothing is installed.
  void Clear();

 private:
  std::set<std::string> comms_;
  std::map<std::string, uint64_t> cgroups_;  // cgroup path -> id
  bool all_ = false;
};

}  // namespace tracer::daemon

#endif  // TRACER_AGENT_DAEMON_KERNEL_TARGETS_H_
