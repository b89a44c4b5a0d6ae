// Known ExportTraceServiceRequest values for tests (testonly).
#ifndef TRACER_OTLP_TEST_REQUESTS_H_
#define TRACER_OTLP_TEST_REQUESTS_H_

#include <cstdint>

#include "otlp/exporter.h"

namespace tracer::otlp::testing {

// Which fields MakeRichRequest fills.
enum class Fields {
  // Everything the current OTLP trace protos define.
  kAll,
  // Only what the OTLP protos of opentelemetry-js 0.25.0 (the interop peer's
  // official .proto files) know: no AnyValue.bytes_value, Span/Link flags,
  // schema_url, or scope attributes. Those decoders drop unknown fields.
  kOtlp0_9,
};

// Two resources (processes), three scopes in total, five spans: a root, two
// children, a grandchild with an event and a link, and an error span in the
// second resource. Attributes of every AnyValue type (string, bool, int,
// double, array, kvlist, and bytes with Fields::kAll), non-ASCII and escaped
// strings, int64 extremes, status codes, events, dropped counts.
ExportTraceServiceRequest MakeRichRequest(Fields fields = Fields::kAll);

// `spans` spans shaped like syscall spans (one resource, one scope, 6
// attributes each), ids derived from `seed`. For benchmarks and queue tests.
ExportTraceServiceRequest MakeSyscallRequest(int spans, uint64_t seed = 1);

}  // namespace tracer::otlp::testing

#endif  // TRACER_OTLP_TEST_REQUESTS_H_
