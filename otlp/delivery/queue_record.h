// The payload of one record in the control plane's durable queue
// (storage::Wal under <data_dir>/queue): which agent upload it came from,
// the summary the control plane's ingest made when it parsed the batch, and
// the batch itself.
//
//   +--------+-----------+----------------+-----------+----------------+---------+-------------+
//   | "TQ2\0"| u8 id_len | agent_id bytes | u64 BE seq| u32 BE sum_len | summary | batch (rest)|
//   +--------+-----------+----------------+-----------+----------------+---------+-------------+
//   summary = serialized tracer.v1.BatchSummary of the batch
//             (proto/tracer/v1/batch_summary.proto, otlp/batch_summary.h)
//   batch   = serialized ExportTraceServiceRequest as uploaded.
//
// Records written by earlier versions have no summary:
//
//   | "TQ1\0"| u8 id_len | agent_id bytes | u64 BE seq| batch (rest)|
//
// and still decode (has_summary false); their readers parse the batch.
//
// Keeping (agent_id, seq) in the record lets a restarted control plane
// rebuild each agent's last stored seq from the records still queued plus
// the trace store's high-water marks (upload_ingest.h). Carrying the
// summary lets the trace store index the batch without parsing it again.
#ifndef TRACER_OTLP_DELIVERY_QUEUE_RECORD_H_
#define TRACER_OTLP_DELIVERY_QUEUE_RECORD_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tracer::otlp::delivery {

inline constexpr size_t kMaxAgentIdBytes = 128;

struct QueueRecord {
  std::string agent_id;       // 1..128 bytes
  uint64_t seq = 0;           // the agent's WAL seq
  bool has_summary = false;   // false for "TQ1" records
  absl::string_view summary;  // view into the payload: serialized BatchSummary
  absl::string_view batch;    // view into the payload
};

// Encodes a "TQ2" record with `summary` (serialized BatchSummary of
// `batch`, not checked here). `agent_id` must be 1..128 bytes (checked by
// callers).
std::string EncodeQueueRecord(absl::string_view agent_id, uint64_t seq, absl::string_view summary,
                              absl::string_view batch);

// Encodes a "TQ1" record (no summary), the format of earlier versions.
std::string EncodeQueueRecord(absl::string_view agent_id, uint64_t seq, absl::string_view batch);

// Decodes `payload` ("TQ1" or "TQ2"); the returned views point into
// `payload`, which must outlive them. Errors: DATA_LOSS when the header is
// malformed.
absl::StatusOr<QueueRecord> DecodeQueueRecord(absl::string_view payload);

}  // namespace tracer::otlp::delivery

#endif  // TRACER_OTLP_DELIVERY_QUEUE_RECORD_H_
