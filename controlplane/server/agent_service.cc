#include "controlplane/server/agent_service.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "auth/authorize.h"
#include "controlplane/server/grpc_status.h"
#include "glog/logging.h"
#include "version/semver.h"

namespace tracer::controlplane {
namespace {

// How often a stream's policy writer re-checks cancellation.
constexpr absl::Duration kPolicyPoll = absl::Milliseconds(250);

// With a certificate, the agent may only speak for itself.
grpc::Status CheckAgentIdentity(const grpc::ServerContext& context, const std::string& agent_id) {
  absl::StatusOr<auth::PeerIdentity> peer = auth::PeerIdentityOf(context);
  if (!peer.ok()) return ToGrpcStatus(peer.status());
  if (peer->insecure || peer->role != auth::Role::kAgent) {
    return grpc::Status::OK;
  }
  if (peer->common_name != agent_id) {
    LOG(WARNING) << "agent certificate " << peer->subject << " used for agent id " << agent_id
                 << " from " << context.peer();
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat("certificate CN \"", peer->common_name,
                                     "\" may not act as agent \"", agent_id, "\""));
  }
  return grpc::Status::OK;
}

}  // namespace

AgentServiceImpl::AgentServiceImpl(SessionRegistry* sessions, AgentRegistry* agents,
                                   UploadIngest* ingest)
    : sessions_(sessions), agents_(agents), ingest_(ingest) {}

grpc::Status AgentServiceImpl::Connect(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::ControlMessage, v1::AgentMessage>* stream) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kAgent, "AgentService.Connect");
      !s.ok()) {
    return s;
  }
  v1::AgentMessage first;
  if (!stream->Read(&first)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "stream ended before hello");
  }
  if (!first.has_hello()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first message must be hello");
  }
  const v1::Hello hello = first.hello();
  if (absl::Status s = ValidateHello(hello); !s.ok()) return ToGrpcStatus(s);
  if (hello.protocol_version() != v1::PROTOCOL_VERSION_1) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        absl::StrCat("agent ", hello.node_id(), " (trace-agent ",
                     hello.agent_version().empty() ? "unknown" : hello.agent_version(),
                     ") speaks agent protocol version ", hello.protocol_version(),
                     "; this control plane (trace-controlplane ", version::kVersion,
                     ") speaks only version ", static_cast<int>(v1::PROTOCOL_VERSION_1),
                     ": run an agent and a control plane of the same protocol version"));
  }
  if (grpc::Status s = CheckAgentIdentity(*context, hello.node_id()); !s.ok()) {
    return s;
  }
  absl::StatusOr<uint64_t> token =
      agents_->Connected(hello, static_cast<uint64_t>(absl::GetCurrentTimeNanos()));
  if (!token.ok()) return ToGrpcStatus(token.status());
  LOG(INFO) << "agent " << hello.node_id() << " (" << hello.hostname() << ", version "
            << hello.agent_version() << ") connected from " << context->peer();

  v1::ControlMessage welcome;
  welcome.mutable_welcome()->set_agent_id(hello.node_id());
  welcome.mutable_welcome()->set_protocol_version(v1::PROTOCOL_VERSION_1);
  welcome.mutable_welcome()->set_controlplane_version(version::kVersion);
  if (!stream->Write(welcome)) {
    agents_->Disconnected(hello.node_id(), *token);
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
  }

  std::atomic<bool> done{false};
  std::thread writer([&] {
    bool sent_any = false;
    uint64_t sent = 0;
    while (!done.load() && !context->IsCancelled()) {
      v1::ControlMessage message;
      *message.mutable_policy() = sessions_->PolicyFor(hello);
      if (!sent_any || message.policy().version() != sent) {
        if (!stream->Write(message)) break;
        sent_any = true;
        sent = message.policy().version();
      }
      sessions_->WaitForVersionAbove(sent, kPolicyPoll);
    }
  });

  grpc::Status result = grpc::Status::OK;
  v1::AgentMessage message;
  while (stream->Read(&message)) {
    if (message.has_heartbeat()) {
      agents_->RecordHeartbeat(hello.node_id(), message.heartbeat());
    } else if (message.has_policy_status()) {
      if (absl::Status s = ValidatePolicyStatus(message.policy_status()); !s.ok()) {
        result = ToGrpcStatus(s);
        break;
      }
      agents_->RecordPolicyStatus(hello.node_id(), message.policy_status());
    } else if (message.has_hello()) {
      result = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "hello: sent twice on one stream");
      break;
    } else {
      result = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "agent message: empty");
      break;
    }
  }
  done.store(true);
  writer.join();
  agents_->Disconnected(hello.node_id(), *token);
  LOG(INFO) << "agent " << hello.node_id() << " disconnected";
  return result;
}

grpc::Status AgentServiceImpl::Upload(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::UploadAck, v1::UploadRequest>* stream) {
  if (grpc::Status s = auth::Authorize(*context, auth::Role::kAgent, "AgentService.Upload");
      !s.ok()) {
    return s;
  }
  v1::UploadRequest request;
  std::string checked_agent;
  while (stream->Read(&request)) {
    if (request.agent_id() != checked_agent) {
      if (grpc::Status s = CheckAgentIdentity(*context, request.agent_id()); !s.ok()) {
        return s;
      }
      checked_agent = request.agent_id();
    }
    absl::StatusOr<v1::UploadAck> ack = ingest_->Ingest(request);
    if (!ack.ok()) {
      LOG(WARNING) << "upload from " << context->peer() << " refused: " << ack.status();
      return ToGrpcStatus(ack.status());
    }
    if (!stream->Write(*ack)) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed");
    }
  }
  return grpc::Status::OK;
}

}  // namespace tracer::controlplane
