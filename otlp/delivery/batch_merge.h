// Turns write-ahead log records (payload_format.h: the control plane's queue
// records or a node log's requests) into one OTLP
// export request: the records' ExportTraceServiceRequests concatenated
// (their resource_spans appended in seq order; equal resources are not
// deduplicated, which OTLP allows), with configured resource attributes
// merged into every Resource (resource_env.h: the record's keys win).
//
// Two forms of the merged request (MergeForm): parsed messages, or the
// records' serialized ResourceSpans carried unparsed. The second relies on
// the protobuf wire format (encoding.md, "Repeated Elements"): an
// ExportTraceServiceRequest is `repeated ResourceSpans resource_spans = 1`,
// so the concatenation of the records' field-1 entries is the serialized
// merged request, and a request whose only content is those entries kept as
// unknown fields serializes (SerializeAsString, gRPC's protobuf codec) to
// exactly those bytes. It saves parsing into heap objects and serializing
// again on the way out.
#ifndef TRACER_OTLP_DELIVERY_BATCH_MERGE_H_
#define TRACER_OTLP_DELIVERY_BATCH_MERGE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "otlp/delivery/payload_format.h"
#include "otlp/exporter.h"
#include "otlp/resource_env.h"
#include "storage/wal.h"

namespace tracer::otlp::delivery {

// A record that could not be decoded (bad queue header or batch that is not
// an ExportTraceServiceRequest). It cannot be exported; the caller records
// it in the dead-letter errors file and counts it.
struct BadRecord {
  uint64_t seq = 0;
  uint32_t span_count = 0;  // as the queue recorded it
  std::string error;
};

// How MergeRecords builds MergedBatch::request.
enum class MergeForm {
  // request.resource_spans holds the parsed ResourceSpans.
  kParsed,
  // request has no known fields; its unknown fields hold, in seq order, one
  // length-delimited field 1 per ResourceSpans of the records, byte for byte
  // as uploaded. Serializing it yields the merged request's wire form; only
  // a transport that serializes with protobuf (OTLP/gRPC, OTLP/HTTP
  // protobuf) may be given it. Each record is checked to be well-formed
  // protobuf down to the Span level (ExportTraceServiceRequest,
  // ResourceSpans, ScopeSpans framing) and its spans are counted there,
  // without parsing the spans' contents: a record with that framing broken
  // is a BadRecord exactly as in kParsed. Damage inside a Span (say a
  // string that is not UTF-8) is not looked for: the control plane's ingest
  // fully parsed every batch before queueing it (upload_ingest.h), a node's
  // WAL stage serialized its records from messages, and the log checksums
  // its records, so such a record cannot come from either.
  // With resource attributes to merge, only each ResourceSpans' Resource
  // (field 1) is parsed, merged and written first, followed by the
  // ResourceSpans' other fields unparsed.
  kWire,
};

// One export request made of consecutive queue records.
struct MergedBatch {
  otlp::ExportTraceServiceRequest request;
  MergeForm form = MergeForm::kParsed;  // the form `request` is in
  size_t resource_spans = 0;            // ResourceSpans in `request` (either form)
  uint64_t first_seq = 0;               // of the records taken (0 when none)
  uint64_t last_seq = 0;                // what to ack once the request is handled
  size_t records = 0;                   // records taken (including bad ones)
  uint64_t spans = 0;                   // spans in `request`
  std::vector<BadRecord> bad;
};

// The ReadLimits that fetch at most one batch of `max_spans` spans /
// `max_bytes` payload bytes (at least one record, records hold >= 1 span
// as uploaded, so max_records = max_spans, capped at 10000).
storage::ReadLimits BatchReadLimits(size_t max_spans, size_t max_bytes);

// Merges the longest prefix of `records` (seq order, as ReadFrom returns
// them) whose span counts sum to at most `max_spans` and whose payloads sum
// to at most `max_bytes`; the first record is always taken whatever its
// size. Attributes in `resource` are merged into every Resource. `form`
// is the form wanted; `payload_format` says how the records hold their
// batch (a record whose payload does not decode is a BadRecord).
// Thread-safe (pure function).
MergedBatch MergeRecords(const std::vector<storage::WalRecord>& records, size_t max_spans,
                         size_t max_bytes, const otlp::ResourceAttributes& resource,
                         MergeForm form = MergeForm::kParsed,
                         PayloadFormat payload_format = PayloadFormat::kQueueRecord);

// Turns a kWire batch into kParsed (for consumers that read the messages,
// such as the OTLP/JSON dead-letter file); a kParsed batch is left as is.
// Each ResourceSpans is parsed on its own; one that does not parse (damage
// inside a Span, see kWire) is left out, and then DATA_LOSS says how many
// were, with the batch still converted (the rest parsed).
absl::Status ToParsedForm(MergedBatch* batch);

}  // namespace tracer::otlp::delivery

#endif  // TRACER_OTLP_DELIVERY_BATCH_MERGE_H_
