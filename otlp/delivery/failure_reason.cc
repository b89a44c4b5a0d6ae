#include "otlp/delivery/failure_reason.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "otlp/http_status.h"

namespace tracer::otlp::delivery {

std::string FailureReason(const absl::Status& status) {
  if (std::optional<int> http = otlp::HttpStatusOf(status)) {
    return absl::StrCat("http_", *http);
  }
  // StatusCodeToString gives "UNAVAILABLE", "DEADLINE_EXCEEDED", ...
  return absl::AsciiStrToLower(absl::StatusCodeToString(status.code()));
}

}  // namespace tracer::otlp::delivery
