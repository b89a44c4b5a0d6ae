#include "controlplane/server/control_service.h"

#include "absl/strings/str_cat.h"
#include "controlplane/auth/roles.h"
#include "controlplane/server/grpc_status.h"
#include "ctl/version.h"
#include "glog/logging.h"

namespace tracer::controlplane {
namespace {

constexpr size_t kMaxSessionIdBytes = 64;
constexpr size_t kMaxServiceBytes = 256;

grpc::Status Invalid(absl::string_view message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(message));
}

grpc::Status CheckSessionId(const std::string& id) {
  if (id.empty()) return Invalid("session_id: is empty");
  if (id.size() > kMaxSessionIdBytes) {
    return Invalid(absl::StrCat("session_id: longer than ", kMaxSessionIdBytes,
                                " bytes"));
  }
  return grpc::Status::OK;
}

}  // namespace

ControlServiceImpl::ControlServiceImpl(SessionRegistry* sessions,
                                       AgentRegistry* agents,
                                       UploadIngest* ingest,
                                       storage::Wal* queue, TraceStore* store)
    : sessions_(sessions),
      agents_(agents),
      ingest_(ingest),
      queue_(queue),
      store_(store) {}

std::vector<v1::AgentInfo> ControlServiceImpl::Agents() const {
  std::vector<v1::AgentInfo> agents = agents_->List();
  for (v1::AgentInfo& info : agents) {
    info.set_last_uploaded_seq(ingest_->LastStoredSeq(info.agent_id()));
  }
  return agents;
}

grpc::Status ControlServiceImpl::StartSession(
    grpc::ServerContext* context, const v1::StartSessionRequest* request,
    v1::Session* response) {
  if (grpc::Status s =
          auth::Authorize(*context, auth::Role::kOperator, "StartSession");
      !s.ok()) {
    return s;
  }
  absl::StatusOr<auth::PeerIdentity> peer = auth::PeerIdentityOf(*context);
  const std::string created_by = peer.ok() ? peer->subject : "";
  absl::StatusOr<v1::Session> session =
      sessions_->Start(request->session(), created_by);
  if (!session.ok()) {
    LOG(WARNING) << "StartSession by " << created_by
                 << " refused: " << session.status();
    return ToGrpcStatus(session.status());
  }
  LOG(INFO) << "session " << session->id() << " started by " << created_by
            << " (policy version " << session->version() << ")";
  *response = *std::move(session);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::StopSession(
    grpc::ServerContext* context, const v1::StopSessionRequest* request,
    v1::Session* response) {
  if (grpc::Status s =
          auth::Authorize(*context, auth::Role::kOperator, "StopSession");
      !s.ok()) {
    return s;
  }
  if (grpc::Status s = CheckSessionId(request->session_id()); !s.ok()) return s;
  absl::StatusOr<v1::Session> session = sessions_->Stop(request->session_id());
  if (!session.ok()) return ToGrpcStatus(session.status());
  LOG(INFO) << "session " << session->id() << " stopped";
  *response = *std::move(session);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::ListSessions(
    grpc::ServerContext* context, const v1::ListSessionsRequest* request,
    v1::ListSessionsResponse* response) {
  if (grpc::Status s =
          auth::Authorize(*context, auth::Role::kViewer, "ListSessions");
      !s.ok()) {
    return s;
  }
  for (v1::Session& session : sessions_->List(request->include_stopped())) {
    *response->add_sessions() = std::move(session);
  }
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::GetSession(
    grpc::ServerContext* context, const v1::GetSessionRequest* request,
    v1::SessionDetail* response) {
  if (grpc::Status s =
          auth::Authorize(*context, auth::Role::kViewer, "GetSession");
      !s.ok()) {
    return s;
  }
  if (grpc::Status s = CheckSessionId(request->session_id()); !s.ok()) return s;
  absl::StatusOr<v1::Session> session = sessions_->Get(request->session_id());
  if (!session.ok()) return ToGrpcStatus(session.status());
  for (auto& state : agents_->SessionStates(*session)) {
    *response->add_agents() = std::move(state);
  }
  *response->mutable_session() = *std::move(session);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::ListAgents(
    grpc::ServerContext* context, const v1::ListAgentsRequest*,
    v1::ListAgentsResponse* response) {
  if (grpc::Status s =
          auth::Authorize(*context, auth::Role::kViewer, "ListAgents");
      !s.ok()) {
    return s;
  }
  for (v1::AgentInfo& info : Agents()) *response->add_agents() = std::move(info);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::GetStatus(grpc::ServerContext* context,
                                           const v1::GetStatusRequest*,
                                           v1::StatusResponse* response) {
  if (grpc::Status s =
          auth::Authorize(*context, auth::Role::kViewer, "GetStatus");
      !s.ok()) {
    return s;
  }
  response->set_controlplane_version(ctl::kVersion);
  for (v1::AgentInfo& info : Agents()) *response->add_agents() = std::move(info);
  const storage::WalStats queue = queue_->Stats();
  response->set_queue_records(queue.records);
  response->set_queue_bytes(queue.stored_bytes);
  response->set_spans_stored(store_->Stats().spans);
  // The embedded store is the one exporter so far: its queue cursor.
  v1::ExporterStatus* store = response->add_exporters();
  store->set_name("embedded-store");
  store->set_endpoint("local");
  store->set_spans_sent(store_->Stats().spans);
  for (const storage::ConsumerStats& consumer : queue.consumers) {
    if (consumer.name == kStoreConsumer) {
      store->set_queue_lag_records(consumer.lag_records);
    }
  }
  store->set_circuit_state("closed");
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::ListTraces(
    grpc::ServerContext* context, const v1::ListTracesRequest* request,
    v1::ListTracesResponse* response) {
  if (grpc::Status s =
          auth::Authorize(*context, auth::Role::kViewer, "ListTraces");
      !s.ok()) {
    return s;
  }
  if (request->limit() > 1000) return Invalid("limit: more than 1000");
  if (request->service_name().size() > kMaxServiceBytes) {
    return Invalid(absl::StrCat("service_name: longer than ", kMaxServiceBytes,
                                " bytes"));
  }
  const uint32_t limit = request->limit() == 0 ? 100 : request->limit();
  absl::StatusOr<std::vector<v1::TraceSummary>> traces = store_->ListTraces(
      request->since_unix_nano(), request->service_name(), limit);
  if (!traces.ok()) return ToGrpcStatus(traces.status());
  for (v1::TraceSummary& t : *traces) *response->add_traces() = std::move(t);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::GetTrace(grpc::ServerContext* context,
                                          const v1::GetTraceRequest* request,
                                          v1::GetTraceResponse* response) {
  if (grpc::Status s =
          auth::Authorize(*context, auth::Role::kViewer, "GetTrace");
      !s.ok()) {
    return s;
  }
  if (request->trace_id().size() != 16) {
    return Invalid(absl::StrCat("trace_id: must be 16 bytes, got ",
                                request->trace_id().size()));
  }
  auto trace = store_->GetTrace(request->trace_id());
  if (!trace.ok()) return ToGrpcStatus(trace.status());
  for (auto& rs : *trace) *response->add_resource_spans() = std::move(rs);
  return grpc::Status::OK;
}

}  // namespace tracer::controlplane
