// BackendWorker: the thread that delivers a durable queue (storage::Wal) to
// one OTLP backend through its own consumer cursor, so a slow or dead
// backend never holds other consumers back and loses nothing while the
// queue keeps the records (what a queue cap's kDropOldest policy deletes
// before the worker read it is counted in its ConsumerStats::dropped_*).
//
// The worker reads the log's records (payload_format.h: the control plane's
// queue records, or a node log's bare requests), merges up to
// max_batch_spans / max_batch_bytes of them into one
// ExportTraceServiceRequest (batch_merge.h), merges the configured resource
// attributes into every Resource (the record's own attributes win, as the
// OpenTelemetry resource spec's Merge says for the "updating" resource),
// and exports it with one attempt at a time:
//   - success (including partial_success): ack the records; rejected spans
//     are counted;
//   - retryable failure (retry_policy.h, OTLP spec "Failures"): nothing is
//     acked; wait the exponential backoff (or the server's Retry-After /
//     RetryInfo, whichever is longer) and try the same records again, for
//     as long as it takes. After `breaker.failure_threshold` consecutive
//     failures the circuit opens (circuit_breaker.h): no attempt for
//     `breaker.open_for`, then one half-open probe; success closes it,
//     failure re-opens it;
//   - non-retryable failure (HTTP 400/401/403/..., gRPC INVALID_ARGUMENT,
//     UNAUTHENTICATED, PERMISSION_DENIED, ...): logged with the backend's
//     message, counted by reason (failure_reason.h), the request is appended
//     to the backend's dead-letter file (dead_letter.h) and the records are
//     acked. Nothing is dropped silently. If the dead-letter write fails the
//     records stay unacked and the write is retried with backoff. A refusal
//     is an answer, so it counts as the backend being reachable for the
//     circuit breaker (it closes the breaker).
//   - a queue record that does not decode cannot be exported: it gets an
//     errors line (reason "bad_record", its seq and span count), is counted
//     in spans_failed_by_reason["bad_record"] and acked.
// An error without the transport's retryable mark is still treated as
// retryable when it carries no HTTP status and its code is one of the OTLP
// spec's retryable gRPC codes (an outage is never dead-lettered).
// Delivery is at-least-once: a crash between the backend's success and the
// cursor write re-sends that one batch.
#ifndef TRACER_OTLP_DELIVERY_BACKEND_WORKER_H_
#define TRACER_OTLP_DELIVERY_BACKEND_WORKER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "otlp/delivery/backend_options.h"
#include "otlp/delivery/batch_merge.h"
#include "otlp/delivery/circuit_breaker.h"
#include "otlp/delivery/dead_letter.h"
#include "otlp/exporter.h"
#include "otlp/resource_env.h"
#include "otlp/retry_policy.h"
#include "storage/wal.h"

namespace tracer::otlp::delivery {

// Prefix of the queue consumers delivery workers own: "exporter:" + backend
// name.
inline constexpr std::string_view kConsumerPrefix = "exporter:";

// Thread-safety: all public methods may be called from any thread; the
// delivery loop runs on the worker's own thread.
class BackendWorker {
 public:
  // `queue` (not owned) must outlive the worker and already hold the
  // consumer ConsumerName(options.name). `exporter` is owned. `counters`
  // seeds the counters (a replaced backend's, or empty); its gauges are
  // ignored.
  BackendWorker(storage::Wal* queue, BackendOptions options,
                std::unique_ptr<otlp::SpanExporter> exporter, otlp::ResourceAttributes resource,
                std::string dead_letter_dir, absl::Duration poll, BackendStats counters);
  // Stop()s.
  ~BackendWorker();
  BackendWorker(const BackendWorker&) = delete;
  BackendWorker& operator=(const BackendWorker&) = delete;

  // Starts the thread. Call once.
  void Start();

  // New records were queued: read now instead of at the next poll.
  void Notify();

  // Waits until the worker has found nothing more to read after this call
  // (it delivered everything queued when Drain was called, and anything
  // appended meanwhile), or until `deadline`. Returns whether it caught up.
  bool Drain(absl::Time deadline);

  // Stops the thread: waits between attempts end at once, an attempt on the
  // wire is cancelled (SpanExporter::Cancel, repeated until the thread is
  // out of it, so a cancel that raced the start of a call is not lost), and
  // the exporter is shut down. A batch whose attempt was cancelled stays
  // unacked (it is re-sent by the next worker on this cursor). Idempotent.
  void Stop();

  // The counters and the circuit state, name, endpoint and last error; the
  // queue_* gauges are left zero (the owner fills them from Wal::Stats()).
  BackendStats Stats() const;

  const std::string& consumer() const { return consumer_; }

 private:
  void Run();
  // One pass: reads or continues the pending batch and makes at most one
  // attempt (export or dead-letter write), then sleeps as needed.
  void Step();
  // Sleeps for `d` unless stopped first (Notify does not end it).
  void SleepUnlessStopped(absl::Duration d);
  // Sleeps for up to `d` or until Notify/Drain/Stop.
  void WaitForWork(absl::Duration d);
  bool stopping() const { return stop_requested_.load(std::memory_order_acquire); }

  // Reads the next batch into pending_ (or waits for work).
  void ReadBatch();
  // Pending-batch outcomes.
  void HandleSuccess(const otlp::ExportResult& result);
  void HandleRetryable(const absl::Status& status);
  void HandleRefused(const absl::Status& status);
  // Writes the bad-record and dead-letter lines the pending batch still
  // owes; false (after backing off) when the file system refused.
  bool WriteDeadLetters();
  void AckPending();
  void SetCircuit(CircuitState state);
  absl::Duration NextBackoff();

  storage::Wal* const queue_;
  const BackendOptions options_;
  const std::string consumer_;
  const std::unique_ptr<otlp::SpanExporter> exporter_;
  const otlp::ResourceAttributes resource_;
  const absl::Duration poll_;
  const std::string endpoint_;  // exporter_->Describe()
  // kWire when the exporter takes the wire form (request_form()), which then
  // gets each batch's bytes through ExportSerialized(); else kParsed.
  const MergeForm merge_form_;
  DeadLetterFile dead_letter_;

  // Worker-thread state (no lock: only Run() touches it).
  CircuitBreaker breaker_;
  std::optional<common::Backoff> backoff_;  // reset after each success
  std::optional<MergedBatch> pending_;
  int failed_attempts_ = 0;              // retryable failures of pending_
  size_t bad_written_ = 0;               // pending_->bad entries in the errors file
  std::optional<absl::Status> refusal_;  // non-retryable error to dead-letter
  absl::Time next_attempt_ = absl::InfinitePast();

  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  absl::Notification exited_;

  mutable absl::Mutex mu_;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t drain_generation_ ABSL_GUARDED_BY(mu_) = 0;      // bumped by Drain
  uint64_t caught_up_generation_ ABSL_GUARDED_BY(mu_) = 0;  // seen by an empty read
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;               // Stop() finished
  BackendStats stats_ ABSL_GUARDED_BY(mu_);
};

// "exporter:" + name.
std::string ConsumerName(std::string_view backend_name);

}  // namespace tracer::otlp::delivery

#endif  // TRACER_OTLP_DELIVERY_BACKEND_WORKER_H_
