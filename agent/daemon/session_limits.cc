#include "agent/daemon/session_limits.h"

#include "absl/strings/str_cat.h"

namespace tracer::daemon {

bool AtSpanLimit(const Session& s) {
  const uint64_t max = s.spec.limits().max_spans();
  return max > 0 && s.syscall_spans >= max;
}

std::string LimitReached(const Session& s, absl::Time now) {
  if (AtSpanLimit(s)) {
    return absl::StrCat("span limit reached (", s.spec.limits().max_spans(), ")");
  }
  if (now >= s.deadline) {
    return absl::StrCat("duration limit reached (", s.spec.limits().duration_seconds(), " s)");
  }
  return "";
}

}  // namespace tracer::daemon
