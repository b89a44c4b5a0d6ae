// Kernel timestamps to wall-clock time. BPF programs stamp events with
// bpf_ktime_get_ns(), i.e. CLOCK_MONOTONIC in ns since boot; OTLP wants Unix
// epoch ns (CLOCK_REALTIME). The two clocks differ by an offset that only
// changes when the wall clock is stepped, so it is measured once at start.
#ifndef TRACER_COMMON_CLOCK_H_
#define TRACER_COMMON_CLOCK_H_

#include <cstdint>

namespace tracer::common {

// Converts CLOCK_MONOTONIC ns to Unix epoch ns with a fixed offset. A value
// type: copy it freely; all methods are const and thread-safe.
class ClockOffset {
 public:
  // Measures realtime - monotonic now: reads CLOCK_MONOTONIC, CLOCK_REALTIME,
  // CLOCK_MONOTONIC `samples` times and keeps the pair with the tightest
  // monotonic bracket, taking its midpoint as the moment the realtime clock
  // was read. The error is at most uncertainty_ns() (half that bracket).
  static ClockOffset Measure(int samples = 16);

  // A fixed offset (Unix ns minus monotonic ns); for tests and replays.
  static ClockOffset FromOffset(int64_t offset_ns, uint64_t uncertainty_ns = 0);

  // Offset 0: ToUnixNs() returns its input unchanged.
  ClockOffset() = default;

  // Unix epoch ns for a CLOCK_MONOTONIC timestamp in ns.
  uint64_t ToUnixNs(uint64_t monotonic_ns) const {
    return static_cast<uint64_t>(static_cast<int64_t>(monotonic_ns) + offset_ns_);
  }

  // Unix ns minus monotonic ns, as measured.
  int64_t offset_ns() const { return offset_ns_; }
  // Half the width of the tightest bracket seen by Measure(), in ns.
  uint64_t uncertainty_ns() const { return uncertainty_ns_; }

 private:
  ClockOffset(int64_t offset_ns, uint64_t uncertainty_ns)
      : offset_ns_(offset_ns), uncertainty_ns_(uncertainty_ns) {}

  int64_t offset_ns_ = 0;
  uint64_t uncertainty_ns_ = 0;
};

// CLOCK_MONOTONIC now, in ns (the clock bpf_ktime_get_ns() reads).
uint64_t MonotonicNowNs();

}  // namespace tracer::common

#endif  // TRACER_COMMON_CLOCK_H_
