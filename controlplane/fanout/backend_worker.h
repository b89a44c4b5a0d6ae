// BackendWorker: the thread that delivers the control plane's queue to one
// backend (the behaviour fanout.h describes, for one backend): read a batch
// after the backend's cursor, export it with one attempt at a time, back
// off (exponential with jitter, or the server's Retry-After / RetryInfo if
// longer) and trip the circuit breaker on retryable failures, dead-letter
// on non-retryable ones, and ack the batch's highest seq once it is handled.
#ifndef TRACER_CONTROLPLANE_FANOUT_BACKEND_WORKER_H_
#define TRACER_CONTROLPLANE_FANOUT_BACKEND_WORKER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "otlp/exporter.h"
#include "otlp/resource_env.h"
#include "otlp/retry_policy.h"
#include "controlplane/fanout/batch_merge.h"
#include "controlplane/fanout/circuit_breaker.h"
#include "controlplane/fanout/dead_letter.h"
#include "controlplane/fanout/fanout.h"
#include "storage/wal.h"

namespace tracer::fanout {

// Thread-safety: all public methods may be called from any thread; the
// delivery loop runs on the worker's own thread.
class BackendWorker {
 public:
  // `queue` (not owned) must outlive the worker and already hold the
  // consumer ConsumerName(options.name). `exporter` is owned. `counters`
  // seeds the counters (a replaced backend's, or empty); its gauges are
  // ignored.
  BackendWorker(storage::Wal* queue, BackendOptions options,
                std::unique_ptr<otlp::SpanExporter> exporter,
                otlp::ResourceAttributes resource, std::string dead_letter_dir,
                absl::Duration poll, BackendStats counters);
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
  // queue_* gauges are left zero (FanOut fills them from Wal::Stats()).
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
  // kWire when the transport serializes requests with protobuf
  // (batch_merge.h), else kParsed.
  const MergeForm merge_form_;
  DeadLetterFile dead_letter_;

  // Worker-thread state (no lock: only Run() touches it).
  CircuitBreaker breaker_;
  std::optional<common::Backoff> backoff_;  // reset after each success
  std::optional<MergedBatch> pending_;
  int failed_attempts_ = 0;        // retryable failures of pending_
  size_t bad_written_ = 0;         // pending_->bad entries in the errors file
  std::optional<absl::Status> refusal_;  // non-retryable error to dead-letter
  absl::Time next_attempt_ = absl::InfinitePast();

  std::thread thread_;
  std::atomic<bool> stop_requested_{false};
  absl::Notification exited_;

  mutable absl::Mutex mu_;
  bool wake_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t drain_generation_ ABSL_GUARDED_BY(mu_) = 0;   // bumped by Drain
  uint64_t caught_up_generation_ ABSL_GUARDED_BY(mu_) = 0;  // seen by an empty read
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;  // Stop() finished
  BackendStats stats_ ABSL_GUARDED_BY(mu_);
};

// "exporter:" + name.
std::string ConsumerName(std::string_view backend_name);

}  // namespace tracer::fanout

#endif  // TRACER_CONTROLPLANE_FANOUT_BACKEND_WORKER_H_
