#include "controlplane/export/http_status.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace tracer::exporting {
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
  absl::string_view message = status.message();
  constexpr absl::string_view kMarker = ": HTTP ";
  for (size_t pos = message.find(kMarker); pos != absl::string_view::npos;
       pos = message.find(kMarker, pos + 1)) {
    absl::string_view rest = message.substr(pos + kMarker.size());
    if (rest.size() >= 4 && absl::ascii_isdigit(rest[0]) && absl::ascii_isdigit(rest[1]) &&
        absl::ascii_isdigit(rest[2]) && rest[3] == ':') {
      int value = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
      if (InRange(value)) return value;
    }
  }
  return std::nullopt;
}

}  // namespace tracer::exporting
