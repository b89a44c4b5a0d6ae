// The control plane's services over real gRPC on loopback (plain text,
// insecure-loopback rules of auth/authorize.h): a fake agent
// connects, receives its policy, gets a new one when a session starts, and
// uploads spans that then show up through ControlService.GetTrace.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "auth/tls.h"
#include "controlplane/server/controlplane.h"
#include "controlplane/store/testing/test_spans.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "storage/testing/temp_dir.h"
#include "tracer/v1/agent.grpc.pb.h"
#include "tracer/v1/control.grpc.pb.h"
#include "version/semver.h"

namespace tracer::controlplane {
namespace {

using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

class ControlPlaneGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ControlPlaneOptions options;
    options.data_dir = dir_.path() + "/cp";
    options.queue.group_commit_max_wait = absl::ZeroDuration();
    auto cp = ControlPlane::Open(options);
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(*cp);
    auto creds = auth::InsecureLoopbackServerCredentials("127.0.0.1:0");
    ASSERT_TRUE(creds.ok()) << creds.status();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port);
    builder.RegisterService(cp_->agent_service());
    builder.RegisterService(cp_->control_service());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    agent_ = v1::AgentService::NewStub(channel);
    control_ = v1::ControlService::NewStub(channel);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    if (cp_) cp_->Shutdown();
  }

  static v1::AgentMessage Hello(const std::string& node, uint32_t protocol = 1) {
    v1::AgentMessage m;
    m.mutable_hello()->set_node_id(node);
    m.mutable_hello()->set_hostname(node + ".local");
    m.mutable_hello()->set_protocol_version(protocol);
    return m;
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<ControlPlane> cp_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::AgentService::Stub> agent_;
  std::unique_ptr<v1::ControlService::Stub> control_;
};

TEST_F(ControlPlaneGrpcTest, ConnectStartSessionUploadGetTrace) {
  grpc::ClientContext connect_ctx;
  auto stream = agent_->Connect(&connect_ctx);
  ASSERT_TRUE(stream->Write(Hello("node-1")));
  v1::ControlMessage msg;
  ASSERT_TRUE(stream->Read(&msg));
  ASSERT_TRUE(msg.has_welcome());
  EXPECT_EQ(msg.welcome().agent_id(), "node-1");
  EXPECT_EQ(msg.welcome().protocol_version(), 1u);
  ASSERT_TRUE(stream->Read(&msg));
  ASSERT_TRUE(msg.has_policy());
  EXPECT_EQ(msg.policy().version(), 0u);
  EXPECT_EQ(msg.policy().sessions_size(), 0);

  // An invalid session is refused with the field named.
  {
    grpc::ClientContext ctx;
    v1::StartSessionRequest request;
    request.mutable_session()->mutable_nodes()->set_all(true);
    request.mutable_session()->mutable_target()->set_comm("this-is-too-long-a-comm");
    v1::Session response;
    grpc::Status s = control_->StartSession(&ctx, request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "session.target.comm: longer than 15 bytes");
  }
  v1::Session session;
  {
    grpc::ClientContext ctx;
    v1::StartSessionRequest request;
    request.mutable_session()->mutable_nodes()->add_names("node-1");
    request.mutable_session()->mutable_target()->set_comm("curl");
    ASSERT_TRUE(control_->StartSession(&ctx, request, &session).ok());
    EXPECT_EQ(session.state(), v1::Session::ACTIVE);
    EXPECT_EQ(session.created_by(), "insecure-loopback");
  }
  ASSERT_TRUE(stream->Read(&msg));
  ASSERT_TRUE(msg.has_policy());
  EXPECT_EQ(msg.policy().version(), session.version());
  ASSERT_EQ(msg.policy().sessions_size(), 1);
  EXPECT_EQ(msg.policy().sessions(0).id(), session.id());

  // Status and heartbeat are recorded and visible to tracectl.
  v1::AgentMessage report;
  report.mutable_policy_status()->set_policy_version(session.version());
  auto* state = report.mutable_policy_status()->add_sessions();
  state->set_session_id(session.id());
  state->set_applied(true);
  state->set_spans_captured(7);
  ASSERT_TRUE(stream->Write(report));
  v1::AgentMessage hb;
  hb.mutable_heartbeat()->set_unix_nano(123);
  hb.mutable_heartbeat()->mutable_counters()->set_kernel_drops(3);
  ASSERT_TRUE(stream->Write(hb));

  // Upload: acked, duplicate on resend, then visible through GetTrace.
  ExportTraceServiceRequest batch;
  testing::AddSpan(&batch, "curl", 42, 1, 0, 1000, "GET /");
  testing::AddSpan(&batch, "curl", 42, 2, 1, 1001, "connect");
  {
    grpc::ClientContext ctx;
    auto upload = agent_->Upload(&ctx);
    v1::UploadRequest request;
    request.set_agent_id("node-1");
    request.set_seq(1);
    request.set_batch(batch.SerializeAsString());
    request.set_span_count(2);
    v1::UploadAck ack;
    ASSERT_TRUE(upload->Write(request));
    ASSERT_TRUE(upload->Read(&ack));
    EXPECT_EQ(ack.seq(), 1u);
    EXPECT_FALSE(ack.duplicate());
    ASSERT_TRUE(upload->Write(request));
    ASSERT_TRUE(upload->Read(&ack));
    EXPECT_TRUE(ack.duplicate());
    request.set_span_count(5);  // a lie: refused, stream ends
    ASSERT_TRUE(upload->Write(request));
    EXPECT_FALSE(upload->Read(&ack));
    grpc::Status s = upload->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message().rfind("upload.span_count", 0), 0u) << s.error_message();
  }
  v1::GetTraceResponse trace;
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    grpc::ClientContext ctx;
    v1::GetTraceRequest request;
    request.set_trace_id(testing::TraceId(42));
    trace.Clear();
    grpc::Status s = control_->GetTrace(&ctx, request, &trace);
    if (s.ok()) break;
    ASSERT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(trace.resource_spans_size(), 1);
  EXPECT_EQ(trace.resource_spans(0).scope_spans(0).spans_size(), 2);
  {
    grpc::ClientContext ctx;
    v1::ListTracesRequest request;
    request.set_service_name("curl");
    v1::ListTracesResponse response;
    ASSERT_TRUE(control_->ListTraces(&ctx, request, &response).ok());
    ASSERT_EQ(response.traces_size(), 1);
    EXPECT_EQ(response.traces(0).root_name(), "GET /");
    EXPECT_EQ(response.traces(0).span_count(), 2u);
  }
  {
    grpc::ClientContext ctx;
    v1::GetSessionRequest request;
    request.set_session_id(session.id());
    v1::SessionDetail detail;
    ASSERT_TRUE(control_->GetSession(&ctx, request, &detail).ok());
    ASSERT_EQ(detail.agents_size(), 1);
    EXPECT_TRUE(detail.agents(0).connected());
    EXPECT_TRUE(detail.agents(0).applied());
    EXPECT_EQ(detail.agents(0).spans_captured(), 7u);
  }
  {
    grpc::ClientContext ctx;
    v1::StatusResponse status;
    ASSERT_TRUE(control_->GetStatus(&ctx, v1::GetStatusRequest(), &status).ok());
    EXPECT_EQ(status.spans_stored(), 2u);
    ASSERT_EQ(status.agents_size(), 1);
    EXPECT_EQ(status.agents(0).counters().kernel_drops(), 3u);
    EXPECT_EQ(status.agents(0).last_uploaded_seq(), 1u);
    EXPECT_EQ(status.agents(0).policy_version_applied(), session.version());
  }
  // Stop: a new policy without the session.
  {
    grpc::ClientContext ctx;
    v1::StopSessionRequest request;
    request.set_session_id(session.id());
    v1::Session stopped;
    ASSERT_TRUE(control_->StopSession(&ctx, request, &stopped).ok());
    EXPECT_EQ(stopped.state(), v1::Session::STOPPED);
  }
  ASSERT_TRUE(stream->Read(&msg));
  EXPECT_EQ(msg.policy().sessions_size(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  {
    grpc::ClientContext ctx;
    v1::ListAgentsResponse agents;
    ASSERT_TRUE(control_->ListAgents(&ctx, v1::ListAgentsRequest(), &agents).ok());
    ASSERT_EQ(agents.agents_size(), 1);
    EXPECT_FALSE(agents.agents(0).connected());
  }
}

// Uploads over gRPC into the queue, the store and back out through
// GetTrace: GetStatus counts one OTLP parse per batch on the way in, and a
// trace spread over every upload comes back whole.
TEST_F(ControlPlaneGrpcTest, EachUploadParsedOnceAndTraceSpreadOverUploadsReturned) {
  auto parses = [&](v1::StatusResponse* status) {
    grpc::ClientContext ctx;
    ASSERT_TRUE(control_->GetStatus(&ctx, v1::GetStatusRequest(), status).ok());
  };
  v1::StatusResponse before;
  parses(&before);
  constexpr int kUploads = 5;
  {
    grpc::ClientContext ctx;
    auto upload = agent_->Upload(&ctx);
    for (int seq = 1; seq <= kUploads; ++seq) {
      ExportTraceServiceRequest batch;
      testing::AddSpan(&batch, "web", 7, seq, seq == 1 ? 0 : 1, 1000 + seq, "span");
      testing::AddSpan(&batch, "web", 50 + seq, 100 + seq, 0, 1000 + seq, "other");
      v1::UploadRequest request;
      request.set_agent_id("node-9");
      request.set_seq(seq);
      request.set_batch(batch.SerializeAsString());
      request.set_span_count(2);
      v1::UploadAck ack;
      ASSERT_TRUE(upload->Write(request));
      ASSERT_TRUE(upload->Read(&ack));
      EXPECT_FALSE(ack.duplicate());
    }
    upload->WritesDone();
    ASSERT_TRUE(upload->Finish().ok());
  }
  v1::GetTraceResponse trace;
  int spans = 0;
  for (absl::Time deadline = absl::Now() + absl::Seconds(10);
       absl::Now() < deadline && spans < kUploads; absl::SleepFor(absl::Milliseconds(20))) {
    grpc::ClientContext ctx;
    v1::GetTraceRequest request;
    request.set_trace_id(testing::TraceId(7));
    trace.Clear();
    spans = 0;
    if (!control_->GetTrace(&ctx, request, &trace).ok()) continue;
    for (const auto& rs : trace.resource_spans()) spans += rs.scope_spans(0).spans_size();
  }
  ASSERT_EQ(spans, kUploads);
  for (const auto& rs : trace.resource_spans()) {
    for (const auto& span : rs.scope_spans(0).spans()) {
      EXPECT_EQ(span.trace_id(), testing::TraceId(7));
    }
  }
  v1::StatusResponse after;
  parses(&after);
  EXPECT_EQ(after.batches_accepted() - before.batches_accepted(), uint64_t{kUploads});
  uint64_t data_path = 0;
  for (const char* site : {"ingest", "store", "export"}) {
    data_path += after.otlp_parses().at(site) - before.otlp_parses().at(site);
  }
  EXPECT_EQ(data_path, uint64_t{kUploads});  // ingest's parse, nothing after it
  EXPECT_EQ(after.otlp_parses().at("ingest") - before.otlp_parses().at("ingest"),
            uint64_t{kUploads});
}

TEST_F(ControlPlaneGrpcTest, ConnectRefusesBadFirstMessageAndOldProtocol) {
  {
    grpc::ClientContext ctx;
    auto stream = agent_->Connect(&ctx);
    v1::AgentMessage hb;
    hb.mutable_heartbeat()->set_unix_nano(1);
    ASSERT_TRUE(stream->Write(hb));
    stream->WritesDone();
    grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "the first message must be hello");
  }
  {
    grpc::ClientContext ctx;
    auto stream = agent_->Connect(&ctx);
    v1::AgentMessage hello = Hello("node-2", 7);
    hello.mutable_hello()->set_agent_version("9.9.9");
    ASSERT_TRUE(stream->Write(hello));
    stream->WritesDone();
    grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    // Names the agent, both binaries' versions and both protocol versions.
    EXPECT_EQ(s.error_message(),
              absl::StrCat("agent node-2 (trace-agent 9.9.9) speaks agent protocol version 7; "
                           "this control plane (trace-controlplane ",
                           version::kVersion,
                           ") speaks only version 1: run an agent and a control plane of the "
                           "same protocol version"));
  }
  {
    grpc::ClientContext ctx;
    auto stream = agent_->Connect(&ctx);
    ASSERT_TRUE(stream->Write(Hello(std::string(129, 'n'))));
    stream->WritesDone();
    grpc::Status s = stream->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "hello.node_id: longer than 128 bytes");
  }
}

// A session started while no agent is connected reaches an agent that
// connects later.
TEST_F(ControlPlaneGrpcTest, LateAgentGetsActivePolicy) {
  v1::Session session;
  {
    grpc::ClientContext ctx;
    v1::StartSessionRequest request;
    (*request.mutable_session()->mutable_nodes()->mutable_labels())["zone"] = "a";
    request.mutable_session()->mutable_target()->set_all_processes(true);
    ASSERT_TRUE(control_->StartSession(&ctx, request, &session).ok());
  }
  grpc::ClientContext ctx;
  auto stream = agent_->Connect(&ctx);
  v1::AgentMessage hello = Hello("node-3");
  (*hello.mutable_hello()->mutable_labels())["zone"] = "a";
  ASSERT_TRUE(stream->Write(hello));
  v1::ControlMessage msg;
  ASSERT_TRUE(stream->Read(&msg));
  ASSERT_TRUE(stream->Read(&msg));
  ASSERT_EQ(msg.policy().sessions_size(), 1);
  EXPECT_EQ(msg.policy().sessions(0).id(), session.id());
  ctx.TryCancel();
}

}  // namespace
}  // namespace tracer::controlplane
