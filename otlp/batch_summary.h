// The per-trace summary of one OTLP batch (tracer.v1.BatchSummary,
// proto/tracer/v1/batch_summary.proto), computed from the parsed batch so
// that later stages (the durable queue, the embedded trace store) never
// parse it again to learn its trace ids, span ids, times and services.
#ifndef TRACER_OTLP_BATCH_SUMMARY_H_
#define TRACER_OTLP_BATCH_SUMMARY_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "otlp/exporter.h"
#include "tracer/v1/batch_summary.pb.h"

namespace tracer::otlp {

inline constexpr size_t kTraceIdBytes = 16;  // OTLP trace.proto, Span.trace_id
inline constexpr size_t kSpanIdBytes = 8;    // OTLP trace.proto, Span.span_id
inline constexpr size_t kMaxServiceNameBytes = 256;
inline constexpr char kUnknownService[] = "unknown_service";

// The service.name of `resource` as the summary keeps it: the string value,
// cut to kMaxServiceNameBytes, NUL bytes replaced by '?';
// kUnknownService when there is none. Pure.
std::string ServiceNameOf(const opentelemetry::proto::resource::v1::Resource& resource);

// Returns true for a span to leave out of the summary (given its 16-byte
// trace id and 8-byte span id).
using SkipSpan = std::function<bool(absl::string_view trace_id, absl::string_view span_id)>;

// Summarizes `request` (see batch_summary.proto for every field). Spans
// with malformed ids are counted in invalid_spans; spans `skip` returns true
// for (optional) are left out of the parts but counted in `spans`. Parts
// without spans are left out. Pure; thread-safe.
v1::BatchSummary SummarizeBatch(const ExportTraceServiceRequest& request,
                                const SkipSpan& skip = nullptr);

// Spans in the parts of `summary` (span_ids / 8, summed).
uint64_t SpansIn(const v1::BatchSummary& summary);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_BATCH_SUMMARY_H_
