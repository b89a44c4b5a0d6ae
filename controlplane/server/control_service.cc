#include "controlplane/server/control_service.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "auth/authorize.h"
#include "controlplane/exporters/exporter_validation.h"
#include "controlplane/server/grpc_status.h"
#include "glog/logging.h"
#include "otlp/parse_counter.h"
#include "tracer/v1/session_limits.h"
#include "version/semver.h"

namespace tracer::controlplane {
namespace {

constexpr size_t kMaxServiceBytes = 256;

grpc::Status Invalid(absl::string_view message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(message));
}

grpc::Status CheckSessionId(const std::string& id) {
  if (id.empty()) return Invalid("session_id: is empty");
  if (id.size() > v1::kMaxSessionIdBytes) {
    return Invalid(absl::StrCat("session_id: longer than ", v1::kMaxSessionIdBytes, " bytes"));
  }
  return grpc::Status::OK;
}

}  // namespace

ControlServiceImpl::ControlServiceImpl(SessionRegistry* sessions, AgentRegistry* agents,
                                       UploadIngest* ingest, storage::Wal* queue, TraceStore* store,
                                       Exporters exporters)
    : sessions_(sessions),
      agents_(agents),
      ingest_(ingest),
      queue_(queue),
      store_(store),
      exporters_(exporters) {}

std::vector<v1::AgentInfo> ControlServiceImpl::Agents() const {
  std::vector<v1::AgentInfo> agents = agents_->List();
  for (v1::AgentInfo& info : agents) {
    info.set_last_uploaded_seq(ingest_->LastStoredSeq(info.agent_id()));
  }
  return agents;
}

grpc::Status ControlServiceImpl::StartSession(grpc::ServerContext* context,
                                              const v1::StartSessionRequest* request,
                                              v1::Session* response) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kOperator, "StartSession"); !s.ok()) {
    return s;
  }
  absl::StatusOr<auth::PeerIdentity> peer = auth::PeerIdentityOf(*context);
  const std::string created_by = peer.ok() ? peer->subject : "";
  absl::StatusOr<v1::Session> session = sessions_->Start(request->session(), created_by);
  if (!session.ok()) {
    LOG(WARNING) << "StartSession by " << created_by << " refused: " << session.status();
    return ToGrpcStatus(session.status());
  }
  LOG(INFO) << "session " << session->id() << " started by " << created_by << " (policy version "
            << session->version() << ")";
  *response = *std::move(session);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::StopSession(grpc::ServerContext* context,
                                             const v1::StopSessionRequest* request,
                                             v1::Session* response) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kOperator, "StopSession"); !s.ok()) {
    return s;
  }
  if (grpc::Status s = CheckSessionId(request->session_id()); !s.ok()) return s;
  absl::StatusOr<v1::Session> session = sessions_->Stop(request->session_id());
  if (!session.ok()) return ToGrpcStatus(session.status());
  LOG(INFO) << "session " << session->id() << " stopped";
  *response = *std::move(session);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::ListSessions(grpc::ServerContext* context,
                                              const v1::ListSessionsRequest* request,
                                              v1::ListSessionsResponse* response) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kViewer, "ListSessions"); !s.ok()) {
    return s;
  }
  for (v1::Session& session : sessions_->List(request->include_stopped())) {
    *response->add_sessions() = std::move(session);
  }
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::GetSession(grpc::ServerContext* context,
                                            const v1::GetSessionRequest* request,
                                            v1::SessionDetail* response) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kViewer, "GetSession"); !s.ok()) {
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

grpc::Status ControlServiceImpl::ListAgents(grpc::ServerContext* context,
                                            const v1::ListAgentsRequest*,
                                            v1::ListAgentsResponse* response) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kViewer, "ListAgents"); !s.ok()) {
    return s;
  }
  for (v1::AgentInfo& info : Agents()) *response->add_agents() = std::move(info);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::GetStatus(grpc::ServerContext* context,
                                           const v1::GetStatusRequest*,
                                           v1::StatusResponse* response) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kViewer, "GetStatus"); !s.ok()) {
    return s;
  }
  *response = BuildStatus();
  return grpc::Status::OK;
}

v1::StatusResponse ControlServiceImpl::BuildStatus() const {
  v1::StatusResponse status;
  v1::StatusResponse* response = &status;
  response->set_controlplane_version(version::kVersion);
  for (v1::AgentInfo& info : Agents()) *response->add_agents() = std::move(info);
  const storage::WalStats queue = queue_->Stats();
  response->set_queue_records(queue.records);
  response->set_queue_bytes(queue.stored_bytes);
  response->set_queue_spans(queue.spans);
  response->set_queue_dropped_spans(queue.dropped_oldest_spans);
  response->set_queue_rejected_spans(queue.rejected_spans);
  response->set_spans_stored(store_->Stats().spans);
  const otlp::ParseCounts parses = otlp::GetParseCounts();
  for (int site = 0; site < otlp::kParseSites; ++site) {
    (*response->mutable_otlp_parses())[std::string(
        otlp::ParseSiteName(static_cast<otlp::ParseSite>(site)))] = parses.parses[site];
  }
  response->set_batches_accepted(parses.batches_accepted);
  // The embedded store: its own queue cursor.
  v1::ExporterStatus* store = response->add_exporters();
  store->set_name(std::string(kEmbeddedStoreExporterName));
  store->set_endpoint("local");
  store->set_spans_sent(store_->Stats().spans);
  for (const storage::ConsumerStats& consumer : queue.consumers) {
    if (consumer.name == kStoreConsumer) {
      store->set_queue_lag_records(consumer.lag_records);
      store->set_queue_lag_spans(consumer.lag_spans);
      store->set_queue_dropped_spans(consumer.dropped_spans);
    }
  }
  store->set_circuit_state("closed");
  if (exporters_.registry != nullptr) {
    response->set_exporters_version(exporters_.registry->version());
  }
  if (exporters_.fanout == nullptr) return status;
  std::map<std::string, v1::ExporterSpec> specs;
  if (exporters_.registry != nullptr) {
    for (v1::ExporterSpec& spec : exporters_.registry->ListRedacted()) {
      std::string name = spec.name();
      specs.emplace(std::move(name), std::move(spec));
    }
  }
  for (const fanout::BackendStats& b : exporters_.fanout->Stats()) {
    v1::ExporterStatus* e = response->add_exporters();
    e->set_name(b.name);
    e->set_endpoint(b.endpoint);
    e->set_spans_sent(b.spans_sent);
    e->set_requests_sent(b.requests_sent);
    e->set_spans_rejected(b.spans_rejected);
    e->set_spans_failed(b.spans_failed);
    for (const auto& [reason, spans] : b.spans_failed_by_reason) {
      (*e->mutable_spans_failed_by_reason())[reason] = spans;
    }
    e->set_spans_retried(b.spans_retried);
    e->set_spans_dead_lettered(b.spans_dead_lettered);
    e->set_queue_lag_records(b.queue_lag_records);
    e->set_queue_lag_spans(b.queue_lag_spans);
    e->set_queue_dropped_spans(b.queue_dropped_spans);
    e->set_circuit_state(std::string(fanout::CircuitStateName(b.circuit)));
    e->set_last_error(b.last_error);
    if (auto it = specs.find(b.name); it != specs.end()) {
      e->set_version(it->second.version());
      e->set_protocol(it->second.protocol().empty() ? "grpc" : it->second.protocol());
    }
  }
  return status;
}

grpc::Status ControlServiceImpl::AddExporter(grpc::ServerContext* context,
                                             const v1::AddExporterRequest* request,
                                             v1::ExporterSpec* response) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kAdmin, "AddExporter"); !s.ok()) {
    return s;
  }
  if (exporters_.manager == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "exporters are not enabled");
  }
  absl::StatusOr<auth::PeerIdentity> peer = auth::PeerIdentityOf(*context);
  const std::string created_by = peer.ok() ? peer->subject : "";
  absl::StatusOr<v1::ExporterSpec> spec =
      exporters_.manager->Add(request->exporter(), request->replace(), created_by);
  if (!spec.ok()) {
    // The status never carries header values (exporter_validation.h).
    LOG(WARNING) << "AddExporter " << request->exporter().name() << " by " << created_by
                 << " refused: " << spec.status();
    return ToGrpcStatus(spec.status());
  }
  LOG(INFO) << "exporter " << spec->name() << " " << spec->endpoint()
            << (request->replace() ? " added or replaced" : " added") << " by " << created_by
            << " (exporters version " << spec->version() << ")";
  *response = *std::move(spec);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::RemoveExporter(grpc::ServerContext* context,
                                                const v1::RemoveExporterRequest* request,
                                                v1::ExporterSpec* response) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kAdmin, "RemoveExporter"); !s.ok()) {
    return s;
  }
  if (exporters_.manager == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "exporters are not enabled");
  }
  absl::StatusOr<v1::ExporterSpec> spec = exporters_.manager->Remove(request->name());
  if (!spec.ok()) return ToGrpcStatus(spec.status());
  absl::StatusOr<auth::PeerIdentity> peer = auth::PeerIdentityOf(*context);
  LOG(INFO) << "exporter " << spec->name() << " removed by " << (peer.ok() ? peer->subject : "")
            << " (exporters version " << spec->version() << ")";
  *response = *std::move(spec);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::ListExporters(grpc::ServerContext* context,
                                               const v1::ListExportersRequest*,
                                               v1::ListExportersResponse* response) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kViewer, "ListExporters"); !s.ok()) {
    return s;
  }
  if (exporters_.registry == nullptr) return grpc::Status::OK;
  response->set_version(exporters_.registry->version());
  for (v1::ExporterSpec& spec : exporters_.registry->ListRedacted()) {
    *response->add_exporters() = std::move(spec);
  }
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::ListTraces(grpc::ServerContext* context,
                                            const v1::ListTracesRequest* request,
                                            v1::ListTracesResponse* response) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kViewer, "ListTraces"); !s.ok()) {
    return s;
  }
  if (request->limit() > 1000) return Invalid("limit: more than 1000");
  if (request->service_name().size() > kMaxServiceBytes) {
    return Invalid(absl::StrCat("service_name: longer than ", kMaxServiceBytes, " bytes"));
  }
  const uint32_t limit = request->limit() == 0 ? 100 : request->limit();
  absl::StatusOr<std::vector<v1::TraceSummary>> traces =
      store_->ListTraces(request->since_unix_nano(), request->service_name(), limit);
  if (!traces.ok()) return ToGrpcStatus(traces.status());
  for (v1::TraceSummary& t : *traces) *response->add_traces() = std::move(t);
  return grpc::Status::OK;
}

grpc::Status ControlServiceImpl::GetTrace(grpc::ServerContext* context,
                                          const v1::GetTraceRequest* request,
                                          v1::GetTraceResponse* response) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kViewer, "GetTrace"); !s.ok()) {
    return s;
  }
  if (request->trace_id().size() != 16) {
    return Invalid(absl::StrCat("trace_id: must be 16 bytes, got ", request->trace_id().size()));
  }
  auto trace = store_->GetTrace(request->trace_id());
  if (!trace.ok()) return ToGrpcStatus(trace.status());
  for (auto& rs : *trace) *response->add_resource_spans() = std::move(rs);
  return grpc::Status::OK;
}

}  // namespace tracer::controlplane
