#include "otlp/http_status.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tracer::otlp {
namespace {

constexpr char kHttpStatusUrl[] = "type.tracer.dev/tracer.exporting.HttpStatus";

bool InRange(int s) { return s >= 100 && s <= 599; }

}  // namespace

absl::Status WithHttpStatus(absl::Status status, int http_status) {
  status.SetPayload(kHttpStatusUrl, absl::Cord(absl::StrCat(http_status)));
  return status;
}

std::optional<int> HttpStatusOf(const absl::Status& status) {
  if (status.ok()) return std::nullopt;
  if (auto payload = status.GetPayload(kHttpStatusUrl)) {
    int value = 0;
    if (absl::SimpleAtoi(std::string(*payload), &value) && InRange(value)) return value;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace tracer::otlp
