// The real transport of a backend: the OTLP/gRPC or OTLP/HTTP exporter of
// otlp/, without the RetryingExporter wrapper, so that every
// Export() is exactly one attempt and its error keeps the transport's
// retryable mark and Retry-After / RetryInfo delay (retry_policy.h). The
// backend worker applies backoff and the circuit breaker itself.
#ifndef TRACER_OTLP_DELIVERY_TRANSPORT_H_
#define TRACER_OTLP_DELIVERY_TRANSPORT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "otlp/delivery/backend_options.h"
#include "otlp/exporter.h"

namespace tracer::otlp::delivery {

// Builds the transport for options.exporter (protocol, endpoint, TLS,
// headers, compression, timeout). Errors: INVALID_ARGUMENT for the endpoint
// or protocol, file errors for TLS files (from the exporters' Create),
// prefixed with the backend's name.
absl::StatusOr<std::unique_ptr<otlp::SpanExporter>> CreateTransport(const BackendOptions& options);

}  // namespace tracer::otlp::delivery

#endif  // TRACER_OTLP_DELIVERY_TRANSPORT_H_
