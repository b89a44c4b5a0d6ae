// ControlServiceImpl: tracer.v1.ControlService (proto/tracer/v1/control.proto)
// for tracectl. Each RPC first runs auth::Authorize with the role control.proto
// names (viewer: list/show/status; operator: start/stop sessions; admin:
// add/remove exporters), then validates its request (INVALID_ARGUMENT naming
// the field; nothing changes). Exporter header values are secrets: no reply
// carries them.
#ifndef TRACER_CONTROLPLANE_SERVER_CONTROL_SERVICE_H_
#define TRACER_CONTROLPLANE_SERVER_CONTROL_SERVICE_H_

#include "controlplane/exporters/exporter_manager.h"
#include "controlplane/exporters/exporter_registry.h"
#include "controlplane/fanout/fanout.h"
#include "controlplane/ingest/upload_ingest.h"
#include "controlplane/server/agent_registry.h"
#include "controlplane/sessions/session_registry.h"
#include "controlplane/store/trace_store.h"
#include "storage/wal.h"
#include "tracer/v1/control.grpc.pb.h"

namespace tracer::controlplane {

class ControlServiceImpl final : public v1::ControlService::Service {
 public:
  // The exporter parts of ControlServiceImpl.
  struct Exporters {
    ExporterRegistry* registry = nullptr;
    ExporterManager* manager = nullptr;
    fanout::FanOut* fanout = nullptr;
  };

  // None owned; all outlive the service.
  ControlServiceImpl(SessionRegistry* sessions, AgentRegistry* agents, UploadIngest* ingest,
                     storage::Wal* queue, TraceStore* store, Exporters exporters);

  // The status snapshot GetStatus returns (and /metrics renders), without
  // the authorization check: versions, agents, queue, store, and one
  // ExporterStatus per exporter (the embedded store first, then the
  // fan-out's backends by name). Thread-safe.
  v1::StatusResponse BuildStatus() const;

  grpc::Status StartSession(grpc::ServerContext* context, const v1::StartSessionRequest* request,
                            v1::Session* response) override;
  grpc::Status StopSession(grpc::ServerContext* context, const v1::StopSessionRequest* request,
                           v1::Session* response) override;
  grpc::Status ListSessions(grpc::ServerContext* context, const v1::ListSessionsRequest* request,
                            v1::ListSessionsResponse* response) override;
  grpc::Status GetSession(grpc::ServerContext* context, const v1::GetSessionRequest* request,
                          v1::SessionDetail* response) override;
  grpc::Status ListAgents(grpc::ServerContext* context, const v1::ListAgentsRequest* request,
                          v1::ListAgentsResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::StatusResponse* response) override;
  grpc::Status ListTraces(grpc::ServerContext* context, const v1::ListTracesRequest* request,
                          v1::ListTracesResponse* response) override;
  grpc::Status GetTrace(grpc::ServerContext* context, const v1::GetTraceRequest* request,
                        v1::GetTraceResponse* response) override;
  grpc::Status AddExporter(grpc::ServerContext* context, const v1::AddExporterRequest* request,
                           v1::ExporterSpec* response) override;
  grpc::Status RemoveExporter(grpc::ServerContext* context,
                              const v1::RemoveExporterRequest* request,
                              v1::ExporterSpec* response) override;
  grpc::Status ListExporters(grpc::ServerContext* context, const v1::ListExportersRequest* request,
                             v1::ListExportersResponse* response) override;

 private:
  std::vector<v1::AgentInfo> Agents() const;

  SessionRegistry* const sessions_;
  AgentRegistry* const agents_;
  UploadIngest* const ingest_;
  storage::Wal* const queue_;
  TraceStore* const store_;
  const Exporters exporters_;
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_SERVER_CONTROL_SERVICE_H_
