#include "agent/pipeline/sampler.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"

namespace tracer::pipeline {
namespace {

using tracer::v1::Sampling;

spans::TraceId IdWithLower(uint64_t lower) {
  spans::TraceId id{};
  id[0] = 0xab;  // upper bytes must not matter
  for (int i = 15; i >= 8; --i, lower >>= 8) id[i] = lower & 0xff;
  return id;
}

Sampling Make(Sampling::Sampler s, double ratio = 0) {
  Sampling x;
  x.set_sampler(s);
  x.set_ratio(ratio);
  return x;
}

TEST(SamplerTest, RatioComparesLowerEightBytesShiftedWithBound) {
  // ratio 0.5: bound 2^62; (lower >> 1) < 2^62 <=> lower < 2^63.
  EXPECT_TRUE(TraceIdRatioSample(0.5, IdWithLower(0)));
  EXPECT_TRUE(TraceIdRatioSample(0.5, IdWithLower((uint64_t{1} << 63) - 1)));
  EXPECT_FALSE(TraceIdRatioSample(0.5, IdWithLower(uint64_t{1} << 63)));
  EXPECT_FALSE(TraceIdRatioSample(0.5, IdWithLower(~uint64_t{0})));
  // Upper bytes are ignored.
  spans::TraceId a = IdWithLower(5), b = a;
  b[3] = 0x77;
  EXPECT_EQ(TraceIdRatioSample(0.3, a), TraceIdRatioSample(0.3, b));
  EXPECT_FALSE(TraceIdRatioSample(0.0, IdWithLower(0)));
  EXPECT_TRUE(TraceIdRatioSample(1.0, IdWithLower(~uint64_t{0})));
}

TEST(SamplerTest, SameTraceIdSameDecision) {
  std::mt19937_64 rng(42);
  Sampling s = Make(Sampling::TRACE_ID_RATIO, 0.37);
  for (int i = 0; i < 1000; ++i) {
    spans::TraceId id;
    for (auto& byte : id) byte = rng() & 0xff;
    bool first = ShouldSample(s, id, std::nullopt);
    for (int k = 0; k < 3; ++k) EXPECT_EQ(ShouldSample(s, id, std::nullopt), first);
  }
}

TEST(SamplerTest, ObservedFractionMatchesRatio) {
  std::mt19937_64 rng(7);
  for (double ratio : {0.01, 0.1, 0.25, 0.5, 0.9}) {
    const int n = 200000;
    int sampled = 0;
    for (int i = 0; i < n; ++i) {
      spans::TraceId id;
      for (auto& byte : id) byte = rng() & 0xff;
      sampled += TraceIdRatioSample(ratio, id);
    }
    // 5 standard deviations of a binomial: fails only if the rule is wrong.
    const double sd = std::sqrt(n * ratio * (1 - ratio));
    EXPECT_NEAR(sampled, n * ratio, 5 * sd) << "ratio " << ratio;
  }
}

TEST(SamplerTest, ParentBasedHonoursParentFlag) {
  spans::TraceId never = IdWithLower(~uint64_t{0});  // not sampled by any ratio < 1
  spans::TraceId always = IdWithLower(0);
  EXPECT_TRUE(ShouldSample(Make(Sampling::PARENT_BASED_ALWAYS_OFF), never, true));
  EXPECT_FALSE(ShouldSample(Make(Sampling::PARENT_BASED_ALWAYS_OFF), never, std::nullopt));
  EXPECT_FALSE(ShouldSample(Make(Sampling::PARENT_BASED_ALWAYS_ON), always, false));
  EXPECT_TRUE(ShouldSample(Make(Sampling::PARENT_BASED_ALWAYS_ON), always, std::nullopt));
  Sampling pr = Make(Sampling::PARENT_BASED_TRACE_ID_RATIO, 0.5);
  EXPECT_TRUE(ShouldSample(pr, never, true));
  EXPECT_FALSE(ShouldSample(pr, always, false));
  EXPECT_TRUE(ShouldSample(pr, always, std::nullopt));
  EXPECT_FALSE(ShouldSample(pr, never, std::nullopt));
  // The plain samplers ignore the parent.
  EXPECT_FALSE(ShouldSample(Make(Sampling::TRACE_ID_RATIO, 0.5), never, true));
  EXPECT_TRUE(ShouldSample(Make(Sampling::ALWAYS_ON), never, false));
  EXPECT_TRUE(ShouldSample(Make(Sampling::SAMPLER_UNSPECIFIED), never, std::nullopt));
  EXPECT_FALSE(ShouldSample(Make(Sampling::ALWAYS_OFF), always, true));
}

}  // namespace
}  // namespace tracer::pipeline
