#include "controlplane/fanout/transport.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "controlplane/export/otlp_grpc_exporter.h"
#include "controlplane/export/otlp_http_exporter.h"

namespace tracer::fanout {
namespace {

template <typename T>
absl::StatusOr<std::unique_ptr<exporting::SpanExporter>> Upcast(
    absl::StatusOr<std::unique_ptr<T>> made, const std::string& name) {
  if (!made.ok()) {
    return absl::Status(made.status().code(),
                        absl::StrCat("backend ", name, ": ", made.status().message()));
  }
  return std::unique_ptr<exporting::SpanExporter>(*std::move(made));
}

}  // namespace

absl::StatusOr<std::unique_ptr<exporting::SpanExporter>> CreateTransport(
    const BackendOptions& options) {
  // Not config.h's CreateExporter: its RetryingExporter rebuilds the error
  // of a failed attempt and so drops the retryable mark the worker needs.
  if (options.exporter.protocol == exporting::Protocol::kGrpc) {
    return Upcast(exporting::OtlpGrpcExporter::Create(options.exporter), options.name);
  }
  return Upcast(exporting::OtlpHttpExporter::Create(options.exporter), options.name);
}

}  // namespace tracer::fanout
