#include "common/clock.h"

#include <time.h>

#include <limits>

namespace tracer::common {
namespace {

int64_t ReadNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

ClockOffset ClockOffset::Measure(int samples) {
  uint64_t best_width = std::numeric_limits<uint64_t>::max();
  int64_t best_offset = 0;
  for (int i = 0; i < (samples < 1 ? 1 : samples); ++i) {
    int64_t before = ReadNs(CLOCK_MONOTONIC);
    int64_t real = ReadNs(CLOCK_REALTIME);
    int64_t after = ReadNs(CLOCK_MONOTONIC);
    uint64_t width = static_cast<uint64_t>(after - before);
    if (width < best_width) {
      best_width = width;
      // Midpoint without overflow: both are positive and close.
      best_offset = real - (before + (after - before) / 2);
    }
  }
  return ClockOffset(best_offset, (best_width + 1) / 2);
}

ClockOffset ClockOffset::FromOffset(int64_t offset_ns, uint64_t uncertainty_ns) {
  return ClockOffset(offset_ns, uncertainty_ns);
}

uint64_t MonotonicNowNs() { return static_cast<uint64_t>(ReadNs(CLOCK_MONOTONIC)); }

}  // namespace tracer::common
