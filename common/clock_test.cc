#include "common/clock.h"

#include <time.h>

#include "gtest/gtest.h"

namespace tracer::common {
namespace {

int64_t Now(clockid_t c) {
  timespec ts;
  clock_gettime(c, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

TEST(ClockOffsetTest, MeasuredOffsetMatchesClocks) {
  ClockOffset off = ClockOffset::Measure();
  EXPECT_LT(off.uncertainty_ns(), 1000000u);  // a bracket under 2 ms
  int64_t mono = Now(CLOCK_MONOTONIC);
  int64_t real = Now(CLOCK_REALTIME);
  int64_t converted = static_cast<int64_t>(off.ToUnixNs(static_cast<uint64_t>(mono)));
  // Within a millisecond of the wall clock read right after.
  EXPECT_LE(std::llabs(converted - real), 1000000) << converted - real;
  // It is Unix time (after 2020-01-01), not time since boot.
  EXPECT_GT(converted, 1577836800LL * 1000000000);
}

TEST(ClockOffsetTest, ConversionIsAFixedShift) {
  ClockOffset off = ClockOffset::FromOffset(1700000000000000000LL);
  EXPECT_EQ(off.ToUnixNs(0), 1700000000000000000ULL);
  EXPECT_EQ(off.ToUnixNs(123456789), 1700000000123456789ULL);
  EXPECT_EQ(off.offset_ns(), 1700000000000000000LL);
  EXPECT_EQ(ClockOffset().ToUnixNs(42), 42u);
}

TEST(ClockOffsetTest, MonotonicNowIsBpfClock) {
  uint64_t a = MonotonicNowNs();
  int64_t mono = Now(CLOCK_MONOTONIC);
  uint64_t b = MonotonicNowNs();
  EXPECT_LE(a, static_cast<uint64_t>(mono));
  EXPECT_LE(static_cast<uint64_t>(mono), b);
}

}  // namespace
}  // namespace tracer::common
