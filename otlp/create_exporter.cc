// CreateExporter (declared in config.h): picks the transport for the
// configured protocol and wraps it in RetryingExporter.
#include <memory>
#include <utility>

#include "otlp/config.h"
#include "otlp/otlp_grpc_exporter.h"
#include "otlp/otlp_http_exporter.h"

namespace tracer::otlp {

absl::StatusOr<std::unique_ptr<SpanExporter>> CreateExporter(const ExporterConfig& config) {
  std::unique_ptr<SpanExporter> transport;
  if (config.protocol == Protocol::kGrpc) {
    auto ex = OtlpGrpcExporter::Create(config);
    if (!ex.ok()) return ex.status();
    transport = *std::move(ex);
  } else {
    auto ex = OtlpHttpExporter::Create(config);
    if (!ex.ok()) return ex.status();
    transport = *std::move(ex);
  }
  return std::unique_ptr<SpanExporter>(
      std::make_unique<RetryingExporter>(std::move(transport), config.retry));
}

}  // namespace tracer::otlp
