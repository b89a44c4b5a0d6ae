#include "agent/daemon/session_policy.h"

#include <unistd.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "syscalls/syscall_classes.h"
#include "syscalls/syscall_table.h"

namespace tracer::daemon {
namespace {

// The session's syscall set from its classes and names; "" or why not (an
// unknown name is reported over an unknown class).
std::string ResolveSyscalls(const tracer::v1::Capture& cap, Session* s) {
  std::string error;
  for (const std::string& cls : cap.syscall_classes()) {
    auto nrs = syscalls::SyscallsInClass(cls);
    if (!nrs.ok()) {
      error = absl::StrCat("capture.syscall_classes: ", nrs.status().message());
      break;
    }
    s->syscalls.insert(nrs->begin(), nrs->end());
  }
  for (const std::string& name : cap.syscalls()) {
    auto nr = syscalls::SyscallNumber(name);
    if (!nr) {
      error = absl::StrCat("capture.syscalls: unknown syscall '", name, "'");
      break;
    }
    s->syscalls.insert(*nr);
  }
  return error;
}

// "" or what is wrong with `t`.
std::string CheckTarget(const tracer::v1::Target& t, const std::string& proc_root) {
  switch (t.kind_case()) {
    case tracer::v1::Target::kPid:
      if (access(absl::StrCat(proc_root, "/", t.pid()).c_str(), F_OK) != 0) {
        return absl::StrCat("target.pid ", t.pid(), ": no such process on this node");
      }
      return "";
    case tracer::v1::Target::kComm:
      if (t.comm().empty() || t.comm().size() > 15) return "target.comm: must be 1..15 bytes";
      return "";
    case tracer::v1::Target::kCgroupPath:
      if (!absl::StartsWith(t.cgroup_path(), "/")) {
        return "target.cgroup_path: must be an absolute cgroup v2 path";
      }
      return "";
    case tracer::v1::Target::kAllProcesses:
      return "";
    case tracer::v1::Target::KIND_NOT_SET:
      return "target: not set";
  }
  return "";
}

}  // namespace

bool Session::Wants(const capture::SyscallEvent& e) const {
  if (!all_syscalls && syscalls.count(e.nr) == 0) return false;
  return min_ns == 0 || e.duration_ns > min_ns;
}

bool IsActiveState(tracer::v1::Session::State s) {
  return s != tracer::v1::Session::STOPPED && s != tracer::v1::Session::EXPIRED;
}

std::string SessionKey(const tracer::v1::Session& spec) {
  tracer::v1::Session k = spec;
  k.clear_state();
  k.clear_version();
  k.clear_nodes();
  return k.SerializeAsString();
}

std::unique_ptr<Session> NewSession(const tracer::v1::Session& spec, const std::string& proc_root) {
  auto s = std::make_unique<Session>();
  s->spec = spec;
  s->key = SessionKey(spec);
  const auto& cap = spec.capture();
  // The last problem found is the one reported (a bad target over a bad
  // syscall set).
  std::string error = ResolveSyscalls(cap, s.get());
  s->all_syscalls = cap.syscall_classes().empty() && cap.syscalls().empty();
  s->min_ns = cap.min_duration_us() * 1000;
  if (std::string target = CheckTarget(spec.target(), proc_root); !target.empty()) {
    error = std::move(target);
  }
  s->applied = error.empty();
  s->error = std::move(error);
  if (spec.limits().duration_seconds() > 0) {
    absl::Time start = spec.created_unix_nano() != 0
                           ? absl::FromUnixNanos(static_cast<int64_t>(spec.created_unix_nano()))
                           : absl::Now();
    s->deadline = start + absl::Seconds(static_cast<int64_t>(spec.limits().duration_seconds()));
  }
  return s;
}

void ReportSession(const Session& s, tracer::v1::PolicyStatus::SessionState* out) {
  out->set_session_id(s.spec.id());
  out->set_applied(s.active());
  out->set_error(s.ended ? absl::StrCat("ended: ", s.end_reason) : s.error);
  out->set_spans_captured(s.spans_captured);
}

}  // namespace tracer::daemon
