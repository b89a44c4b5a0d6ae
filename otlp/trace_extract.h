// Takes the spans of one trace out of a serialized ExportTraceServiceRequest
// without parsing the rest of it: the protobuf wire format (encoding.md) is
// walked down to each Span's trace_id and span_id fields, and only the
// matching Spans, and the Resource and InstrumentationScope above them,
// are parsed into messages. The embedded trace store reads a trace this way
// from the batches that hold it (controlplane/store/trace_store.h).
#ifndef TRACER_OTLP_TRACE_EXTRACT_H_
#define TRACER_OTLP_TRACE_EXTRACT_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace tracer::otlp {

// The spans of `batch` whose trace_id equals `trace_id` and for whose
// span_id `want` (optional) returns true, as one ResourceSpans per
// (ResourceSpans, ScopeSpans) of `batch` that holds any: its resource and
// schema_url, and a single ScopeSpans with its scope, schema_url and those
// spans, in batch order. Fields are matched by number and wire type as the
// protobuf parser does; for a field repeated where it is not repeated, the
// last value wins (ids) or the values merge (messages), as in a parse.
// Errors: DATA_LOSS when `batch` is not well-formed protobuf down to the
// Span level, or a matching message does not parse. Pure; thread-safe.
absl::StatusOr<std::vector<opentelemetry::proto::trace::v1::ResourceSpans>> ExtractTraceSpans(
    absl::string_view batch, absl::string_view trace_id,
    const std::function<bool(absl::string_view span_id)>& want = nullptr);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_TRACE_EXTRACT_H_
