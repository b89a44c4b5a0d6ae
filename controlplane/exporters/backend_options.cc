#include "controlplane/exporters/backend_options.h"

#include <algorithm>

#include "absl/time/time.h"
#include "common/status_macros.h"
#include "controlplane/exporters/exporter_validation.h"
#include "otlp/endpoint.h"

namespace tracer::controlplane {

absl::StatusOr<fanout::BackendOptions> ToBackendOptions(const v1::ExporterSpec& spec) {
  RETURN_IF_ERROR(ValidateExporterSpec(spec));
  fanout::BackendOptions out;
  out.name = spec.name();
  otlp::ExporterConfig& config = out.exporter;
  if (spec.protocol().empty() || spec.protocol() == "grpc") {
    config.protocol = otlp::Protocol::kGrpc;
  } else if (spec.protocol() == "http/protobuf") {
    config.protocol = otlp::Protocol::kHttpProtobuf;
  } else {
    config.protocol = otlp::Protocol::kHttpJson;
  }
  config.endpoint = spec.endpoint();
  if (config.protocol != otlp::Protocol::kGrpc) {
    // Validated above, so it parses.
    auto endpoint = otlp::ParseEndpoint(spec.endpoint(), /*allow_no_scheme=*/false);
    if (endpoint.ok() && (endpoint->path.empty() || endpoint->path == "/")) {
      if (config.endpoint.back() != '/') config.endpoint.push_back('/');
      config.endpoint += "v1/traces";
    }
  }
  for (const v1::ExporterSpec::Header& h : spec.headers()) {
    config.headers.emplace_back(h.key(), h.value());
  }
  config.compression =
      spec.compression() == "gzip" ? otlp::Compression::kGzip : otlp::Compression::kNone;
  config.timeout =
      absl::Milliseconds(spec.timeout_ms() == 0 ? kDefaultExporterTimeoutMs : spec.timeout_ms());
  config.certificate_file = spec.certificate_file();
  config.client_key_file = spec.client_key_file();
  config.client_certificate_file = spec.client_certificate_file();
  config.insecure = spec.insecure();
  if (spec.max_batch_spans() != 0) out.max_batch_spans = spec.max_batch_spans();
  if (spec.max_batch_bytes() != 0) out.max_batch_bytes = spec.max_batch_bytes();
  if (spec.breaker_failure_threshold() != 0) {
    out.breaker.failure_threshold = static_cast<int>(spec.breaker_failure_threshold());
  }
  if (spec.breaker_open_for_ms() != 0) {
    out.breaker.open_for = absl::Milliseconds(spec.breaker_open_for_ms());
  }
  otlp::RetryPolicy& retry = config.retry;
  if (spec.retry_initial_interval_ms() != 0) {
    retry.initial_interval = absl::Milliseconds(spec.retry_initial_interval_ms());
  }
  if (spec.retry_max_interval_ms() != 0) {
    retry.max_interval = absl::Milliseconds(spec.retry_max_interval_ms());
  }
  // Only the initial interval given: the cap is at least that.
  retry.max_interval = std::max(retry.max_interval, retry.initial_interval);
  return out;
}

}  // namespace tracer::controlplane
