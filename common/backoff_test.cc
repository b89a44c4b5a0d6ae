#include "common/backoff.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::common {
namespace {

using ::testing::ElementsAre;

TEST(Backoff, ProportionalGrowsByMultiplierUpToMaxWithJitterBounds) {
  BackoffPolicy p;  // 5s, x1.5, max 30s, factor 0.5
  Backoff lowest(p, [] { return 0.0; });
  Backoff middle(p, [] { return 0.5; });
  Backoff highest(p, [] { return 0.999999; });
  std::vector<double> mid, lo, hi;
  for (int i = 0; i < 7; ++i) {
    mid.push_back(absl::ToDoubleSeconds(middle.Next()));
    lo.push_back(absl::ToDoubleSeconds(lowest.Next()));
    hi.push_back(absl::ToDoubleSeconds(highest.Next()));
  }
  EXPECT_THAT(mid, ElementsAre(5, 7.5, 11.25, 16.875, 25.3125, 30, 30));
  EXPECT_DOUBLE_EQ(lo[0], 2.5);
  EXPECT_DOUBLE_EQ(lo[6], 15);
  EXPECT_NEAR(hi[0], 7.5, 1e-4);
  EXPECT_NEAR(hi[6], 45, 1e-4);
}

TEST(Backoff, FullJitterStaysWithinTheCappedInterval) {
  Backoff highest(ReconnectBackoff(absl::Milliseconds(100), absl::Seconds(1)),
                  [] { return 0.999999; });
  std::vector<double> ms;
  for (int i = 0; i < 6; ++i) ms.push_back(absl::ToDoubleMilliseconds(highest.Next()));
  EXPECT_NEAR(ms[0], 100, 1e-3);
  EXPECT_NEAR(ms[1], 200, 1e-3);
  EXPECT_NEAR(ms[3], 800, 1e-3);
  EXPECT_NEAR(ms[4], 1000, 1e-3);  // capped: never above max, jitter included
  EXPECT_NEAR(ms[5], 1000, 1e-3);
  Backoff lowest(ReconnectBackoff(absl::Milliseconds(100), absl::Seconds(1)), [] { return 0.0; });
  EXPECT_EQ(lowest.Next(), absl::ZeroDuration());
}

TEST(Backoff, ResetReturnsToTheInitialInterval) {
  Backoff b(ReconnectBackoff(absl::Milliseconds(100), absl::Seconds(1)), [] { return 0.5; });
  b.Next();
  b.Next();
  EXPECT_EQ(b.Next(), absl::Milliseconds(200));
  b.Reset();
  EXPECT_EQ(b.Next(), absl::Milliseconds(50));
}

TEST(Backoff, InitialAboveMaxIsCapped) {
  Backoff b(ReconnectBackoff(absl::Seconds(5), absl::Seconds(1)), [] { return 0.999999; });
  EXPECT_LE(b.Next(), absl::Seconds(1));
}

}  // namespace
}  // namespace tracer::common
