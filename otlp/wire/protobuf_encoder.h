// OTLP protobuf encoding of a SpanBatch, written field by field (no
// message objects): the bytes of the ExportTraceServiceRequest that
// ToMessage(batch) would build, identical to its SerializeToString
// (deterministic: fields in field-number order, minimal varints, the
// presence rules of span_record.h). Field numbers are the official OTLP
// .proto's (proto/opentelemetry/proto/...).
//
// Lengths of nested messages are computed before they are written: a
// sizing pass records every nested length in a per-thread scratch array,
// then one writing pass writes the output once, front to back, into memory
// sized up front. No heap allocation per span: only growing the caller's
// buffer and, while a thread meets larger batches than before, its scratch
// array (4 bytes per span, attribute and event). A batch must encode to
// less than 2 GiB (protobuf's own limit). All functions are thread-safe
// (they only read the batch).
#ifndef TRACER_OTLP_WIRE_PROTOBUF_ENCODER_H_
#define TRACER_OTLP_WIRE_PROTOBUF_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "otlp/wire/span_record.h"

namespace tracer::otlp::wire {

// The exact size in bytes of the encoding of `batch`.
size_t ProtobufSize(const SpanBatch& batch);

// Writes the encoding of `batch` to `buf`, which must have room for
// ProtobufSize(batch) bytes; returns the end of what was written
// (buf + ProtobufSize(batch)).
uint8_t* WriteProtobuf(const SpanBatch& batch, uint8_t* buf);

// Appends the encoding of `batch` to `*out` (not null), growing it once.
void AppendProtobuf(const SpanBatch& batch, std::string* out);

// Appends the ExportTraceServiceRequest holding one ResourceSpans per
// element of `resources`, in order (what ToMessage(resources) serializes
// to): the elements' encodings concatenated. Nothing for an empty list.
void AppendProtobuf(absl::Span<const SpanBatch> resources, std::string* out);

}  // namespace tracer::otlp::wire

#endif  // TRACER_OTLP_WIRE_PROTOBUF_ENCODER_H_
