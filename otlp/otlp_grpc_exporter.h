// OTLP/gRPC span exporter: unary TraceService/Export calls, the request
// sent as protobuf bytes (a serialized message, or bytes given as they are
// through ExportSerialized).
//
// Follows the OTLP specification, protocol/otlp.md "OTLP/gRPC": one
// ExportTraceServiceRequest per call, the response's partial_success counted,
// failures classified per "OTLP/gRPC Throttling" / "Failures" (retryable
// codes marked with MarkRetryable, RetryInfo's retry_delay as the hint).
#ifndef TRACER_OTLP_OTLP_GRPC_EXPORTER_H_
#define TRACER_OTLP_OTLP_GRPC_EXPORTER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/support/byte_buffer.h"
#include "otlp/exporter.h"
#include "otlp/exporter_config.h"

namespace tracer::otlp {

// Exports over OTLP/gRPC to config.endpoint. Transport security: plain text
// for "http://" endpoints, or without scheme when config.insecure; TLS
// otherwise, verified with config.certificate_file (PEM CAs) or the system
// roots, presenting config.client_certificate_file/client_key_file when set.
// Headers become call metadata (keys lower-cased). Each call has the
// deadline config.timeout; gzip when config.compression says so.
//
// Thread-safe: Export() calls are serialised; Cancel() aborts the call in
// flight (it ends with CANCELLED, which is retryable; the export engine's
// worker cancels only when it stops, and keeps the batch for the next one).
class OtlpGrpcExporter : public SpanExporter {
 public:
  // Reads the TLS files and creates the channel (connection is lazy).
  // Errors: INVALID_ARGUMENT (endpoint), file errors from ReadPemFile.
  static absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> Create(const ExporterConfig& config);

  absl::StatusOr<ExportResult> Export(const ExportTraceServiceRequest& request) override;
  // kWire: the call carries the serialized request.
  RequestForm request_form() const override { return RequestForm::kWire; }
  // Sends `serialized` as the call's message without parsing or copying it
  // (gRPC's buffer takes the string over).
  absl::StatusOr<ExportResult> ExportSerialized(std::string serialized) override;
  absl::Status Shutdown() override;
  void Cancel() override;
  std::string Describe() const override;

 private:
  OtlpGrpcExporter(const ExporterConfig& config, std::shared_ptr<grpc::Channel> channel);
  // One TraceService/Export call with the serialized request `message`.
  absl::StatusOr<ExportResult> Call(const grpc::ByteBuffer& message);

  const ExporterConfig config_;
  std::shared_ptr<grpc::Channel> channel_;
  // TraceService/Export, registered on channel_ as the generated stub does.
  const grpc::internal::RpcMethod export_method_;
  absl::Mutex export_mu_;  // serialises Export()
  absl::Mutex mu_;
  grpc::ClientContext* in_flight_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

// Extracts google.rpc.RetryInfo.retry_delay from a gRPC status's binary
// details (the serialized google.rpc.Status of the "grpc-status-details-bin"
// trailer). nullopt when there is no RetryInfo. Exposed for tests.
std::optional<absl::Duration> RetryDelayFromStatusDetails(const std::string& details);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_OTLP_GRPC_EXPORTER_H_
