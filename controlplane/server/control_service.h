// ControlServiceImpl: tracer.v1.ControlService (proto/tracer/v1/control.proto)
// for tracectl. Each RPC first runs auth::Authorize with the role control.proto
// names (viewer: list/show; operator: start/stop sessions), then validates
// its request (INVALID_ARGUMENT naming the field; nothing changes).
#ifndef TRACER_CONTROLPLANE_SERVER_CONTROL_SERVICE_H_
#define TRACER_CONTROLPLANE_SERVER_CONTROL_SERVICE_H_

#include "controlplane/ingest/upload_ingest.h"
#include "controlplane/server/agent_registry.h"
#include "controlplane/sessions/session_registry.h"
#include "controlplane/store/trace_store.h"
#include "storage/wal.h"
#include "tracer/v1/control.grpc.pb.h"

namespace tracer::controlplane {

class ControlServiceImpl final : public v1::ControlService::Service {
 public:
  // None owned; all outlive the service.
  ControlServiceImpl(SessionRegistry* sessions, AgentRegistry* agents,
                     UploadIngest* ingest, storage::Wal* queue,
                     TraceStore* store);

  grpc::Status StartSession(grpc::ServerContext* context,
                            const v1::StartSessionRequest* request,
                            v1::Session* response) override;
  grpc::Status StopSession(grpc::ServerContext* context,
                           const v1::StopSessionRequest* request,
                           v1::Session* response) override;
  grpc::Status ListSessions(grpc::ServerContext* context,
                            const v1::ListSessionsRequest* request,
                            v1::ListSessionsResponse* response) override;
  grpc::Status GetSession(grpc::ServerContext* context,
                          const v1::GetSessionRequest* request,
                          v1::SessionDetail* response) override;
  grpc::Status ListAgents(grpc::ServerContext* context,
                          const v1::ListAgentsRequest* request,
                          v1::ListAgentsResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context,
                         const v1::GetStatusRequest* request,
                         v1::StatusResponse* response) override;
  grpc::Status ListTraces(grpc::ServerContext* context,
                          const v1::ListTracesRequest* request,
                          v1::ListTracesResponse* response) override;
  grpc::Status GetTrace(grpc::ServerContext* context,
                        const v1::GetTraceRequest* request,
                        v1::GetTraceResponse* response) override;

 private:
  std::vector<v1::AgentInfo> Agents() const;

  SessionRegistry* const sessions_;
  AgentRegistry* const agents_;
  UploadIngest* const ingest_;
  storage::Wal* const queue_;
  TraceStore* const store_;
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_SERVER_CONTROL_SERVICE_H_
