// AgentServiceImpl: tracer.v1.AgentService (proto/tracer/v1/agent.proto) on
// gRPC's synchronous API, one server thread per open stream.
//
// Connect: the first message must be a valid Hello (else INVALID_ARGUMENT);
// protocol_version must be PROTOCOL_VERSION_1 (else FAILED_PRECONDITION with
// both versions). The answer is Welcome{agent_id = node_id}, then the
// agent's Policy (SessionRegistry::PolicyFor) at once and again whenever the
// policy version changes, from a writer thread per stream. Heartbeats and
// PolicyStatus update the AgentRegistry; the agent is marked disconnected
// when the stream ends.
// Upload: each request goes through UploadIngest (validation, dedup, durable
// append) and is acked; an invalid request ends the stream with its
// INVALID_ARGUMENT.
// Every call is authorized for auth::Role::kAgent; with a TLS certificate
// the certificate's CN must equal the node id / agent id.
#ifndef TRACER_CONTROLPLANE_SERVER_AGENT_SERVICE_H_
#define TRACER_CONTROLPLANE_SERVER_AGENT_SERVICE_H_

#include <cstdint>

#include "absl/time/time.h"
#include "controlplane/ingest/upload_ingest.h"
#include "controlplane/server/agent_registry.h"
#include "controlplane/sessions/session_registry.h"
#include "tracer/v1/agent.grpc.pb.h"

namespace tracer::controlplane {

class AgentServiceImpl final : public v1::AgentService::Service {
 public:
  // None owned; all outlive the service.
  AgentServiceImpl(SessionRegistry* sessions, AgentRegistry* agents, UploadIngest* ingest);

  grpc::Status Connect(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::ControlMessage, v1::AgentMessage>* stream) override;
  grpc::Status Upload(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::UploadAck, v1::UploadRequest>* stream) override;

 private:
  SessionRegistry* const sessions_;
  AgentRegistry* const agents_;
  UploadIngest* const ingest_;
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_SERVER_AGENT_SERVICE_H_
