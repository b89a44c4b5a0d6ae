// The one /proc scan a session gets when it is applied: processes already
// running that match a comm, cgroup or all_processes target (the kernel
// admits the ones that appear later by itself; see kernel_targets.h).
//  - comm: /proc/<pid>/comm equals the target's comm;
//  - cgroup_path: the cgroup v2 path in /proc/<pid>/cgroup's "0::" line is
//    the target's path or below it ("/" matches every process with one);
//  - all_processes: every process with a command line (no kernel threads).
#ifndef TRACER_AGENT_DAEMON_PROC_SCAN_H_
#define TRACER_AGENT_DAEMON_PROC_SCAN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/daemon/session_policy.h"

namespace tracer::daemon {

// The cgroup v2 path of a process from the text of /proc/<pid>/cgroup
// ("0::/path"), or "" when it has none.
std::string CgroupV2Path(const std::string& cgroup_file);

// Whether a process in cgroup `proc_path` is in `want` or below it.
bool CgroupMatches(const std::string& proc_path, const std::string& want);

// One pass over the processes under `proc_root` (except `self_pid` and
// those `skip` returns true for): each process goes to the first session
// of `scanners` (comm, cgroup or all targets, in session-id order) whose
// target it matches, through `on_match`. Each /proc file is read at most
// once per process. A missing `proc_root` scans nothing.
void ScanProc(const std::string& proc_root, uint32_t self_pid,
              const std::vector<Session*>& scanners, const std::function<bool(uint32_t)>& skip,
              const std::function<void(Session&, uint32_t)>& on_match);

}  // namespace tracer::daemon

#endif  // TRACER_AGENT_DAEMON_PROC_SCAN_H_
