// Asynchronous export: a bounded queue of export requests drained by one
// worker thread, so span producers never wait on a backend.
//
// Queue size semantics follow OTEL_BSP_MAX_QUEUE_SIZE of the OpenTelemetry
// Batch Span Processor (specification/trace/sdk.md "Batching processor"):
// the bound is in spans (default 2048). What happens when it is full is the
// declared QueueFullPolicy; every span that does not reach the backend is
// counted (dropped, failed or rejected), none silently.
#ifndef TRACER_OTLP_BATCH_EXPORT_QUEUE_H_
#define TRACER_OTLP_BATCH_EXPORT_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "otlp/exporter.h"

namespace tracer::otlp {

// What Enqueue() does when the request does not fit.
enum class QueueFullPolicy {
  kDrop,   // return RESOURCE_EXHAUSTED at once and count the spans as dropped
  kBlock,  // wait until the worker made room (bounded by the exporter's
           // timeout and retry budget, since failed requests leave the queue)
};

struct QueueOptions {
  // Maximum spans waiting (not counting the request being exported).
  // OTEL_BSP_MAX_QUEUE_SIZE; a request larger than this is accepted only
  // into an empty queue.
  size_t max_queue_spans = 2048;
  QueueFullPolicy full_policy = QueueFullPolicy::kDrop;
};

// Monotonic counters since construction, in spans unless named otherwise.
struct ExportCounters {
  int64_t spans_enqueued = 0;  // accepted by Enqueue()
  int64_t spans_exported = 0;  // in requests the backend accepted (incl. rejected ones)
  int64_t spans_rejected = 0;  // partial_success.rejected_spans reported by the backend
  int64_t spans_failed = 0;    // in requests that failed after all retries
  int64_t spans_dropped = 0;   // refused by a full queue, or discarded at shutdown
  int64_t requests_exported = 0;
  int64_t requests_failed = 0;
  int64_t retries = 0;  // re-sends after retryable failures
};

// Owns an exporter (normally a RetryingExporter from CreateExporter) and a
// worker thread that exports queued requests one at a time, in order.
//
// Thread-safety: all methods may be called from any thread.
class BatchExportQueue {
 public:
  BatchExportQueue(std::unique_ptr<SpanExporter> exporter, QueueOptions options = {});
  // Calls Shutdown(absl::Now()) if Shutdown() was not called: whatever is
  // still queued is dropped (and counted). Call Shutdown() to drain.
  ~BatchExportQueue();

  BatchExportQueue(const BatchExportQueue&) = delete;
  BatchExportQueue& operator=(const BatchExportQueue&) = delete;

  // Queues `request` (shared, never modified) holding `span_count` spans.
  // Errors: RESOURCE_EXHAUSTED when full under kDrop; FAILED_PRECONDITION
  // after Shutdown(). Refused spans are counted as dropped.
  absl::Status Enqueue(std::shared_ptr<const ExportTraceServiceRequest> request, size_t span_count);

  // Waits until everything enqueued before the call has been exported or
  // has failed, or until `deadline`. Returns OK if all requests since the
  // previous Flush()/Shutdown() succeeded; otherwise an error naming the
  // backend, how many requests/spans failed or were dropped, and the last
  // error. DEADLINE_EXCEEDED (with the same details) when time ran out.
  absl::Status Flush(absl::Time deadline);

  // Stops accepting requests, drains the queue until `deadline`, then
  // cancels the export in progress, drops what is left (counted), joins the
  // worker and shuts the exporter down. Returns like Flush(). Idempotent.
  absl::Status Shutdown(absl::Time deadline);

  // A snapshot of the counters.
  ExportCounters counters() const;

  // The exporter's Describe().
  const std::string& backend() const { return backend_; }

 private:
  struct Item {
    std::shared_ptr<const ExportTraceServiceRequest> request;
    size_t spans;
  };

  void Run();
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Error summary of failures since the last report; resets the tally.
  absl::Status TakeReport(absl::StatusCode timeout_code, absl::string_view prefix)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::unique_ptr<SpanExporter> exporter_;
  const QueueOptions options_;
  const std::string backend_;

  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;   // worker: queue non-empty or stopping
  absl::CondVar space_cv_;  // producers / flushers: progress made
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_spans_ ABSL_GUARDED_BY(mu_) = 0;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool accepting_ ABSL_GUARDED_BY(mu_) = true;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  ExportCounters counters_ ABSL_GUARDED_BY(mu_);
  // Since the last Flush()/Shutdown() report.
  int64_t failed_requests_since_report_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_spans_since_report_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t dropped_spans_since_report_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status last_error_ ABSL_GUARDED_BY(mu_);
  std::thread worker_;
};

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_BATCH_EXPORT_QUEUE_H_
