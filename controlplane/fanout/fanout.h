// FanOut: delivers every span record in the control plane's durable queue
// to each configured OTLP backend (DESIGN.md "Export", "Delivery promise").
//
// Each backend has its own worker thread and its own durable cursor on the
// queue (storage::Wal consumer "exporter:<name>"), so a slow or dead backend
// never holds the others back and loses nothing while the queue is within
// its cap (what the cap's kDropOldest policy deletes before a backend read
// it is counted in that backend's ConsumerStats::dropped_*).
//
// Per backend, the worker reads queued records (controlplane/ingest/
// queue_record.h), merges up to max_batch_spans / max_batch_bytes of them
// into one ExportTraceServiceRequest, merges the configured resource
// attributes into every Resource (the record's own attributes win, as the
// OpenTelemetry resource spec's Merge says for the "updating" resource),
// and exports it with one attempt at a time:
//   - success (including partial_success): ack the records; rejected spans
//     are counted;
//   - retryable failure (retry_policy.h, OTLP spec "Failures"): nothing is
//     acked; wait the exponential backoff (or the server's Retry-After /
//     RetryInfo, whichever is longer) and try the same records again, for
//     as long as it takes. After `breaker.failure_threshold` consecutive
//     failures the circuit opens: no attempt for `breaker.open_for`, then
//     one half-open probe; success closes it, failure re-opens it;
//   - non-retryable failure (HTTP 400/401/403/..., gRPC INVALID_ARGUMENT,
//     UNAUTHENTICATED, PERMISSION_DENIED, ...): logged with the backend's
//     message, counted by reason, the request is appended to the backend's
//     dead-letter file (<dead_letter_dir>/<name>.jsonl, one OTLP/JSON line
//     per request preceded by nothing else; a sidecar
//     <name>.errors.jsonl line holds time, reason and message) and the
//     records are acked. Nothing is dropped silently. If the dead-letter
//     write fails the records stay unacked and the write is retried with
//     backoff. A refusal is an answer, so it counts as the backend being
//     reachable for the circuit breaker (it closes the breaker).
//   - a queue record that does not decode cannot be exported: it gets an
//     errors line (reason "bad_record", its seq and span count), is counted
//     in spans_failed_by_reason["bad_record"] and acked.
// An error without the transport's retryable mark is still treated as
// retryable when it carries no HTTP status and its code is one of the OTLP
// spec's retryable gRPC codes (an outage is never dead-lettered).
// Delivery to a backend is at-least-once: a crash between the backend's
// success and the cursor write re-sends that one batch.
#ifndef TRACER_CONTROLPLANE_FANOUT_FANOUT_H_
#define TRACER_CONTROLPLANE_FANOUT_FANOUT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "otlp/exporter.h"
#include "otlp/exporter_config.h"
#include "storage/wal.h"

namespace tracer::fanout {

// Prefix of the queue consumers FanOut owns: "exporter:" + backend name.
inline constexpr std::string_view kConsumerPrefix = "exporter:";

struct CircuitBreakerOptions {
  int failure_threshold = 5;               // consecutive failures that open it
  absl::Duration open_for = absl::Seconds(30);  // wait before the half-open probe
};

enum class CircuitState { kClosed, kOpen, kHalfOpen };

// "closed", "open", "half-open".
std::string_view CircuitStateName(CircuitState state);

// One backend.
struct BackendOptions {
  // 1..64 bytes of [a-z0-9_.-]; unique; names the cursor and files.
  std::string name;
  // Transport settings. FanOut makes its own attempts and backoff from
  // `exporter.retry` (enabled=false means: a retryable failure is retried
  // after initial_interval without growth); max_elapsed_time is ignored
  // here: queued spans are retried until delivered or dead-lettered.
  otlp::ExporterConfig exporter;
  // Upper bounds of one export request (spans summed over merged records;
  // serialized bytes). A single record larger than either is sent alone.
  size_t max_batch_spans = 8192;
  size_t max_batch_bytes = size_t{4} << 20;
  CircuitBreakerOptions breaker;
};

// Counters since this FanOut started the backend, and gauges.
struct BackendStats {
  std::string name;
  std::string endpoint;  // the exporter's Describe()
  uint64_t spans_sent = 0;      // in requests the backend accepted
  uint64_t requests_sent = 0;
  uint64_t spans_rejected = 0;  // partial_success.rejected_spans
  // Spans in failed attempts, by reason: the absl status code's name in
  // snake case ("unavailable", "deadline_exceeded", "invalid_argument", ...)
  // or "http_<status>" when the transport reported an HTTP status.
  std::map<std::string, uint64_t> spans_failed_by_reason;
  uint64_t spans_failed = 0;    // sum of the above
  uint64_t spans_retried = 0;   // spans re-sent after a retryable failure
  uint64_t spans_dead_lettered = 0;
  uint64_t queue_lag_records = 0;  // queued records past this cursor
  uint64_t queue_lag_spans = 0;
  uint64_t queue_dropped_spans = 0;  // deleted by the queue cap before sent
  CircuitState circuit = CircuitState::kClosed;
  std::string last_error;  // "" when the last attempt succeeded
};

struct FanOutOptions {
  // Directory of the dead-letter files; created on first use. Required.
  std::string dead_letter_dir;
  // Merged into every exported Resource (from OTEL_RESOURCE_ATTRIBUTES and
  // OTEL_SERVICE_NAME, resource_env.h); the record's own keys win.
  std::vector<std::pair<std::string, std::string>> resource_attributes;
  // Workers re-read the queue at least this often without Notify().
  absl::Duration poll = absl::Milliseconds(200);
  // Builds each backend's transport. Empty (the default): the OTLP/gRPC or
  // OTLP/HTTP exporter for BackendOptions::exporter, making exactly one
  // attempt per Export() call (FanOut does its own backoff). Tests inject
  // fake exporters here; errors it returns are AddBackend's errors.
  std::function<absl::StatusOr<std::unique_ptr<otlp::SpanExporter>>(
      const BackendOptions&)>
      exporter_factory;
};

// Thread-safety: every method may be called from any thread.
class FanOut {
 public:
  // `queue` is not owned and must outlive this object.
  FanOut(storage::Wal* queue, FanOutOptions options);
  // Stop(absl::ZeroDuration()) if not stopped.
  ~FanOut();
  FanOut(const FanOut&) = delete;
  FanOut& operator=(const FanOut&) = delete;

  // Starts delivering to a backend. A new name gets cursor
  // "exporter:<name>" at storage::StartPosition::kOldest (it receives every
  // span still queued); an existing cursor of that name (from a previous
  // run) is kept, so delivery resumes where it stopped. Adding a name that
  // is running replaces its settings (the worker restarts on the same
  // cursor; its counters carry over). Errors: INVALID_ARGUMENT naming the
  // bad field (name, endpoint, TLS files, batch limits, breaker, retry
  // intervals, an empty dead_letter_dir); FAILED_PRECONDITION after Stop();
  // the queue's errors. A failed replacement leaves the running backend
  // untouched.
  absl::Status AddBackend(BackendOptions options);

  // Stops the backend's worker (an attempt on the wire is cancelled) and
  // deletes its cursor, so the queue no longer keeps records for it.
  // Errors: NOT_FOUND.
  absl::Status RemoveBackend(std::string_view name);

  // Deletes "exporter:*" cursors of backends not added (e.g. a backend
  // removed from the configuration while the control plane was down).
  // Returns their names. Call after adding the configured backends.
  absl::StatusOr<std::vector<std::string>> RemoveStaleCursors();

  // Wakes the workers: new records were queued.
  void Notify();

  // A snapshot per backend, sorted by name.
  std::vector<BackendStats> Stats() const;

  // Lets workers deliver what is queued for up to `drain`, then stops them
  // (cancelling attempts on the wire). Cursors stay. Idempotent.
  void Stop(absl::Duration drain);

 private:
  class Worker;
  storage::Wal* const queue_;
  const FanOutOptions options_;
  // Serialises AddBackend / RemoveBackend / RemoveStaleCursors / Stop, which
  // stop and start workers without holding mu_ (so Stats() and Notify()
  // never wait for a worker to stop). Acquired before mu_.
  absl::Mutex admin_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Worker>, std::less<>> workers_
      ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tracer::fanout

#endif  // TRACER_CONTROLPLANE_FANOUT_FANOUT_H_
