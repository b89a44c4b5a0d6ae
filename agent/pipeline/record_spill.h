// RecordSpill: keeps the kernel's ring buffer empty when user space is slower
// than the traced workload.
//
// The polling thread copies each raw ring-buffer record into large in-memory
// chunks (a memcpy, ~tens of ns); a worker thread decodes the records
// (agent/capture/record_decoder.h for the syscall program's records,
// agent/capture/socket_record_decoder.h for the socket tracker's, told apart
// by capture::IsSocketRecord) and delivers them, in order, to an EventSink
// (span building, HTTP flows, printing, statistics). A burst of syscalls then
// costs memory for a while instead of ring-buffer drops. The memory is
// bounded; past the bound records are dropped and counted, never silently.
#ifndef TRACER_AGENT_PIPELINE_RECORD_SPILL_H_
#define TRACER_AGENT_PIPELINE_RECORD_SPILL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/capture/event_source.h"
#include "agent/capture/events.h"

namespace tracer::pipeline {

struct RecordSpillCounters {
  uint64_t records_in = 0;       // accepted from the ring buffer
  uint64_t records_out = 0;      // decoded and delivered
  uint64_t socket_records = 0;   // of records_out: socket-tracker records
  uint64_t records_invalid = 0;  // failed to decode (counted, skipped)
  uint64_t records_dropped = 0;  // refused: the memory bound was reached
  uint64_t peak_bytes = 0;       // most bytes held at once
};

// Called on the worker thread with CLOCK_MONOTONIC now (ns), between
// deliveries: for downstream work driven by time rather than by events
// (HttpFlowTracker::Tick), which must run on the thread that feeds it.
using TickFn = std::function<void(uint64_t now_mono_ns)>;

// Thread-safety: OnRawRecord() from one polling thread; counters() and
// pending_bytes() from any thread; Close() once, from the polling thread.
// `downstream` (and `tick`) are called only from the worker thread and must
// outlive the spill.
class RecordSpill : public capture::RawRecordSink {
 public:
  // `max_bytes` bounds the records held (default 1 GiB).
  explicit RecordSpill(capture::EventSink* downstream, size_t max_bytes = size_t{1} << 30);
  // As above, and `tick` is called about every `tick_interval`, whether or
  // not records arrive (after a chunk is delivered, or while idle), and not
  // after Close() returns.
  RecordSpill(capture::EventSink* downstream, size_t max_bytes, TickFn tick,
              absl::Duration tick_interval);
  ~RecordSpill() override;  // Close()s if needed

  void OnRawRecord(const void* data, size_t size) override;

  // Makes everything accepted so far visible to the worker without waiting
  // for the current chunk to fill (the polling thread calls this after each
  // poll).
  void Publish();

  // Delivers everything accepted, then stops the worker.
  void Close();

  RecordSpillCounters counters() const;

 private:
  // Records copied out of the ring buffer: [u32 size][record][pad to 8] ...
  // The buffer is not zero-filled: only bytes[0, used) are ever read.
  struct Chunk {
    explicit Chunk(size_t n) : bytes(new char[n]), capacity(n) {}
    std::unique_ptr<char[]> bytes;
    size_t capacity = 0;
    size_t used = 0;
  };
  void Run();
  void Deliver(const Chunk& chunk, size_t from, size_t to);

  void MaybeTick();

  capture::EventSink* const downstream_;
  const size_t max_bytes_;
  const TickFn tick_;
  const absl::Duration tick_interval_;
  absl::Time last_tick_ = absl::InfinitePast();  // worker thread only

  // Owned by the polling thread until published.
  std::unique_ptr<Chunk> open_;
  uint64_t in_since_publish_ = 0;

  mutable absl::Mutex mu_;
  std::deque<std::unique_ptr<Chunk>> ready_ ABSL_GUARDED_BY(mu_);
  size_t held_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  RecordSpillCounters counters_ ABSL_GUARDED_BY(mu_);
  std::thread worker_;
};

}  // namespace tracer::pipeline

#endif  // TRACER_AGENT_PIPELINE_RECORD_SPILL_H_
