// Exporters the control plane is started with (DESIGN.md "Export"): a JSON
// configuration file, and one "default" exporter from command-line flags
// and the standard OTEL_EXPORTER_OTLP_* environment variables.
#ifndef TRACER_CONTROLPLANE_EXPORTERS_STARTUP_EXPORTERS_H_
#define TRACER_CONTROLPLANE_EXPORTERS_STARTUP_EXPORTERS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "otlp/config.h"
#include "otlp/exporter_config.h"
#include "tracer/v1/control.pb.h"

namespace tracer::controlplane {

// ExporterSpec.source values of start-up exporters.
inline constexpr absl::string_view kConfigSource = "config";
inline constexpr absl::string_view kFlagsSource = "flags";
inline constexpr absl::string_view kEnvSource = "env";

// Name of the exporter the flags / environment configure.
inline constexpr absl::string_view kDefaultExporterName = "default";

// Reads an exporters file: the protobuf JSON mapping of
// tracer.v1.ExporterSpecList, e.g.
//   {"exporters": [
//     {"name": "tempo", "protocol": "grpc", "endpoint": "https://tempo:4317",
//      "certificateFile": "/etc/tracer/tempo-ca.pem"},
//     {"name": "honeycomb", "protocol": "http/protobuf",
//      "endpoint": "https://api.honeycomb.io",
//      "headers": [{"key": "x-honeycomb-team", "value": "${HONEYCOMB_API_KEY}"}]}]}
// (field names in lowerCamelCase or as in the .proto). A header value that
// is exactly "${NAME}" is replaced by environment variable NAME through
// `env`, so secrets need not sit in the file. Every exporter is validated
// (exporter_validation.h); names must be unique. Server-set fields
// (createdUnixNano, version, createdBy, source) are refused. Errors:
// NOT_FOUND / INTERNAL reading the file; INVALID_ARGUMENT "<path>: ..."
// for bad JSON, unknown fields, "exporters[i]: exporter.<field>: ..." and
// "${NAME} is not set".
absl::StatusOr<std::vector<v1::ExporterSpec>> LoadExportersFile(const std::string& path,
                                                                const otlp::EnvLookup& env);

// Command-line settings of the default exporter (trace-controlplane's
// --otlp_endpoint / --otlp_protocol; empty = not given).
struct DefaultExporterFlags {
  std::string endpoint;
  std::string protocol;
};

// The "default" exporter, or nullopt when neither flags.endpoint nor
// OTEL_EXPORTER_OTLP_ENDPOINT nor OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set.
// Built by otlp::ExporterConfigFromEnv (the OpenTelemetry
// specification's exporter.md rules: TRACES_ variables win over the generic
// ones, "/v1/traces" appended for OTLP/HTTP, headers, compression, timeout,
// certificate files, insecure), with the flags overriding endpoint and
// protocol. The protocol defaults to grpc, as for tracectl run. Returns the
// spec with source "flags" when flags.endpoint is set, else "env". Errors:
// INVALID_ARGUMENT from the parsing (naming the variable) or from
// validation (naming the field).
absl::StatusOr<std::optional<v1::ExporterSpec>> DefaultExporter(const DefaultExporterFlags& flags,
                                                                const otlp::EnvLookup& env);

// The spec describing `config` under `name` (protocol, endpoint, headers,
// compression, timeout, TLS files, insecure; batch and breaker settings left
// at their defaults). Not validated.
v1::ExporterSpec SpecFromExporterConfig(absl::string_view name, const otlp::ExporterConfig& config);

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_EXPORTERS_STARTUP_EXPORTERS_H_
