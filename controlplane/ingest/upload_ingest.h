// UploadIngest: the receiving end of AgentService.Upload (proto/tracer/v1/
// agent.proto): validates each UploadRequest, deduplicates on
// (agent_id, seq) and appends new batches durably to the control plane's
// queue before they are acknowledged (DESIGN.md, "Data path": exactly-once
// into the control plane's queue).
//
// Exactly-once, across crashes: every queue record carries (agent_id, seq)
// (otlp/delivery/queue_record.h), and the store consumer writes an agent's high-water mark
// in the same synced RocksDB write as that record's spans before it acks the
// record (trace_store.h). So at any instant each agent's last stored seq is
// max(store high-water mark, seqs of records still in the queue); Open()
// rebuilds it that way. An upload with seq <= last stored seq is acknowledged
// as a duplicate and not queued again. In addition the store is idempotent
// by (trace_id, span_id).
#ifndef TRACER_CONTROLPLANE_INGEST_UPLOAD_INGEST_H_
#define TRACER_CONTROLPLANE_INGEST_UPLOAD_INGEST_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/wal.h"
#include "tracer/v1/agent.pb.h"

namespace tracer::controlplane {

inline constexpr size_t kMaxUploadBatchBytes = size_t{16} << 20;  // 16 MiB
inline constexpr size_t kMaxTrackedAgents = 100000;

// The queue consumer name of the embedded trace store.
inline constexpr char kStoreConsumer[] = "store";

// Thread-safe. Uploads of one agent are serialized; different agents append
// concurrently (sharing the queue's group commit).
class UploadIngest {
 public:
  // `queue` (not owned, outlives this) must already have the kStoreConsumer
  // consumer registered. `store_marks` are the trace store's high-water
  // marks. Reads the queued records once. `on_appended` (optional) is
  // called after each durable append (e.g. to wake the store consumer).
  static absl::StatusOr<std::unique_ptr<UploadIngest>> Open(
      storage::Wal* queue, const std::map<std::string, uint64_t>& store_marks,
      std::function<void()> on_appended);

  // Handles one upload. Valid: agent_id 1..128 bytes, seq > 0, batch at most
  // 16 MiB that parses as ExportTraceServiceRequest holding exactly
  // span_count spans. The batch is parsed here once (counted at
  // otlp::ParseSite::kIngest) and queued as received with its
  // otlp::SummarizeBatch, so that nothing after the queue parses it for the
  // store (queue_record.h). Returns the ack to send: {seq, duplicate}.
  // Errors: INVALID_ARGUMENT naming the field (nothing stored),
  // RESOURCE_EXHAUSTED (queue full), or the queue's error.
  absl::StatusOr<v1::UploadAck> Ingest(const v1::UploadRequest& request);

  // Last stored seq of `agent_id` (0 if none).
  uint64_t LastStoredSeq(const std::string& agent_id) const;

  // Counters since Open.
  uint64_t duplicates() const;
  uint64_t appended() const;

 private:
  struct Agent {
    absl::Mutex mu;  // serializes this agent's check-and-append
    uint64_t last_seq ABSL_GUARDED_BY(mu) = 0;
  };
  UploadIngest(storage::Wal* queue, std::function<void()> on_appended);
  absl::StatusOr<Agent*> AgentFor(const std::string& agent_id);

  storage::Wal* const queue_;
  const std::function<void()> on_appended_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Agent>> agents_ ABSL_GUARDED_BY(mu_);
  uint64_t duplicates_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t appended_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_INGEST_UPLOAD_INGEST_H_
