#include "ctl/remote/control_client.h"

#include "absl/strings/str_cat.h"
#include "auth/tls.h"
#include "grpcpp/create_channel.h"

namespace tracer::ctl::remote {
namespace {

template <typename Req, typename Resp, typename Method>
absl::StatusOr<Resp> Call(tracer::v1::ControlService::Stub* stub, Method method, const Req& req,
                          absl::Duration timeout) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  Resp resp;
  grpc::Status s = (stub->*method)(&ctx, req, &resp);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
  }
  return resp;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ControlClient>> ControlClient::Dial(const ConnectionOptions& c) {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (c.insecure) {
    auto ic = auth::InsecureLoopbackChannelCredentials(c.server);
    if (!ic.ok()) return ic.status();
    creds = *ic;
  } else {
    auto tc = auth::ChannelCredentialsFromFiles(auth::TlsFilesInDir(c.certs_dir, c.user));
    if (!tc.ok()) {
      return absl::Status(tc.status().code(), absl::StrCat(tc.status().message(), " (--certs ",
                                                           c.certs_dir, " --user ", c.user, ")"));
    }
    creds = *tc;
  }
  return std::make_unique<ControlClient>(grpc::CreateChannel(c.server, creds));
}

ControlClient::ControlClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(tracer::v1::ControlService::NewStub(channel)), timeout_(timeout) {}

using S = tracer::v1::ControlService::Stub;

absl::StatusOr<tracer::v1::Session> ControlClient::StartSession(
    const tracer::v1::StartSessionRequest& req) {
  return Call<tracer::v1::StartSessionRequest, tracer::v1::Session>(stub_.get(), &S::StartSession,
                                                                    req, timeout_);
}
absl::StatusOr<tracer::v1::Session> ControlClient::StopSession(
    const tracer::v1::StopSessionRequest& req) {
  return Call<tracer::v1::StopSessionRequest, tracer::v1::Session>(stub_.get(), &S::StopSession,
                                                                   req, timeout_);
}
absl::StatusOr<tracer::v1::ListSessionsResponse> ControlClient::ListSessions(
    const tracer::v1::ListSessionsRequest& req) {
  return Call<tracer::v1::ListSessionsRequest, tracer::v1::ListSessionsResponse>(
      stub_.get(), &S::ListSessions, req, timeout_);
}
absl::StatusOr<tracer::v1::SessionDetail> ControlClient::GetSession(
    const tracer::v1::GetSessionRequest& req) {
  return Call<tracer::v1::GetSessionRequest, tracer::v1::SessionDetail>(stub_.get(), &S::GetSession,
                                                                        req, timeout_);
}
absl::StatusOr<tracer::v1::ListAgentsResponse> ControlClient::ListAgents(
    const tracer::v1::ListAgentsRequest& req) {
  return Call<tracer::v1::ListAgentsRequest, tracer::v1::ListAgentsResponse>(
      stub_.get(), &S::ListAgents, req, timeout_);
}
absl::StatusOr<tracer::v1::StatusResponse> ControlClient::GetStatus(
    const tracer::v1::GetStatusRequest& req) {
  return Call<tracer::v1::GetStatusRequest, tracer::v1::StatusResponse>(stub_.get(), &S::GetStatus,
                                                                        req, timeout_);
}
absl::StatusOr<tracer::v1::ListTracesResponse> ControlClient::ListTraces(
    const tracer::v1::ListTracesRequest& req) {
  return Call<tracer::v1::ListTracesRequest, tracer::v1::ListTracesResponse>(
      stub_.get(), &S::ListTraces, req, timeout_);
}
absl::StatusOr<tracer::v1::GetTraceResponse> ControlClient::GetTrace(
    const tracer::v1::GetTraceRequest& req) {
  return Call<tracer::v1::GetTraceRequest, tracer::v1::GetTraceResponse>(stub_.get(), &S::GetTrace,
                                                                         req, timeout_);
}
absl::StatusOr<tracer::v1::ExporterSpec> ControlClient::AddExporter(
    const tracer::v1::AddExporterRequest& req) {
  return Call<tracer::v1::AddExporterRequest, tracer::v1::ExporterSpec>(
      stub_.get(), &S::AddExporter, req, timeout_);
}
absl::StatusOr<tracer::v1::ExporterSpec> ControlClient::RemoveExporter(
    const tracer::v1::RemoveExporterRequest& req) {
  return Call<tracer::v1::RemoveExporterRequest, tracer::v1::ExporterSpec>(
      stub_.get(), &S::RemoveExporter, req, timeout_);
}
absl::StatusOr<tracer::v1::ListExportersResponse> ControlClient::ListExporters(
    const tracer::v1::ListExportersRequest& req) {
  return Call<tracer::v1::ListExportersRequest, tracer::v1::ListExportersResponse>(
      stub_.get(), &S::ListExporters, req, timeout_);
}

}  // namespace tracer::ctl::remote
