// The OTLP backend of `tracectl run` and `tracectl resend`: the
// --otlp-endpoint / --otlp-protocol / --otlp-headers flags over the
// OTEL_EXPORTER_OTLP_* environment (otlp/config.h).
#ifndef TRACER_CTL_OTLP_FLAGS_H_
#define TRACER_CTL_OTLP_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "otlp/config.h"
#include "otlp/exporter_config.h"

namespace tracer::ctl {

// The flags as given; "" = not given (the environment or the default
// decides).
struct OtlpFlags {
  std::string endpoint;  // --otlp-endpoint URL
  std::string protocol;  // --otlp-protocol grpc | http | http/protobuf | http/json
  std::string headers;   // --otlp-headers "k=v,k2=v2"
};

// The value of --otlp-protocol: "grpc", "http/protobuf" (also written
// "http") or "http/json". Errors: INVALID_ARGUMENT naming the flag.
absl::StatusOr<std::string> ParseOtlpProtocolFlag(absl::string_view value);

// Whether a backend is named at all: --otlp-endpoint, or
// OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.
bool OtlpEndpointGiven(const OtlpFlags& flags, const otlp::EnvLookup& env);

// The exporter settings: flags win over the environment, gRPC by default,
// and tracectl's retry intervals (250 ms doubling to 2 s: an interactive
// command reports a backend that is down within seconds). Errors:
// INVALID_ARGUMENT naming the flag or variable at fault.
absl::StatusOr<otlp::ExporterConfig> OtlpExporterConfig(const OtlpFlags& flags,
                                                        const otlp::EnvLookup& env);

}  // namespace tracer::ctl

#endif  // TRACER_CTL_OTLP_FLAGS_H_
