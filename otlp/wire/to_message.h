// The message-built form of a SpanBatch: the reference the direct encoders
// are checked against (tests, fuzz target) and today's path in the encoding
// benchmark.
#ifndef TRACER_OTLP_WIRE_TO_MESSAGE_H_
#define TRACER_OTLP_WIRE_TO_MESSAGE_H_

#include "google/protobuf/arena.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "otlp/exporter.h"
#include "otlp/wire/span_record.h"

namespace tracer::otlp::wire {

// Builds the ExportTraceServiceRequest that `batch` describes, with the
// presence rules of span_record.h, on `arena` (nullptr: on the heap; the
// caller owns the result then). Copies every byte it needs; the batch may
// go away afterwards. Never fails; thread-safe for distinct arenas.
ExportTraceServiceRequest* ToMessage(const SpanBatch& batch, google::protobuf::Arena* arena);

// The same for a request of one ResourceSpans per element of `resources`,
// in order (none for an empty list).
ExportTraceServiceRequest* ToMessage(absl::Span<const SpanBatch> resources,
                                     google::protobuf::Arena* arena);

// Fills `out` (cleared first) with the Span message that `record` describes,
// with the same presence rules. Copies every byte it needs. Never fails;
// thread-safe for distinct outputs.
void ToMessage(const SpanRecord& record, opentelemetry::proto::trace::v1::Span* out);

}  // namespace tracer::otlp::wire

#endif  // TRACER_OTLP_WIRE_TO_MESSAGE_H_
