// Conversion of a stored tracer.v1.ExporterSpec into the fan-out's
// fanout::BackendOptions (controlplane/fanout/fanout.h).
#ifndef TRACER_CONTROLPLANE_EXPORTERS_BACKEND_OPTIONS_H_
#define TRACER_CONTROLPLANE_EXPORTERS_BACKEND_OPTIONS_H_

#include "absl/status/statusor.h"
#include "controlplane/fanout/fanout.h"
#include "tracer/v1/control.pb.h"

namespace tracer::controlplane {

// Defaults for zero fields (control.proto's ExporterSpec comments).
inline constexpr uint32_t kDefaultExporterTimeoutMs = 10000;

// Validates `spec` (exporter_validation.h) and maps it field by field:
// protocol "" -> grpc; for http/* an endpoint without a path (or "/") gets
// "/v1/traces" appended (OTLP spec, exporter.md "Endpoint URLs for
// OTLP/HTTP"); headers in order with their values; compression "" -> none;
// timeout_ms 0 -> 10 s; max_batch_*, breaker_* 0 -> the BackendOptions
// defaults; retry: the default (Collector-like) backoff. Errors:
// INVALID_ARGUMENT naming the field.
absl::StatusOr<fanout::BackendOptions> ToBackendOptions(const v1::ExporterSpec& spec);

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_EXPORTERS_BACKEND_OPTIONS_H_
