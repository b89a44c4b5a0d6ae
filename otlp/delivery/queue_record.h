// The payload of one record in the control plane's durable queue
// (storage::Wal under <data_dir>/queue): which agent upload it came from and
// the batch itself.
//
//   +--------+-----------+----------------+-----------+------------------+
//   | "TQ1\0"| u8 id_len | agent_id bytes | u64 BE seq| batch (rest)     |
//   +--------+-----------+----------------+-----------+------------------+
//   batch = serialized ExportTraceServiceRequest as uploaded.
//
// Keeping (agent_id, seq) in the record lets a restarted control plane
// rebuild each agent's last stored seq from the records still queued plus
// the trace store's high-water marks (upload_ingest.h).
#ifndef TRACER_OTLP_DELIVERY_QUEUE_RECORD_H_
#define TRACER_OTLP_DELIVERY_QUEUE_RECORD_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tracer::otlp::delivery {

inline constexpr size_t kMaxAgentIdBytes = 128;

struct QueueRecord {
  std::string agent_id;     // 1..128 bytes
  uint64_t seq = 0;         // the agent's WAL seq
  absl::string_view batch;  // view into the decoded payload
};

// Encodes a record. `agent_id` must be 1..128 bytes (checked by callers).
std::string EncodeQueueRecord(absl::string_view agent_id, uint64_t seq, absl::string_view batch);

// Decodes `payload`; the returned batch views `payload`, which must outlive
// it. Errors: DATA_LOSS when the header is malformed.
absl::StatusOr<QueueRecord> DecodeQueueRecord(absl::string_view payload);

}  // namespace tracer::otlp::delivery

#endif  // TRACER_OTLP_DELIVERY_QUEUE_RECORD_H_
