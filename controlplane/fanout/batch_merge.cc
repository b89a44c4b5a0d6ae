#include "controlplane/fanout/batch_merge.h"

#include <algorithm>

#include "controlplane/ingest/queue_record.h"

namespace tracer::fanout {

storage::ReadLimits BatchReadLimits(size_t max_spans, size_t max_bytes) {
  storage::ReadLimits limits;
  limits.max_records = std::clamp<size_t>(max_spans, 1, 10000);
  limits.max_bytes = std::max<size_t>(max_bytes, 1);
  return limits;
}

MergedBatch MergeRecords(const std::vector<storage::WalRecord>& records, size_t max_spans,
                         size_t max_bytes, const exporting::ResourceAttributes& resource) {
  MergedBatch batch;
  uint64_t spans = 0;
  size_t bytes = 0;
  for (const storage::WalRecord& record : records) {
    if (batch.records > 0 && (spans + record.span_count > max_spans ||
                              bytes + record.payload.size() > max_bytes)) {
      break;
    }
    spans += record.span_count;
    bytes += record.payload.size();
    if (batch.records == 0) batch.first_seq = record.seq;
    batch.last_seq = record.seq;
    ++batch.records;

    absl::StatusOr<controlplane::QueueRecord> decoded =
        controlplane::DecodeQueueRecord(record.payload);
    if (!decoded.ok()) {
      batch.bad.push_back({record.seq, record.span_count, std::string(decoded.status().message())});
      continue;
    }
    // Parsed on its own first: a failed parse must not leave half a record
    // merged into the request.
    exporting::ExportTraceServiceRequest one;
    if (!one.ParseFromArray(decoded->batch.data(), static_cast<int>(decoded->batch.size()))) {
      batch.bad.push_back({record.seq, record.span_count,
                           "batch is not a valid ExportTraceServiceRequest"});
      continue;
    }
    for (auto& rs : *one.mutable_resource_spans()) {
      auto* out = batch.request.add_resource_spans();
      out->Swap(&rs);
      if (!resource.empty()) exporting::MergeResourceAttributes(resource, out->mutable_resource());
    }
  }
  batch.spans = static_cast<uint64_t>(exporting::CountSpans(batch.request));
  return batch;
}

}  // namespace tracer::fanout
