#include "otlp/create_exporter.h"

#include <utility>

#include "otlp/otlp_grpc_exporter.h"
#include "otlp/otlp_http_exporter.h"

namespace tracer::otlp {
namespace {

template <typename T>
absl::StatusOr<std::unique_ptr<SpanExporter>> Upcast(absl::StatusOr<std::unique_ptr<T>> made) {
  if (!made.ok()) return made.status();
  return std::unique_ptr<SpanExporter>(*std::move(made));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SpanExporter>> CreateExporter(const ExporterConfig& config) {
  if (config.protocol == Protocol::kGrpc) return Upcast(OtlpGrpcExporter::Create(config));
  return Upcast(OtlpHttpExporter::Create(config));
}

}  // namespace tracer::otlp
