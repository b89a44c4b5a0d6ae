#include "storage/wal.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace tracer::storage {

absl::StatusOr<CapPolicy> ParseCapPolicy(std::string_view text) {
  if (text == "block") return CapPolicy::kBlock;
  if (text == "drop_oldest") return CapPolicy::kDropOldest;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown WAL cap policy '", std::string(text), "' (want block or drop_oldest)"));
}

std::string_view CapPolicyName(CapPolicy policy) {
  switch (policy) {
    case CapPolicy::kBlock:
      return "block";
    case CapPolicy::kDropOldest:
      return "drop_oldest";
  }
  return "unknown";
}

}  // namespace tracer::storage
