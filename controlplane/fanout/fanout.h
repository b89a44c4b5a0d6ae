// FanOut: delivers every span record in the control plane's durable queue
// to each configured OTLP backend (DESIGN.md "Export", "Delivery promise").
//
// Each backend has its own worker thread and its own durable cursor on the
// queue (storage::Wal consumer "exporter:<name>"), so a slow or dead backend
// never holds the others back and loses nothing while the queue is within
// its cap (what the cap's kDropOldest policy deletes before a backend read
// it is counted in that backend's ConsumerStats::dropped_*).
//
// Per backend, an otlp::delivery::BackendWorker (otlp/delivery/
// backend_worker.h) reads the queue's records (otlp/delivery/
// queue_record.h), merges them into export requests and delivers them with
// backoff, a circuit breaker and dead letters
// (<dead_letter_dir>/<name>.jsonl and <name>.errors.jsonl, otlp/delivery/
// dead_letter.h), as that header describes. FanOut adds the backends'
// lifecycle: validation, cursor registration, replacement, removal and
// stale-cursor cleanup, and the queue gauges in each backend's stats.
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
#include "otlp/delivery/backend_options.h"
#include "otlp/delivery/backend_worker.h"
#include "otlp/exporter.h"
#include "otlp/exporter_config.h"
#include "storage/wal.h"

namespace tracer::fanout {

// The engine's types, under the names FanOut's callers use.
using otlp::delivery::BackendOptions;
using otlp::delivery::BackendStats;
using otlp::delivery::CircuitBreakerOptions;
using otlp::delivery::CircuitState;
using otlp::delivery::CircuitStateName;
using otlp::delivery::kConsumerPrefix;

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
  std::function<absl::StatusOr<std::unique_ptr<otlp::SpanExporter>>(const BackendOptions&)>
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
  std::map<std::string, std::unique_ptr<Worker>, std::less<>> workers_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tracer::fanout

#endif  // TRACER_CONTROLPLANE_FANOUT_FANOUT_H_
