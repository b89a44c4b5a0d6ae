// Counts the spans of a serialized OTLP ExportTraceServiceRequest by walking
// the protobuf wire format (no message objects are built), for a benchmark
// receiver that must cost far less per span than the exporter it measures.
//
// Follows opentelemetry-proto's trace.proto / trace_service.proto field
// numbers: ExportTraceServiceRequest.resource_spans = 1,
// ResourceSpans.scope_spans = 2 (instrumentation_library_spans = 1000 in
// OTLP < 0.19 is counted too), ScopeSpans.spans = 2. Encoding per the
// protobuf wire format (varint tags, length-delimited submessages).
#ifndef TESTS_BENCH_EXPORT_WIRE_SPAN_COUNT_H_
#define TESTS_BENCH_EXPORT_WIRE_SPAN_COUNT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tracer::bench {

// The number of Span messages in `wire` (a serialized
// ExportTraceServiceRequest). Fields other than the three above are skipped
// unread. Errors: INVALID_ARGUMENT when `wire` is not well-formed protobuf
// on that path (truncated, bad tag or wire type). Thread-safe (no state).
absl::StatusOr<int64_t> CountSpansOnTheWire(absl::string_view wire);

}  // namespace tracer::bench

#endif  // TESTS_BENCH_EXPORT_WIRE_SPAN_COUNT_H_
