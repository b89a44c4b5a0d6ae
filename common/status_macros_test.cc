#include "common/status_macros.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace tracer::common {
namespace {

int g_calls = 0;

absl::Status Fails() {
  ++g_calls;
  return absl::NotFoundError("missing");
}
absl::Status Succeeds() {
  ++g_calls;
  return absl::OkStatus();
}
absl::StatusOr<std::unique_ptr<int>> Value(bool ok) {
  ++g_calls;
  if (!ok) return absl::InvalidArgumentError("bad");
  return std::make_unique<int>(42);
}

absl::Status UseReturn(bool fail) {
  RETURN_IF_ERROR(Succeeds());
  if (fail) RETURN_IF_ERROR(Fails());
  return absl::OkStatus();
}

absl::StatusOr<int> UseAssign(bool ok) {
  ASSIGN_OR_RETURN(std::unique_ptr<int> v, Value(ok));  // move-only value
  ASSIGN_OR_RETURN(auto w, Value(true));
  return *v + *w;
}

TEST(StatusMacros, ReturnIfErrorPassesTheErrorUnchangedAndEvaluatesOnce) {
  g_calls = 0;
  absl::Status s = UseReturn(true);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "missing");
  EXPECT_EQ(g_calls, 2);
  EXPECT_TRUE(UseReturn(false).ok());
}

TEST(StatusMacros, AssignOrReturnMovesTheValueOrReturnsTheError) {
  g_calls = 0;
  absl::StatusOr<int> bad = UseAssign(false);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(g_calls, 1);  // stopped at the first failure
  absl::StatusOr<int> good = UseAssign(true);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 84);
}

}  // namespace
}  // namespace tracer::common
