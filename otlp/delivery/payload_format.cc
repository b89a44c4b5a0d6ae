#include "otlp/delivery/payload_format.h"

#include "otlp/delivery/queue_record.h"

namespace tracer::otlp::delivery {

absl::StatusOr<absl::string_view> BatchOfPayload(PayloadFormat format, absl::string_view payload) {
  if (format == PayloadFormat::kRequest) return payload;
  absl::StatusOr<QueueRecord> decoded = DecodeQueueRecord(payload);
  if (!decoded.ok()) return decoded.status();
  return decoded->batch;
}

}  // namespace tracer::otlp::delivery
