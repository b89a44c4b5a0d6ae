// The one factory of OTLP transports: the OTLP/gRPC or OTLP/HTTP exporter an
// ExporterConfig describes. Each Export() is exactly one attempt; a failed
// one keeps the transport's retryable mark and Retry-After / RetryInfo delay
// (retry_policy.h) and HTTP status (http_status.h), and the export engine's
// BackendWorker (otlp/delivery/) retries it.
#ifndef TRACER_OTLP_CREATE_EXPORTER_H_
#define TRACER_OTLP_CREATE_EXPORTER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "otlp/exporter.h"
#include "otlp/exporter_config.h"

namespace tracer::otlp {

// Builds the transport for config.protocol (OtlpGrpcExporter for kGrpc,
// OtlpHttpExporter otherwise) with the endpoint, TLS files, headers,
// compression and timeout of `config`; config.retry is not used here.
// Errors: INVALID_ARGUMENT for a malformed endpoint, NOT_FOUND /
// INVALID_ARGUMENT for unreadable certificate or key files. Connections are
// made lazily: a backend that is down is reported by Export(), not here.
// The result is owned by the caller; its thread-safety is SpanExporter's.
absl::StatusOr<std::unique_ptr<SpanExporter>> CreateExporter(const ExporterConfig& config);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_CREATE_EXPORTER_H_
