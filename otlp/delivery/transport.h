// The real transport of a backend: otlp::CreateExporter's OTLP/gRPC or
// OTLP/HTTP exporter (otlp/create_exporter.h), whose every Export() is
// exactly one attempt and whose errors keep the transport's retryable mark
// and Retry-After / RetryInfo delay (retry_policy.h). The backend worker
// applies backoff and the circuit breaker itself.
#ifndef TRACER_OTLP_DELIVERY_TRANSPORT_H_
#define TRACER_OTLP_DELIVERY_TRANSPORT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "otlp/delivery/backend_options.h"
#include "otlp/exporter.h"

namespace tracer::otlp::delivery {

// Builds the transport for options.exporter (protocol, endpoint, TLS,
// headers, compression, timeout) with otlp::CreateExporter. Errors:
// CreateExporter's (INVALID_ARGUMENT for the endpoint, file errors for TLS
// files), prefixed with "backend <options.name>: ".
absl::StatusOr<std::unique_ptr<otlp::SpanExporter>> CreateTransport(const BackendOptions& options);

}  // namespace tracer::otlp::delivery

#endif  // TRACER_OTLP_DELIVERY_TRANSPORT_H_
