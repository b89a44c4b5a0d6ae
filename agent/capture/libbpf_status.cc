#include "agent/capture/libbpf_status.h"

#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace tracer::capture {
namespace {

// The kernel-internal ENOTSUPP that bpf(2) leaks for unsupported features.
constexpr int kKernelEnotsupp = 524;

bool HasCap(const __user_cap_data_struct (&data)[2], int cap) {
  return (data[cap / 32].effective >> (cap % 32)) & 1;
}

// True when the effective set allows loading tracing programs. Then EACCES
// from bpf(2) is the verifier refusing a program, not a missing privilege.
bool CanLoadTracingPrograms() {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return geteuid() == 0;
  constexpr int kCapPerfmon = 38;  // not in older UAPI headers
  constexpr int kCapBpf = 39;
  return HasCap(data, CAP_SYS_ADMIN) || (HasCap(data, kCapBpf) && HasCap(data, kCapPerfmon));
}

}  // namespace

absl::Status LibbpfStatus(int err, absl::string_view what) {
  if (err >= 0) return absl::OkStatus();
  const int e = -err;
  char text[128] = {};
  libbpf_strerror(e, text, sizeof text);
  if (e == EACCES && CanLoadTracingPrograms()) {
    return absl::InternalError(absl::StrCat(
        what, ": ", text, " (the BPF verifier rejected a program; its log is in the libbpf log)"));
  }
  switch (e) {
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(
          absl::StrCat(what, ": ", text,
                       " (tracing with BPF needs root: CAP_BPF and CAP_PERFMON, or "
                       "CAP_SYS_ADMIN)"));
    case ENOENT:
    case EOPNOTSUPP:
    case kKernelEnotsupp:
    case ESRCH:
      return absl::FailedPreconditionError(absl::StrCat(
          what, ": ", text, " (kernel without BTF, raw tracepoints or ring buffers?)"));
    default:
      return absl::InternalError(absl::StrCat(what, ": ", text));
  }
}

absl::Status LibbpfErrnoStatus(absl::string_view what) {
  const int e = errno;
  return LibbpfStatus(e == 0 ? -EINVAL : -e, what);
}

}  // namespace tracer::capture
