#include "otlp/http_status.h"

#include "gtest/gtest.h"
#include "otlp/retry_policy.h"

namespace tracer::otlp {
namespace {

TEST(HttpStatusTest, PayloadRoundTripsAndKeepsRetryableMark) {
  absl::Status s = MarkRetryable(absl::UnavailableError("x"), absl::Seconds(3));
  s = WithHttpStatus(s, 503);
  EXPECT_EQ(HttpStatusOf(s), 503);
  EXPECT_TRUE(IsMarkedRetryable(s));
  EXPECT_EQ(RetryAfterOf(s), absl::Seconds(3));
}

TEST(HttpStatusTest, NoStatusWhenNoneWasReported) {
  EXPECT_EQ(HttpStatusOf(absl::UnavailableError("otlp/grpc x: UNAVAILABLE: down")), std::nullopt);
  // Messages are not parsed: only the payload counts.
  EXPECT_EQ(HttpStatusOf(absl::InvalidArgumentError("x: HTTP 400: bad span")), std::nullopt);
  EXPECT_EQ(HttpStatusOf(absl::OkStatus()), std::nullopt);
}

}  // namespace
}  // namespace tracer::otlp
