// OTLP exporter configuration: the standard OTEL_EXPORTER_OTLP_* environment
// variables and command-line overrides (create_exporter.h builds the
// exporter the result describes).
//
// Follows the OpenTelemetry specification,
// specification/protocol/exporter.md ("OpenTelemetry Protocol Exporter",
// configuration options and "Endpoint URLs for OTLP/HTTP") and
// specification/configuration/sdk-environment-variables.md.
#ifndef TRACER_OTLP_CONFIG_H_
#define TRACER_OTLP_CONFIG_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "otlp/exporter_config.h"

namespace tracer::otlp {

// Returns the value of an environment variable, or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Looks names up in this process's environment (getenv).
EnvLookup ProcessEnv();

// Settings that take precedence over the environment (command-line flags).
struct ConfigOverrides {
  // Used when neither the flags nor the environment set a protocol. The
  // specification suggests http/protobuf; tracectl documents grpc.
  Protocol default_protocol = Protocol::kGrpc;
  std::optional<Protocol> protocol;
  // An endpoint URL. For OTLP/HTTP, "/v1/traces" is appended when the URL has
  // no path (or just "/"); a URL with a path is used as is.
  std::optional<std::string> endpoint;
  // "k=v,k2=v2" as OTEL_EXPORTER_OTLP_HEADERS; replaces the environment's.
  std::optional<std::string> headers;
  std::optional<absl::Duration> timeout;
};

// Builds an ExporterConfig from the OTLP exporter environment variables:
// OTEL_EXPORTER_OTLP_{,TRACES_}{ENDPOINT,HEADERS,PROTOCOL,COMPRESSION,TIMEOUT,
// CERTIFICATE,CLIENT_KEY,CLIENT_CERTIFICATE,INSECURE}. The TRACES_ variant
// wins over the generic one; `overrides` win over both; empty values count as
// unset. Endpoint rules: the TRACES_ endpoint is used as is; for OTLP/HTTP
// the generic one gets "v1/traces" appended to its path; defaults are
// http://localhost:4317 (gRPC) and http://localhost:4318/v1/traces (HTTP).
// TIMEOUT is in milliseconds. Errors: INVALID_ARGUMENT naming the variable
// and the bad value (unknown protocol/compression, bad header list, bad
// timeout, endpoint without http(s) scheme for OTLP/HTTP, a client key
// without certificate or vice versa).
absl::StatusOr<ExporterConfig> ExporterConfigFromEnv(const EnvLookup& env,
                                                     const ConfigOverrides& overrides = {});

// Parses "grpc", "http/protobuf" or "http/json".
absl::StatusOr<Protocol> ParseProtocol(std::string_view value);

// Parses a W3C-baggage-like header list "k1=v1,k2=v2": members separated by
// commas, optional whitespace around members, keys and values
// percent-decoded, the first '=' separates key and value, empty members are
// skipped. Errors (INVALID_ARGUMENT, with the member's position): a member
// without '=', an empty key, a key that is not an HTTP token (RFC 9110
// section 5.6.2), a bad percent escape, a CR/LF/NUL in a value.
absl::StatusOr<Headers> ParseHeaders(std::string_view list);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_CONFIG_H_
