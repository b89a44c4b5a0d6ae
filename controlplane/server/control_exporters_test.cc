// ControlService's exporter RPCs over real gRPC on loopback, against a real
// ControlPlane (registry, fan-out, queue): role checks with mutual TLS user
// certificates, the add/list/remove round trip with secrets never returned,
// persistence across a restart, start-up exporters, and delivery of
// uploaded spans to a real OTLP/gRPC receiver.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "auth/certs.h"
#include "auth/tls.h"
#include "controlplane/server/controlplane.h"
#include "controlplane/store/testing/test_spans.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "storage/testing/temp_dir.h"
#include "tracer/v1/agent.grpc.pb.h"
#include "tracer/v1/control.grpc.pb.h"

namespace tracer::controlplane {
namespace {

using ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;
using ::opentelemetry::proto::collector::trace::v1::TraceService;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "Bearer do-not-print-me";

v1::ExporterSpec Spec(const std::string& name, const std::string& endpoint) {
  v1::ExporterSpec spec;
  spec.set_name(name);
  spec.set_endpoint(endpoint);
  auto* h = spec.add_headers();
  h->set_key("authorization");
  h->set_value(kSecret);
  return spec;
}

bool HasConsumer(storage::Wal* queue, const std::string& name) {
  for (const storage::ConsumerStats& c : queue->Stats().consumers) {
    if (c.name == name) return true;
  }
  return false;
}

// Mutual TLS: a CA, the server certificate, and viewer/operator/admin users.
class ControlExportersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = dir_.path() + "/pki";
    ASSERT_TRUE(auth::CreateCa(pki_, false).ok());
    auth::IssueRequest server{
        auth::CertKind::kServer, "server", auth::Role::kServer, {"localhost", "127.0.0.1"}};
    ASSERT_TRUE(auth::IssueCertificate(pki_, server, false).ok());
    for (auto [name, role] :
         {std::pair{"viewer", auth::Role::kViewer}, std::pair{"operator", auth::Role::kOperator},
          std::pair{"admin", auth::Role::kAdmin}}) {
      auth::IssueRequest user{auth::CertKind::kUser, name, role, {}};
      ASSERT_TRUE(auth::IssueCertificate(pki_, user, false).ok());
    }
    StartControlPlane({});
  }
  void TearDown() override { StopControlPlane(); }

  void StartControlPlane(std::vector<v1::ExporterSpec> startup) {
    ControlPlaneOptions options;
    options.data_dir = dir_.path() + "/cp";
    options.queue.group_commit_max_wait = absl::ZeroDuration();
    options.startup_exporters = std::move(startup);
    options.export_drain = absl::ZeroDuration();
    auto cp = ControlPlane::Open(options);
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = std::move(*cp);
    auto creds = auth::ServerCredentialsFromFiles(auth::TlsFilesInDir(pki_, "server"));
    ASSERT_TRUE(creds.ok()) << creds.status();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *creds, &port_);
    builder.RegisterService(cp_->control_service());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void StopControlPlane() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
    if (cp_) cp_->Shutdown();
    cp_.reset();
  }

  std::unique_ptr<v1::ControlService::Stub> As(const std::string& user) {
    auto creds = auth::ChannelCredentialsFromFiles(auth::TlsFilesInDir(pki_, user));
    EXPECT_TRUE(creds.ok()) << creds.status();
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return v1::ControlService::NewStub(
        grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port_), *creds, args));
  }

  grpc::Status Add(const std::string& user, const v1::ExporterSpec& spec, v1::ExporterSpec* out,
                   bool replace = false) {
    grpc::ClientContext ctx;
    v1::AddExporterRequest request;
    *request.mutable_exporter() = spec;
    request.set_replace(replace);
    return As(user)->AddExporter(&ctx, request, out);
  }
  grpc::Status Remove(const std::string& user, const std::string& name, v1::ExporterSpec* out) {
    grpc::ClientContext ctx;
    v1::RemoveExporterRequest request;
    request.set_name(name);
    return As(user)->RemoveExporter(&ctx, request, out);
  }
  v1::ListExportersResponse List(const std::string& user) {
    grpc::ClientContext ctx;
    v1::ListExportersResponse response;
    grpc::Status s = As(user)->ListExporters(&ctx, v1::ListExportersRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }
  v1::StatusResponse Status(const std::string& user) {
    grpc::ClientContext ctx;
    v1::StatusResponse response;
    grpc::Status s = As(user)->GetStatus(&ctx, v1::GetStatusRequest(), &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  storage::testing::TempDir dir_;
  std::string pki_;
  std::unique_ptr<ControlPlane> cp_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(ControlExportersTest, OnlyAdminsAddAndRemove) {
  v1::ExporterSpec out;
  EXPECT_EQ(Add("viewer", Spec("tempo", "tempo:4317"), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Add("operator", Spec("tempo", "tempo:4317"), &out).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(List("viewer").exporters_size(), 0);
  ASSERT_TRUE(Add("admin", Spec("tempo", "tempo:4317"), &out).ok());
  EXPECT_EQ(Remove("viewer", "tempo", &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Remove("operator", "tempo", &out).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(List("viewer").exporters_size(), 1);
}

TEST_F(ControlExportersTest, AddListRemoveRoundTripWithoutSecrets) {
  v1::ExporterSpec added;
  ASSERT_TRUE(Add("admin", Spec("tempo", "tempo.invalid:4317"), &added).ok());
  EXPECT_EQ(added.name(), "tempo");
  EXPECT_EQ(added.version(), 1u);
  EXPECT_EQ(added.source(), "api");
  EXPECT_EQ(added.created_by(), "CN=admin,O=tracer");
  ASSERT_EQ(added.headers_size(), 1);
  EXPECT_EQ(added.headers(0).key(), "authorization");
  EXPECT_EQ(added.headers(0).value(), "");

  v1::ListExportersResponse list = List("viewer");
  EXPECT_EQ(list.version(), 1u);
  ASSERT_EQ(list.exporters_size(), 1);
  EXPECT_EQ(list.exporters(0).endpoint(), "tempo.invalid:4317");
  EXPECT_THAT(list.DebugString(), Not(HasSubstr("do-not-print-me")));

  // It runs: the fan-out has a cursor for it, and status shows it.
  EXPECT_TRUE(HasConsumer(cp_->queue(), "exporter:tempo"));
  v1::StatusResponse status = Status("viewer");
  EXPECT_EQ(status.exporters_version(), 1u);
  ASSERT_EQ(status.exporters_size(), 2);
  EXPECT_EQ(status.exporters(0).name(), "embedded-store");
  EXPECT_EQ(status.exporters(1).name(), "tempo");
  EXPECT_EQ(status.exporters(1).version(), 1u);
  EXPECT_EQ(status.exporters(1).protocol(), "grpc");
  EXPECT_THAT(status.DebugString(), Not(HasSubstr("do-not-print-me")));

  // Invalid or duplicate: refused, naming the field; nothing changes.
  v1::ExporterSpec out;
  grpc::Status s = Add("admin", Spec("bad name", "x:1"), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("exporter.name: "));
  v1::ExporterSpec bad_header = Spec("other", "x:1");
  bad_header.mutable_headers(0)->set_value("a\nb");
  s = Add("admin", bad_header, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("exporter.headers[0].value (authorization)"));
  s = Add("admin", Spec("tempo", "other:4317"), &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(List("viewer").version(), 1u);

  // Replace bumps the version; the cursor stays.
  ASSERT_TRUE(Add("admin", Spec("tempo", "other.invalid:4317"), &out, /*replace=*/true).ok());
  EXPECT_EQ(out.version(), 2u);
  EXPECT_EQ(List("viewer").exporters(0).endpoint(), "other.invalid:4317");

  v1::ExporterSpec removed;
  ASSERT_TRUE(Remove("admin", "tempo", &removed).ok());
  EXPECT_EQ(removed.version(), 3u);
  EXPECT_EQ(List("viewer").exporters_size(), 0);
  EXPECT_FALSE(HasConsumer(cp_->queue(), "exporter:tempo"));
  EXPECT_EQ(Remove("admin", "tempo", &removed).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ControlExportersTest, StoredExportersSurviveRestartStartupOnesAreNotStored) {
  v1::ExporterSpec out;
  ASSERT_TRUE(Add("admin", Spec("jaeger", "jaeger.invalid:4317"), &out).ok());
  StopControlPlane();

  v1::ExporterSpec from_env = Spec("default", "http://collector.invalid:4317");
  from_env.set_source("env");
  StartControlPlane({from_env});
  v1::ListExportersResponse list = List("viewer");
  EXPECT_EQ(list.version(), 1u);
  ASSERT_EQ(list.exporters_size(), 2);
  EXPECT_EQ(list.exporters(0).name(), "default");
  EXPECT_EQ(list.exporters(0).source(), "env");
  EXPECT_EQ(list.exporters(0).headers(0).value(), "");
  EXPECT_EQ(list.exporters(1).name(), "jaeger");
  EXPECT_EQ(list.exporters(1).source(), "api");
  EXPECT_TRUE(HasConsumer(cp_->queue(), "exporter:jaeger"));
  EXPECT_TRUE(HasConsumer(cp_->queue(), "exporter:default"));
  grpc::Status s = Remove("admin", "default", &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("start-up env"));

  // Without the start-up exporter, its cursor is stale and deleted.
  StopControlPlane();
  StartControlPlane({});
  EXPECT_EQ(List("viewer").exporters_size(), 1);
  EXPECT_FALSE(HasConsumer(cp_->queue(), "exporter:default"));
  EXPECT_TRUE(HasConsumer(cp_->queue(), "exporter:jaeger"));
}

TEST_F(ControlExportersTest, StartupExporterClashingWithStoredOneFailsOpen) {
  v1::ExporterSpec out;
  ASSERT_TRUE(Add("admin", Spec("jaeger", "jaeger.invalid:4317"), &out).ok());
  StopControlPlane();
  ControlPlaneOptions options;
  options.data_dir = dir_.path() + "/cp";
  v1::ExporterSpec clash = Spec("jaeger", "elsewhere:4317");
  clash.set_source("config");
  options.startup_exporters = {clash};
  auto cp = ControlPlane::Open(options);
  EXPECT_EQ(cp.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(cp.status().message(), HasSubstr("jaeger"));
  StartControlPlane({});  // for TearDown
}

// A real OTLP/gRPC receiver.
class Receiver final : public TraceService::Service {
 public:
  grpc::Status Export(grpc::ServerContext* context, const ExportTraceServiceRequest* request,
                      ExportTraceServiceResponse*) override {
    absl::MutexLock lock(&mu_);
    auto auth = context->client_metadata().find("authorization");
    if (auth != context->client_metadata().end()) {
      authorization_ = std::string(auth->second.data(), auth->second.size());
    }
    for (const auto& rs : request->resource_spans()) {
      for (const auto& ss : rs.scope_spans()) spans_ += ss.spans_size();
    }
    return grpc::Status::OK;
  }
  int spans() const {
    absl::MutexLock lock(&mu_);
    return spans_;
  }
  std::string authorization() const {
    absl::MutexLock lock(&mu_);
    return authorization_;
  }

 private:
  mutable absl::Mutex mu_;
  int spans_ = 0;
  std::string authorization_;
};

TEST(ControlPlaneDeliveryTest, UploadedSpansReachAnAddedExporter) {
  storage::testing::TempDir dir;
  Receiver receiver;
  grpc::ServerBuilder receiver_builder;
  int receiver_port = 0;
  receiver_builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                                    &receiver_port);
  receiver_builder.RegisterService(&receiver);
  std::unique_ptr<grpc::Server> receiver_server = receiver_builder.BuildAndStart();
  ASSERT_NE(receiver_server, nullptr);

  ControlPlaneOptions options;
  options.data_dir = dir.path() + "/cp";
  options.queue.group_commit_max_wait = absl::ZeroDuration();
  options.export_drain = absl::Seconds(2);
  auto cp = ControlPlane::Open(options);
  ASSERT_TRUE(cp.ok()) << cp.status();
  auto creds = auth::InsecureLoopbackServerCredentials("127.0.0.1:0");
  ASSERT_TRUE(creds.ok());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", *creds, &port);
  builder.RegisterService((*cp)->agent_service());
  builder.RegisterService((*cp)->control_service());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  auto control = v1::ControlService::NewStub(channel);
  auto agent = v1::AgentService::NewStub(channel);

  {
    grpc::ClientContext ctx;
    v1::AddExporterRequest request;
    *request.mutable_exporter() =
        Spec("receiver", absl::StrCat("http://127.0.0.1:", receiver_port));
    v1::ExporterSpec out;
    grpc::Status s = control->AddExporter(&ctx, request, &out);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ExportTraceServiceRequest batch;
  testing::AddSpan(&batch, "curl", 7, 1, 0, 1000, "GET /");
  testing::AddSpan(&batch, "curl", 7, 2, 1, 1001, "connect");
  testing::AddSpan(&batch, "curl", 7, 3, 1, 1002, "read");
  {
    grpc::ClientContext ctx;
    auto upload = agent->Upload(&ctx);
    v1::UploadRequest request;
    request.set_agent_id("node-1");
    request.set_seq(1);
    request.set_batch(batch.SerializeAsString());
    request.set_span_count(3);
    v1::UploadAck ack;
    ASSERT_TRUE(upload->Write(request));
    ASSERT_TRUE(upload->Read(&ack));
    EXPECT_EQ(ack.seq(), 1u);
    upload->WritesDone();
    upload->Finish();
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (receiver.spans() < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(receiver.spans(), 3);
  EXPECT_EQ(receiver.authorization(), kSecret);  // the stored secret is sent

  v1::StatusResponse status;
  const absl::Time status_deadline = absl::Now() + absl::Seconds(5);
  do {
    grpc::ClientContext ctx;
    ASSERT_TRUE(control->GetStatus(&ctx, v1::GetStatusRequest(), &status).ok());
    if (status.exporters_size() == 2 && status.exporters(1).spans_sent() == 3 &&
        status.exporters(1).queue_lag_records() == 0) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < status_deadline);
  ASSERT_EQ(status.exporters_size(), 2);
  EXPECT_EQ(status.exporters(1).name(), "receiver");
  EXPECT_EQ(status.exporters(1).spans_sent(), 3u);
  EXPECT_EQ(status.exporters(1).spans_failed(), 0u);
  EXPECT_EQ(status.exporters(1).queue_lag_records(), 0u);
  EXPECT_EQ(status.exporters(1).circuit_state(), "closed");

  server->Shutdown(std::chrono::system_clock::now());
  (*cp)->Shutdown();
  receiver_server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace tracer::controlplane
