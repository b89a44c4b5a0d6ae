#include "otlp/delivery/failure_reason.h"

#include "gtest/gtest.h"
#include "otlp/http_status.h"
#include "otlp/retry_policy.h"

namespace tracer::otlp::delivery {
namespace {

TEST(FailureReasonTest, GrpcCodesInSnakeCase) {
  EXPECT_EQ(FailureReason(absl::UnavailableError("x")), "unavailable");
  EXPECT_EQ(FailureReason(absl::DeadlineExceededError("x")), "deadline_exceeded");
  EXPECT_EQ(FailureReason(absl::InvalidArgumentError("x")), "invalid_argument");
  EXPECT_EQ(FailureReason(absl::ResourceExhaustedError("x")), "resource_exhausted");
}

TEST(FailureReasonTest, HttpStatusWins) {
  EXPECT_EQ(
      FailureReason(otlp::WithHttpStatus(otlp::MarkRetryable(absl::UnavailableError("x")), 503)),
      "http_503");
  // Messages are not parsed: without the payload, the status code names it.
  EXPECT_EQ(FailureReason(absl::UnauthenticatedError(
                "otlp/http/json https://h/v1/traces: HTTP 401: no token")),
            "unauthenticated");
}

}  // namespace
}  // namespace tracer::otlp::delivery
