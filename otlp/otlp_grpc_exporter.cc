#include "otlp/otlp_grpc_exporter.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "otlp/endpoint.h"
#include "otlp/retry_policy.h"

namespace tracer::otlp {
namespace {

constexpr char kRetryInfoType[] = "type.googleapis.com/google.rpc.RetryInfo";
constexpr char kExportMethod[] = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

const google::protobuf::UnknownField* FindField(const google::protobuf::UnknownFieldSet& set,
                                                int number,
                                                google::protobuf::UnknownField::Type type) {
  for (int i = 0; i < set.field_count(); ++i) {
    if (set.field(i).number() == number && set.field(i).type() == type) return &set.field(i);
  }
  return nullptr;
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK:
      return "OK";
    case grpc::CANCELLED:
      return "CANCELLED";
    case grpc::UNKNOWN:
      return "UNKNOWN";
    case grpc::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::ABORTED:
      return "ABORTED";
    case grpc::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::INTERNAL:
      return "INTERNAL";
    case grpc::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN_CODE";
  }
}

}  // namespace

std::optional<absl::Duration> RetryDelayFromStatusDetails(const std::string& details) {
  using google::protobuf::UnknownField;
  using google::protobuf::UnknownFieldSet;
  if (details.empty()) return std::nullopt;
  UnknownFieldSet status;  // google.rpc.Status
  if (!status.ParseFromString(details)) return std::nullopt;
  for (int i = 0; i < status.field_count(); ++i) {
    const UnknownField& f = status.field(i);
    if (f.number() != 3 || f.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    UnknownFieldSet any;  // google.protobuf.Any {type_url = 1; value = 2}
    if (!any.ParseFromString(f.length_delimited())) continue;
    const UnknownField* type_url = FindField(any, 1, UnknownField::TYPE_LENGTH_DELIMITED);
    const UnknownField* value = FindField(any, 2, UnknownField::TYPE_LENGTH_DELIMITED);
    if (type_url == nullptr || type_url->length_delimited() != kRetryInfoType) continue;
    absl::Duration delay = absl::ZeroDuration();
    UnknownFieldSet retry_info;  // google.rpc.RetryInfo {Duration retry_delay = 1}
    if (value != nullptr && retry_info.ParseFromString(value->length_delimited())) {
      const UnknownField* d = FindField(retry_info, 1, UnknownField::TYPE_LENGTH_DELIMITED);
      UnknownFieldSet duration;  // google.protobuf.Duration {seconds = 1; nanos = 2}
      if (d != nullptr && duration.ParseFromString(d->length_delimited())) {
        if (auto* s = FindField(duration, 1, UnknownField::TYPE_VARINT)) {
          delay += absl::Seconds(static_cast<int64_t>(s->varint()));
        }
        if (auto* n = FindField(duration, 2, UnknownField::TYPE_VARINT)) {
          delay += absl::Nanoseconds(static_cast<int32_t>(n->varint()));
        }
      }
    }
    return std::max(delay, absl::ZeroDuration());
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<OtlpGrpcExporter>> OtlpGrpcExporter::Create(
    const ExporterConfig& config) {
  auto ep = ParseEndpoint(config.endpoint, /*allow_no_scheme=*/true);
  if (!ep.ok()) return ep.status();
  const bool plain = ep->scheme == "http" || (ep->scheme.empty() && config.insecure);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (plain) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!config.certificate_file.empty()) {
      auto ca = ReadPemFile(config.certificate_file, "certificate");
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *ca;
    }
    if (!config.client_key_file.empty() || !config.client_certificate_file.empty()) {
      auto key = ReadPemFile(config.client_key_file, "client key");
      if (!key.ok()) return key.status();
      auto cert = ReadPemFile(config.client_certificate_file, "client certificate");
      if (!cert.ok()) return cert.status();
      ssl.pem_private_key = *key;
      ssl.pem_cert_chain = *cert;
    }
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  // A backend that comes back should be reachable within our own retry
  // schedule, not after gRPC's default reconnect backoff of up to 120 s.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);  // retries are the export engine's (otlp/delivery)
  args.SetMaxReceiveMessageSize(16 << 20);
  auto channel = grpc::CreateCustomChannel(ep->host_port, creds, args);
  return std::unique_ptr<OtlpGrpcExporter>(new OtlpGrpcExporter(config, std::move(channel)));
}

OtlpGrpcExporter::OtlpGrpcExporter(const ExporterConfig& config,
                                   std::shared_ptr<grpc::Channel> channel)
    : config_(config),
      channel_(std::move(channel)),
      export_method_(kExportMethod, grpc::internal::RpcMethod::NORMAL_RPC, channel_) {}

absl::StatusOr<ExportResult> OtlpGrpcExporter::Export(const ExportTraceServiceRequest& request) {
  grpc::ByteBuffer message;
  bool own_buffer = false;
  grpc::Status serialized = grpc::SerializationTraits<ExportTraceServiceRequest>::Serialize(
      request, &message, &own_buffer);
  if (!serialized.ok()) {
    return absl::InternalError(
        absl::StrCat(Describe(), ": serializing the request: ", serialized.error_message()));
  }
  return Call(message);
}

absl::StatusOr<ExportResult> OtlpGrpcExporter::ExportSerialized(std::string serialized) {
  // The slice owns the string: no copy into gRPC's buffer.
  auto* owned = new std::string(std::move(serialized));
  grpc::Slice slice(
      owned->data(), owned->size(), [](void* s) { delete static_cast<std::string*>(s); }, owned);
  return Call(grpc::ByteBuffer(&slice, 1));
}

absl::StatusOr<ExportResult> OtlpGrpcExporter::Call(const grpc::ByteBuffer& message) {
  absl::MutexLock serial(&export_mu_);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + config_.timeout));
  for (const auto& [key, value] : config_.headers) {
    ctx.AddMetadata(absl::AsciiStrToLower(key), value);
  }
  if (config_.compression == Compression::kGzip) {
    ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
  }
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      return absl::FailedPreconditionError(absl::StrCat(Describe(), ": exporter is shut down"));
    }
    in_flight_ = &ctx;
  }
  ExportTraceServiceResponse response;
  // What the generated stub's blocking Export does, with the message as
  // bytes (a ByteBuffer) instead of a message object to serialize.
  grpc::Status status =
      grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, ExportTraceServiceResponse,
                                        grpc::ByteBuffer, grpc::protobuf::MessageLite>(
          channel_.get(), export_method_, &ctx, message, &response);
  {
    absl::MutexLock lock(&mu_);
    in_flight_ = nullptr;
  }
  if (status.ok()) {
    ExportResult result;
    result.rejected_spans = response.partial_success().rejected_spans();
    result.partial_success_message = response.partial_success().error_message();
    return result;
  }
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  absl::Status error(code, absl::StrCat(Describe(), ": ", CodeName(status.error_code()), ": ",
                                        status.error_message()));
  std::optional<absl::Duration> delay = RetryDelayFromStatusDetails(status.error_details());
  if (IsRetryableGrpcCode(code, delay.has_value())) return MarkRetryable(error, delay);
  return error;
}

absl::Status OtlpGrpcExporter::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  if (in_flight_ != nullptr) in_flight_->TryCancel();
  return absl::OkStatus();
}

void OtlpGrpcExporter::Cancel() {
  absl::MutexLock lock(&mu_);
  if (in_flight_ != nullptr) in_flight_->TryCancel();
}

std::string OtlpGrpcExporter::Describe() const {
  return absl::StrCat("otlp/grpc ", config_.endpoint);
}

}  // namespace tracer::otlp
