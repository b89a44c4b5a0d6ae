#include "ctl/otlp_flags.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace tracer::ctl {

absl::StatusOr<std::string> ParseOtlpProtocolFlag(absl::string_view value) {
  if (value == "http") return std::string("http/protobuf");
  if (value == "grpc" || value == "http/protobuf" || value == "http/json") {
    return std::string(value);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--otlp-protocol ", value, ": expected grpc, http (http/protobuf) or http/json"));
}

bool OtlpEndpointGiven(const OtlpFlags& flags, const otlp::EnvLookup& env) {
  return !flags.endpoint.empty() || env("OTEL_EXPORTER_OTLP_ENDPOINT").has_value() ||
         env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").has_value();
}

absl::StatusOr<otlp::ExporterConfig> OtlpExporterConfig(const OtlpFlags& flags,
                                                        const otlp::EnvLookup& env) {
  otlp::ConfigOverrides overrides;
  if (!flags.endpoint.empty()) overrides.endpoint = flags.endpoint;
  if (!flags.headers.empty()) overrides.headers = flags.headers;
  if (!flags.protocol.empty()) {
    ASSIGN_OR_RETURN(overrides.protocol, otlp::ParseProtocol(flags.protocol));
  }
  ASSIGN_OR_RETURN(otlp::ExporterConfig config, otlp::ExporterConfigFromEnv(env, overrides));
  config.retry.initial_interval = absl::Milliseconds(250);
  config.retry.max_interval = absl::Seconds(2);
  return config;
}

}  // namespace tracer::ctl
