#include "otlp/retry_policy.h"

#include <optional>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::otlp {
namespace {

using ::testing::ElementsAre;

TEST(RetryClassification, GrpcCodesPerSpec) {
  for (auto c : {absl::StatusCode::kCancelled, absl::StatusCode::kDeadlineExceeded,
                 absl::StatusCode::kAborted, absl::StatusCode::kOutOfRange,
                 absl::StatusCode::kUnavailable, absl::StatusCode::kDataLoss}) {
    EXPECT_TRUE(IsRetryableGrpcCode(c, false)) << c;
  }
  EXPECT_FALSE(IsRetryableGrpcCode(absl::StatusCode::kResourceExhausted, false));
  EXPECT_TRUE(IsRetryableGrpcCode(absl::StatusCode::kResourceExhausted, true));
  for (auto c :
       {absl::StatusCode::kUnknown, absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
        absl::StatusCode::kAlreadyExists, absl::StatusCode::kPermissionDenied,
        absl::StatusCode::kFailedPrecondition, absl::StatusCode::kUnimplemented,
        absl::StatusCode::kInternal, absl::StatusCode::kUnauthenticated}) {
    EXPECT_FALSE(IsRetryableGrpcCode(c, true)) << c;
  }
}

TEST(RetryClassification, HttpStatusesPerSpec) {
  std::vector<int> retryable;
  for (int s = 100; s < 600; ++s) {
    if (IsRetryableHttpStatus(s)) retryable.push_back(s);
  }
  EXPECT_THAT(retryable, ElementsAre(429, 502, 503, 504));
}

TEST(RetryAfter, SecondsAndHttpDate) {
  absl::Time now = absl::FromUnixSeconds(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now), absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
}

TEST(RetryMarks, PayloadRoundTrip) {
  absl::Status s = MarkRetryable(absl::UnavailableError("x"), absl::Milliseconds(1500));
  EXPECT_TRUE(IsMarkedRetryable(s));
  EXPECT_EQ(RetryAfterOf(s), absl::Milliseconds(1500));
  EXPECT_FALSE(IsMarkedRetryable(absl::UnavailableError("x")));
  EXPECT_EQ(RetryAfterOf(MarkRetryable(absl::UnavailableError("x"))), std::nullopt);
}

}  // namespace
}  // namespace tracer::otlp
