// WalStage: the point after which no span is lost. Every span batch is
// appended to the write-ahead log (storage::Wal) and synced before it is
// handed to the next stage (exporters, the uploader), per DESIGN.md's
// delivery promise ("nothing leaves the node before this").
#ifndef TRACER_AGENT_PIPELINE_WAL_STAGE_H_
#define TRACER_AGENT_PIPELINE_WAL_STAGE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "agent/spans/span_builder.h"
#include "storage/wal.h"

namespace tracer::pipeline {

// Counters of a WalStage (batches and spans).
struct WalStageCounters {
  uint64_t batches_appended = 0;
  uint64_t spans_appended = 0;
  uint64_t batches_failed = 0;  // Append failed: counted, not forwarded
  uint64_t spans_failed = 0;
  uint64_t last_seq = 0;  // sequence number of the newest appended batch
};

// A BatchSink that makes each batch durable, then forwards it.
//
// OnBatch() only queues (bounded by `max_pending_batches`; it blocks when the
// disk falls behind, which back-pressures capture rather than losing spans
// in memory). One writer thread serializes each batch's
// ExportTraceServiceRequest, appends it with Wal::Append (synced, group
// commit) and then calls `downstream->OnBatch()` from that thread, in order.
// A batch whose Append fails is counted and not forwarded (what was not made
// durable is never shipped; the error is reported by Close()).
//
// Thread-safety: OnBatch() and counters() from any thread; Close() once.
// Does not own `wal` or `downstream`; both must outlive the stage.
class WalStage : public spans::BatchSink {
 public:
  WalStage(storage::Wal* wal, spans::BatchSink* downstream, size_t max_pending_batches = 256);
  ~WalStage() override;  // Close()s if needed

  void OnBatch(std::shared_ptr<const spans::SpanBatch> batch) override;

  // Appends and forwards everything queued, then stops the writer. Returns
  // the first Append error (with how many batches/spans it cost), or OK.
  absl::Status Close();

  WalStageCounters counters() const;

 private:
  void Run();

  storage::Wal* const wal_;
  spans::BatchSink* const downstream_;
  const size_t max_pending_;

  mutable absl::Mutex mu_;
  std::deque<std::shared_ptr<const spans::SpanBatch>> pending_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
  WalStageCounters counters_ ABSL_GUARDED_BY(mu_);
  std::thread writer_;
};

}  // namespace tracer::pipeline

#endif  // TRACER_AGENT_PIPELINE_WAL_STAGE_H_
