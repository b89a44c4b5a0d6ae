// Turns queue records (controlplane/ingest/queue_record.h) into one OTLP
// export request: the records' ExportTraceServiceRequests concatenated
// (their resource_spans appended in seq order; equal resources are not
// deduplicated, which OTLP allows), with configured resource attributes
// merged into every Resource (resource_env.h: the record's keys win).
#ifndef TRACER_CONTROLPLANE_FANOUT_BATCH_MERGE_H_
#define TRACER_CONTROLPLANE_FANOUT_BATCH_MERGE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "controlplane/export/exporter.h"
#include "controlplane/export/resource_env.h"
#include "storage/wal.h"

namespace tracer::fanout {

// A record that could not be decoded (bad queue header or batch that is not
// an ExportTraceServiceRequest). It cannot be exported; the caller records
// it in the dead-letter errors file and counts it.
struct BadRecord {
  uint64_t seq = 0;
  uint32_t span_count = 0;  // as the queue recorded it
  std::string error;
};

// One export request made of consecutive queue records.
struct MergedBatch {
  exporting::ExportTraceServiceRequest request;
  uint64_t first_seq = 0;  // of the records taken (0 when none)
  uint64_t last_seq = 0;   // what to ack once the request is handled
  size_t records = 0;      // records taken (including bad ones)
  uint64_t spans = 0;      // spans in `request`
  std::vector<BadRecord> bad;
};

// The ReadLimits that fetch at most one batch of `max_spans` spans /
// `max_bytes` payload bytes (at least one record, records hold >= 1 span
// as uploaded, so max_records = max_spans, capped at 10000).
storage::ReadLimits BatchReadLimits(size_t max_spans, size_t max_bytes);

// Merges the longest prefix of `records` (seq order, as ReadFrom returns
// them) whose span counts sum to at most `max_spans` and whose payloads sum
// to at most `max_bytes`; the first record is always taken whatever its
// size. Attributes in `resource` are merged into every Resource.
// Thread-safe (pure function).
MergedBatch MergeRecords(const std::vector<storage::WalRecord>& records, size_t max_spans,
                         size_t max_bytes, const exporting::ResourceAttributes& resource);

}  // namespace tracer::fanout

#endif  // TRACER_CONTROLPLANE_FANOUT_BATCH_MERGE_H_
