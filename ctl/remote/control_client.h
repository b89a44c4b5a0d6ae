// ControlClient: tracectl's connection to the control plane's ControlService
// (proto/tracer/v1/control.proto), over mutual TLS with the user's
// certificate, or plain text on loopback with --insecure.
#ifndef TRACER_CTL_REMOTE_CONTROL_CLIENT_H_
#define TRACER_CTL_REMOTE_CONTROL_CLIENT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ctl/remote/remote_options.h"
#include "grpcpp/channel.h"
#include "tracer/v1/control.grpc.pb.h"

namespace tracer::ctl::remote {

// One channel to a control plane. Every call is unary with `timeout`
// (default 15 s) and returns the server's status as an absl::Status with the
// same code and message (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT
// naming the field, UNAVAILABLE when the server cannot be reached or the TLS
// handshake fails). Thread-safe (gRPC stubs are).
class ControlClient {
 public:
  // Builds credentials from `c` (auth/tls.h: --certs DIR files
  // ca.pem, <user>.pem, <user>.key; --insecure refuses non-loopback servers)
  // and a channel to c.server. Connects lazily: an unreachable server shows
  // up as UNAVAILABLE on the first call. Errors: the credential errors.
  static absl::StatusOr<std::unique_ptr<ControlClient>> Dial(const ConnectionOptions& c);

  explicit ControlClient(std::shared_ptr<grpc::Channel> channel,
                         absl::Duration timeout = absl::Seconds(15));

  absl::StatusOr<tracer::v1::Session> StartSession(const tracer::v1::StartSessionRequest& req);
  absl::StatusOr<tracer::v1::Session> StopSession(const tracer::v1::StopSessionRequest& req);
  absl::StatusOr<tracer::v1::ListSessionsResponse> ListSessions(
      const tracer::v1::ListSessionsRequest& req);
  absl::StatusOr<tracer::v1::SessionDetail> GetSession(const tracer::v1::GetSessionRequest& req);
  absl::StatusOr<tracer::v1::ListAgentsResponse> ListAgents(
      const tracer::v1::ListAgentsRequest& req);
  absl::StatusOr<tracer::v1::StatusResponse> GetStatus(const tracer::v1::GetStatusRequest& req);
  absl::StatusOr<tracer::v1::ListTracesResponse> ListTraces(
      const tracer::v1::ListTracesRequest& req);
  absl::StatusOr<tracer::v1::GetTraceResponse> GetTrace(const tracer::v1::GetTraceRequest& req);
  absl::StatusOr<tracer::v1::ExporterSpec> AddExporter(const tracer::v1::AddExporterRequest& req);
  absl::StatusOr<tracer::v1::ExporterSpec> RemoveExporter(
      const tracer::v1::RemoveExporterRequest& req);
  absl::StatusOr<tracer::v1::ListExportersResponse> ListExporters(
      const tracer::v1::ListExportersRequest& req);

 private:
  std::unique_ptr<tracer::v1::ControlService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace tracer::ctl::remote

#endif  // TRACER_CTL_REMOTE_CONTROL_CLIENT_H_
