#include "controlplane/sessions/session_validation.h"

#include <cmath>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "syscalls/syscall_classes.h"
#include "syscalls/syscall_table.h"

namespace tracer::controlplane {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

absl::Status CheckLength(absl::string_view field, absl::string_view value, size_t min, size_t max) {
  if (value.size() < min) return Invalid(field, "is empty");
  if (value.size() > max) {
    return Invalid(field, absl::StrCat("longer than ", max, " bytes"));
  }
  if (value.find('\0') != absl::string_view::npos) {
    return Invalid(field, "contains a NUL byte");
  }
  return absl::OkStatus();
}

absl::Status ValidateTarget(const v1::Target& target) {
  switch (target.kind_case()) {
    case v1::Target::kPid:
      if (target.pid() == 0 || target.pid() > kMaxPid) {
        return Invalid("session.target.pid", absl::StrCat("must be in 1..", kMaxPid));
      }
      return absl::OkStatus();
    case v1::Target::kCgroupPath: {
      const std::string& path = target.cgroup_path();
      RETURN_IF_ERROR(CheckLength("session.target.cgroup_path", path, 1, kMaxCgroupPathBytes));
      if (path[0] != '/') {
        return Invalid("session.target.cgroup_path", "must be absolute (start with '/')");
      }
      for (absl::string_view part : absl::StrSplit(path, '/')) {
        if (part == "." || part == "..") {
          return Invalid("session.target.cgroup_path", "must not contain '.' or '..' components");
        }
      }
      return absl::OkStatus();
    }
    case v1::Target::kComm:
      if (absl::Status s = CheckLength("session.target.comm", target.comm(), 1, kMaxCommBytes);
          !s.ok()) {
        return s;
      }
      if (target.comm().find('/') != std::string::npos) {
        return Invalid("session.target.comm", "is a task name, not a path (contains '/')");
      }
      return absl::OkStatus();
    case v1::Target::kAllProcesses:
      if (!target.all_processes()) {
        return Invalid("session.target.all_processes", "must be true when set");
      }
      return absl::OkStatus();
    case v1::Target::KIND_NOT_SET:
      break;
  }
  return Invalid("session.target",
                 "exactly one of pid, cgroup_path, comm, all_processes is "
                 "required");
}

absl::Status ValidateCapture(const v1::Capture& capture) {
  if (capture.syscall_classes_size() > static_cast<int>(kMaxSyscallClasses)) {
    return Invalid("session.capture.syscall_classes",
                   absl::StrCat("more than ", kMaxSyscallClasses, " entries"));
  }
  for (int i = 0; i < capture.syscall_classes_size(); ++i) {
    const std::string& cls = capture.syscall_classes(i);
    std::string field = absl::StrCat("session.capture.syscall_classes[", i, "]");
    RETURN_IF_ERROR(CheckLength(field, cls, 1, kMaxSyscallClassBytes));
    if (!syscalls::SyscallsInClass(cls).ok()) {
      return Invalid(field, absl::StrCat("unknown syscall class \"", cls, "\""));
    }
  }
  if (capture.syscalls_size() > static_cast<int>(kMaxSyscallNames)) {
    return Invalid("session.capture.syscalls",
                   absl::StrCat("more than ", kMaxSyscallNames, " entries"));
  }
  for (int i = 0; i < capture.syscalls_size(); ++i) {
    const std::string& name = capture.syscalls(i);
    std::string field = absl::StrCat("session.capture.syscalls[", i, "]");
    RETURN_IF_ERROR(CheckLength(field, name, 1, kMaxSyscallNameBytes));
    if (!syscalls::SyscallNumber(name).has_value()) {
      return Invalid(field, absl::StrCat("unknown syscall \"", name, "\""));
    }
  }
  if (capture.min_duration_us() > kMaxMinDurationUs) {
    return Invalid("session.capture.min_duration_us",
                   absl::StrCat("greater than ", kMaxMinDurationUs, " µs"));
  }
  return absl::OkStatus();
}

absl::Status ValidateSampling(const v1::Sampling& sampling) {
  if (!v1::Sampling::Sampler_IsValid(sampling.sampler())) {
    return Invalid("session.sampling.sampler",
                   absl::StrCat("unknown sampler ", sampling.sampler()));
  }
  const double ratio = sampling.ratio();
  if (!std::isfinite(ratio) || ratio < 0.0 || ratio > 1.0) {
    return Invalid("session.sampling.ratio", "must be in [0, 1]");
  }
  return absl::OkStatus();
}

absl::Status ValidateLimits(const v1::Limits& limits) {
  if (limits.duration_seconds() > kMaxSessionDurationSeconds) {
    return Invalid("session.limits.duration_seconds",
                   absl::StrCat("greater than ", kMaxSessionDurationSeconds, " (7 days)"));
  }
  if (limits.max_spans() > kMaxSessionSpans) {
    return Invalid("session.limits.max_spans", absl::StrCat("greater than ", kMaxSessionSpans));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateNodeSelector(const v1::NodeSelector& nodes, const char* field) {
  const int kinds =
      (nodes.all() ? 1 : 0) + (nodes.names_size() > 0 ? 1 : 0) + (nodes.labels_size() > 0 ? 1 : 0);
  if (kinds != 1) {
    return Invalid(field, "exactly one of all, names, labels is required");
  }
  if (nodes.names_size() > static_cast<int>(kMaxSelectorNames)) {
    return Invalid(absl::StrCat(field, ".names"),
                   absl::StrCat("more than ", kMaxSelectorNames, " entries"));
  }
  for (int i = 0; i < nodes.names_size(); ++i) {
    RETURN_IF_ERROR(CheckLength(absl::StrCat(field, ".names[", i, "]"), nodes.names(i), 1,
                                kMaxSelectorNameBytes));
  }
  if (nodes.labels_size() > static_cast<int>(kMaxSelectorLabels)) {
    return Invalid(absl::StrCat(field, ".labels"),
                   absl::StrCat("more than ", kMaxSelectorLabels, " pairs"));
  }
  for (const auto& [key, value] : nodes.labels()) {
    RETURN_IF_ERROR(CheckLength(absl::StrCat(field, ".labels (key)"), key, 1, kMaxLabelKeyBytes));
    RETURN_IF_ERROR(
        CheckLength(absl::StrCat(field, ".labels[", key, "]"), value, 0, kMaxLabelValueBytes));
  }
  return absl::OkStatus();
}

absl::Status ValidateSession(const v1::Session& session) {
  if (absl::Status s = CheckLength("session.name", session.name(), 0, kMaxSessionNameBytes);
      !s.ok()) {
    return s;
  }
  if (!session.has_nodes()) {
    return Invalid("session.nodes", "is required");
  }
  RETURN_IF_ERROR(ValidateNodeSelector(session.nodes(), "session.nodes"));
  if (!session.has_target()) {
    return Invalid("session.target", "is required");
  }
  RETURN_IF_ERROR(ValidateTarget(session.target()));
  RETURN_IF_ERROR(ValidateCapture(session.capture()));
  RETURN_IF_ERROR(ValidateSampling(session.sampling()));
  return ValidateLimits(session.limits());
}

}  // namespace tracer::controlplane
