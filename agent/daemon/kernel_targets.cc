#include "agent/daemon/kernel_targets.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace tracer::daemon {

CaptureWant CaptureFor(const SessionMap& sessions, uint32_t self_pid) {
  CaptureWant want;
  bool all_syscalls = false;
  std::set<int> union_set;
  uint64_t min_ns = ~uint64_t{0};
  for (const auto& [id, s] : sessions) {
    if (!s->active()) continue;
    want.any = true;
    const auto& t = s->spec.target();
    if (t.kind_case() == tracer::v1::Target::kComm) want.comms.insert(t.comm());
    if (t.kind_case() == tracer::v1::Target::kCgroupPath) want.cgroups.insert(t.cgroup_path());
    if (t.kind_case() == tracer::v1::Target::kAllProcesses) want.all = true;
    want.options.follow_forks |= s->spec.capture().follow_forks();
    want.options.sockets |= s->spec.capture().http();
    if (s->all_syscalls) all_syscalls = true;
    union_set.insert(s->syscalls.begin(), s->syscalls.end());
    min_ns = std::min(min_ns, s->min_ns);
  }
  if (!all_syscalls) want.options.syscalls.assign(union_set.begin(), union_set.end());
  want.options.min_duration_ns = want.any ? min_ns : 0;
  want.options.exclude_tgid = self_pid;
  return want;
}

bool SameCapture(const capture::CaptureOptions& opened, const CaptureWant& want) {
  return opened.follow_forks == want.options.follow_forks &&
         opened.syscalls == want.options.syscalls &&
         opened.min_duration_ns == want.options.min_duration_ns &&
         opened.sockets == want.options.sockets;
}

bool KernelTargets::Stale(const CaptureWant& want) const {
  bool stale = all_ && !want.all;
  for (const auto& c : comms_) stale |= want.comms.count(c) == 0;
  for (const auto& [path, id] : cgroups_) stale |= want.cgroups.count(path) == 0;
  return stale;
}

void KernelTargets::Clear() {
  comms_.clear();
  cgroups_.clear();
  all_ = false;
}

namespace {

// "target.comm x", "target.cgroup_path /x", "target.all_processes".
std::string TargetName(const tracer::v1::Target& t) {
  switch (t.kind_case()) {
    case tracer::v1::Target::kComm:
      return absl::StrCat("target.comm ", t.comm());
    case tracer::v1::Target::kCgroupPath:
      return absl::StrCat("target.cgroup_path ", t.cgroup_path());
    case tracer::v1::Target::kAllProcesses:
    case tracer::v1::Target::kPid:
    case tracer::v1::Target::KIND_NOT_SET:
      break;
  }
  return "target.all_processes";
}

}  // namespace

void KernelTargets::Install(capture::EventSource& source, SessionMap& sessions) {
  for (auto& [id, s] : sessions) {
    if (!s->active()) continue;
    const auto& t = s->spec.target();
    absl::Status st;
    switch (t.kind_case()) {
      case tracer::v1::Target::kComm:
        if (comms_.count(t.comm()) > 0) break;
        st = source.AddCommTarget(t.comm());
        if (st.ok()) comms_.insert(t.comm());
        break;
      case tracer::v1::Target::kCgroupPath: {
        auto it = cgroups_.find(t.cgroup_path());
        if (it != cgroups_.end()) {
          s->cgroup_id = it->second;
          break;
        }
        auto cg = source.AddCgroupTarget(t.cgroup_path());
        if (cg.ok()) {
          s->cgroup_id = *cg;
          cgroups_[t.cgroup_path()] = *cg;
        } else if (absl::IsNotFound(cg.status())) {
          st = absl::NotFoundError("no such cgroup on this node");
        } else {
          st = cg.status();
        }
        break;
      }
      case tracer::v1::Target::kAllProcesses:
        if (all_) break;
        st = source.SetTraceAll(true);
        all_ = st.ok();
        break;
      case tracer::v1::Target::kPid:
      case tracer::v1::Target::KIND_NOT_SET:
        break;
    }
    if (!st.ok()) {
      s->applied = false;
      s->error = absl::StrCat(TargetName(t), ": ", st.message());
      LOG(WARNING) << "session " << id << " not applied: " << s->error;
    }
  }
}

}  // namespace tracer::daemon
