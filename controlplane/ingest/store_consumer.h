// StoreConsumer: moves records from the control plane's queue into the
// embedded trace store (cursor kStoreConsumer) as the batch's bytes and the
// summary the ingest queued with them (TraceStore::WriteSummarized, no
// parse; a record of an earlier version without a summary is parsed and
// counted at otlp::ParseSite::kStore), acking each record only
// after its spans and its agent's high-water mark are written (one synced
// write, trace_store.h); see upload_ingest.h for why that order keeps
// (agent_id, seq) deduplication exact across crashes.
#ifndef TRACER_CONTROLPLANE_INGEST_STORE_CONSUMER_H_
#define TRACER_CONTROLPLANE_INGEST_STORE_CONSUMER_H_

#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controlplane/store/trace_store.h"
#include "storage/wal.h"

namespace tracer::controlplane {

class StoreConsumer {
 public:
  // Neither `queue` nor `store` is owned; both outlive this object.
  StoreConsumer(storage::Wal* queue, TraceStore* store);
  // Stops the thread if running (without draining).
  ~StoreConsumer();

  // Moves every queued record into the store now, on the calling thread.
  // Returns how many records were moved. Records that do not decode are
  // logged, counted (bad_records) and acked. Errors: the queue's or store's
  // (the failing record stays queued).
  absl::StatusOr<uint64_t> DrainOnce();

  // Runs DrainOnce on a background thread whenever Notify() is called or
  // `poll` passes, retrying after errors; also applies the store's
  // retention every `retention_every`.
  void Start(absl::Duration poll = absl::Milliseconds(200),
             absl::Duration retention_every = absl::Seconds(60));
  // Wakes the background thread (new records queued). Thread-safe.
  void Notify();
  // Stops the background thread after a final DrainOnce (flush).
  void Stop();

  uint64_t bad_records() const;

 private:
  void Run(absl::Duration poll, absl::Duration retention_every);

  storage::Wal* const queue_;
  TraceStore* const store_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t bad_records_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Mutex drain_mu_;  // one DrainOnce at a time
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_INGEST_STORE_CONSUMER_H_
