// EventSource: where capture events come from. The live implementation loads
// the BPF programs of bpf/syscalls.bpf.c; tests can replay recorded events
// through the same interface without root.
#ifndef TRACER_AGENT_CAPTURE_EVENT_SOURCE_H_
#define TRACER_AGENT_CAPTURE_EVENT_SOURCE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/capture/events.h"

namespace tracer::capture {

// Run-time settings of a capture, fixed before the programs load.
struct CaptureOptions {
  // Follow forks: children of traced processes are added to the target map
  // in the kernel at fork time, so their first syscalls are not missed.
  bool follow_forks = false;
  // Aggregate per-syscall calls/errors/time in the kernel (strace -c style)
  // instead of sending one record per syscall; read with Totals(). Counts
  // what `strace -f -c` counts: completed calls only, so exit/exit_group
  // (which never return) are not counted. Process records (fork/exec/exit)
  // are still delivered through Poll().
  bool stats_only = false;
  // Syscall numbers to trace; empty means all.
  std::vector<int> syscalls;
  // Syscalls that took at most this long (ns) are neither recorded nor
  // counted (the --filter-duration-gt threshold, applied in the kernel).
  uint64_t min_duration_ns = 0;
  // Ring-buffer size in bytes (power of two, multiple of the page size).
  uint32_t ringbuf_bytes = 64u << 20;
};

// Receives undecoded ring-buffer records (layouts in bpf/syscalls.h), for
// consumers that copy them away quickly and decode later with
// DecodeRecord() (agent/capture/record_decoder.h), off the polling thread.
// `data` is valid only during the call.
class RawRecordSink {
 public:
  virtual ~RawRecordSink() = default;
  virtual void OnRawRecord(const void* data, size_t size) = 0;
};

// A source of capture events. Not thread-safe: one thread configures it and
// calls Poll(); Counters() and Totals() may be called from that thread only.
class EventSource {
 public:
  virtual ~EventSource() = default;

  // Starts tracing process `tgid` (all its threads). With follow_forks, its
  // future children are traced too. Errors: INTERNAL if the map update fails.
  virtual absl::Status AddTarget(uint32_t tgid) = 0;

  // Delivers pending events to `sink`, waiting up to `timeout_ms` (0: no
  // wait) for the first. Returns the number of events delivered. Errors:
  // INTERNAL on a ring-buffer failure (EINTR is not an error).
  virtual absl::StatusOr<int> Poll(EventSink& sink, int timeout_ms) = 0;

  // Like Poll(), but hands over each record undecoded. Sources without raw
  // records return UNIMPLEMENTED.
  virtual absl::StatusOr<int> PollRaw(RawRecordSink& sink, int timeout_ms) {
    return absl::UnimplementedError("this event source has no raw records");
  }

  // Drop and delivery counters so far (ring-buffer drops per CPU).
  virtual CaptureCounters Counters() const = 0;

  // Stats mode: per-syscall totals aggregated in the kernel, one entry per
  // syscall number seen, sorted by number. Empty when stats_only is false.
  virtual absl::StatusOr<std::vector<SyscallTotals>> Totals() const = 0;
};

// Opens, configures, loads and attaches the syscall-capture BPF programs.
// Requires root (CAP_BPF + CAP_PERFMON); returns PERMISSION_DENIED with a
// clear message otherwise, FAILED_PRECONDITION if BTF or tracepoints are
// missing, INTERNAL for other libbpf failures (with libbpf's errno text).
absl::StatusOr<std::unique_ptr<EventSource>> OpenBpfEventSource(
    const CaptureOptions& options);

}  // namespace tracer::capture

#endif  // TRACER_AGENT_CAPTURE_EVENT_SOURCE_H_
