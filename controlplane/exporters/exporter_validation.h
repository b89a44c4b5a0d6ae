// Validation of a tracer.v1.ExporterSpec (proto/tracer/v1/control.proto)
// before it is stored or started: every bound the proto comments state.
// Errors name the field as "exporter.<field>: <why>" (for a header
// "exporter.headers[2].key: ..."), and never quote a header value (secret).
#ifndef TRACER_CONTROLPLANE_EXPORTERS_EXPORTER_VALIDATION_H_
#define TRACER_CONTROLPLANE_EXPORTERS_EXPORTER_VALIDATION_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tracer/v1/control.pb.h"

namespace tracer::controlplane {

// Bounds (control.proto's ExporterSpec comments).
inline constexpr size_t kMaxExporterNameBytes = 64;
inline constexpr size_t kMaxEndpointBytes = 2048;
inline constexpr size_t kMaxExporterHeaders = 64;
inline constexpr size_t kMaxHeaderKeyBytes = 256;
inline constexpr size_t kMaxHeaderValueBytes = 4096;
inline constexpr size_t kMaxFilePathBytes = 4096;
inline constexpr uint32_t kMaxTimeoutMs = 600000;
inline constexpr uint32_t kMaxBatchSpans = 1000000;
inline constexpr uint64_t kMaxBatchBytes = uint64_t{64} << 20;
inline constexpr uint32_t kMaxBreakerFailureThreshold = 1000;
inline constexpr uint32_t kMaxBreakerOpenForMs = 3600000;
inline constexpr uint32_t kMaxRetryIntervalMs = 3600000;

// The status name of the embedded trace store; no exporter may take it.
inline constexpr absl::string_view kEmbeddedStoreExporterName = "embedded-store";

// Checks only the name: 1..64 bytes of [a-z0-9_.-] starting with [a-z0-9],
// not "embedded-store". Errors: INVALID_ARGUMENT "exporter.name: ...".
absl::Status ValidateExporterName(absl::string_view name);

// Checks every settable field of `spec` (the server-set fields
// created_unix_nano, version, created_by and source are ignored):
//   name       ValidateExporterName
//   protocol   "", grpc, http/protobuf, http/json
//   endpoint   required, <= 2048 bytes, parses (otlp/
//              endpoint.h) with a scheme for http/*, optional for grpc; no
//              user:password@ (credentials belong in headers)
//   headers    <= 64; keys HTTP tokens (RFC 9110 section 5.6.2) of 1..256
//              bytes; values <= 4096 bytes without CR, LF or NUL
//   compression "", none, gzip
//   timeout_ms, max_batch_spans, max_batch_bytes, breaker_*: the bounds above
//   certificate_file, client_key_file, client_certificate_file: absolute
//              paths of readable PEM files on this host; key and certificate
//              both or neither
// Reads the named files (on the calling thread). Errors: INVALID_ARGUMENT
// naming the first bad field; for unreadable files the reason from
// ReadPemFile, still prefixed with the field.
absl::Status ValidateExporterSpec(const v1::ExporterSpec& spec);

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_EXPORTERS_EXPORTER_VALIDATION_H_
