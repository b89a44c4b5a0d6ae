// How the records of a write-ahead log (storage::Wal) hold the span batch a
// delivery worker exports: the worker reads the control plane's queue and a
// node's own log alike, told which one by BackendOptions::payload_format.
#ifndef TRACER_OTLP_DELIVERY_PAYLOAD_FORMAT_H_
#define TRACER_OTLP_DELIVERY_PAYLOAD_FORMAT_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tracer::otlp::delivery {

enum class PayloadFormat {
  // The control plane's queue: a queue record header (queue_record.h), then
  // the batch.
  kQueueRecord,
  // A node's write-ahead log (agent/pipeline/wal_stage.h, the log of
  // `tracectl run`): the payload is the serialized ExportTraceServiceRequest.
  kRequest,
};

// The serialized ExportTraceServiceRequest in `payload` (a view into it;
// `payload` must outlive it). Not parsed here. Errors: DATA_LOSS when a
// kQueueRecord header is malformed. Thread-safe (pure function).
absl::StatusOr<absl::string_view> BatchOfPayload(PayloadFormat format, absl::string_view payload);

}  // namespace tracer::otlp::delivery

#endif  // TRACER_OTLP_DELIVERY_PAYLOAD_FORMAT_H_
