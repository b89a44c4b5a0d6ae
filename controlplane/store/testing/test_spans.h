// Small OTLP requests with chosen ids, times and services for control-plane
// tests.
#ifndef TRACER_CONTROLPLANE_STORE_TESTING_TEST_SPANS_H_
#define TRACER_CONTROLPLANE_STORE_TESTING_TEST_SPANS_H_

#include <cstdint>
#include <string>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace tracer::controlplane::testing {

// A 16-byte trace id whose last 8 bytes are `n` (big-endian).
std::string TraceId(uint64_t n);
// An 8-byte span id holding `n` (big-endian).
std::string SpanId(uint64_t n);

// Appends one span (trace TraceId(trace), span SpanId(span), parent
// SpanId(parent) or none when parent == 0, [start_ns, start_ns + 1000)) to
// `request` under a resource with service.name `service` (one ResourceSpans
// per call). `error` sets status ERROR.
void AddSpan(opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest* request,
             const std::string& service, uint64_t trace, uint64_t span, uint64_t parent,
             uint64_t start_ns, const std::string& name, bool error = false);

}  // namespace tracer::controlplane::testing

#endif  // TRACER_CONTROLPLANE_STORE_TESTING_TEST_SPANS_H_
