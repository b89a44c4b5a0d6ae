#include "otlp/delivery/circuit_breaker.h"

#include "gtest/gtest.h"

namespace tracer::otlp::delivery {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1700000000);

TEST(CircuitBreakerTest, OpensAfterThresholdConsecutiveFailures) {
  CircuitBreaker b({/*failure_threshold=*/3, /*open_for=*/absl::Seconds(30)});
  EXPECT_FALSE(b.OnFailure(kT0));
  EXPECT_FALSE(b.OnFailure(kT0));
  EXPECT_EQ(b.state(), CircuitState::kClosed);
  EXPECT_EQ(b.WaitBeforeAttempt(kT0), absl::ZeroDuration());
  EXPECT_TRUE(b.OnFailure(kT0 + absl::Seconds(1)));
  EXPECT_EQ(b.state(), CircuitState::kOpen);
  EXPECT_EQ(b.WaitBeforeAttempt(kT0 + absl::Seconds(11)), absl::Seconds(20));
  EXPECT_EQ(b.state(), CircuitState::kOpen);
}

TEST(CircuitBreakerTest, SuccessResetsTheCount) {
  CircuitBreaker b({2, absl::Seconds(30)});
  b.OnFailure(kT0);
  b.OnSuccess();
  EXPECT_FALSE(b.OnFailure(kT0));
  EXPECT_EQ(b.state(), CircuitState::kClosed);
}

TEST(CircuitBreakerTest, HalfOpenProbeClosesOnSuccessAndReopensOnFailure) {
  CircuitBreaker b({1, absl::Seconds(30)});
  EXPECT_TRUE(b.OnFailure(kT0));
  EXPECT_EQ(b.WaitBeforeAttempt(kT0 + absl::Seconds(30)), absl::ZeroDuration());
  EXPECT_EQ(b.state(), CircuitState::kHalfOpen);
  EXPECT_TRUE(b.OnFailure(kT0 + absl::Seconds(31)));  // the probe failed
  EXPECT_EQ(b.state(), CircuitState::kOpen);
  EXPECT_EQ(b.open_until(), kT0 + absl::Seconds(61));
  EXPECT_EQ(b.WaitBeforeAttempt(kT0 + absl::Seconds(61)), absl::ZeroDuration());
  b.OnSuccess();
  EXPECT_EQ(b.state(), CircuitState::kClosed);
  EXPECT_EQ(b.consecutive_failures(), 0);
}

TEST(CircuitBreakerTest, StateNames) {
  EXPECT_EQ(CircuitStateName(CircuitState::kClosed), "closed");
  EXPECT_EQ(CircuitStateName(CircuitState::kOpen), "open");
  EXPECT_EQ(CircuitStateName(CircuitState::kHalfOpen), "half-open");
}

}  // namespace
}  // namespace tracer::otlp::delivery
