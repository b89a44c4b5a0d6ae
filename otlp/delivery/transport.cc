#include "otlp/delivery/transport.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "otlp/otlp_grpc_exporter.h"
#include "otlp/otlp_http_exporter.h"

namespace tracer::otlp::delivery {
namespace {

template <typename T>
absl::StatusOr<std::unique_ptr<otlp::SpanExporter>> Upcast(absl::StatusOr<std::unique_ptr<T>> made,
                                                           const std::string& name) {
  if (!made.ok()) {
    return absl::Status(made.status().code(),
                        absl::StrCat("backend ", name, ": ", made.status().message()));
  }
  return std::unique_ptr<otlp::SpanExporter>(*std::move(made));
}

}  // namespace

absl::StatusOr<std::unique_ptr<otlp::SpanExporter>> CreateTransport(const BackendOptions& options) {
  // Not config.h's CreateExporter: its RetryingExporter rebuilds the error
  // of a failed attempt and so drops the retryable mark the worker needs.
  if (options.exporter.protocol == otlp::Protocol::kGrpc) {
    return Upcast(otlp::OtlpGrpcExporter::Create(options.exporter), options.name);
  }
  return Upcast(otlp::OtlpHttpExporter::Create(options.exporter), options.name);
}

}  // namespace tracer::otlp::delivery
