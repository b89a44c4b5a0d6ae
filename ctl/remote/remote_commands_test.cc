// The remote commands against a fake ControlService over real mutual TLS on
// loopback (the fake authorizes with the same controlplane/auth check).
#include "ctl/remote/remote_commands.h"

#include <stdlib.h>

#include <mutex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "auth/authorize.h"
#include "auth/certs.h"
#include "auth/tls.h"
#include "ctl/remote/waterfall.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tracer/v1/control.grpc.pb.h"

namespace tracer::ctl::remote {
namespace {

using ::testing::HasSubstr;

class FakeControl final : public tracer::v1::ControlService::Service {
 public:
  grpc::Status StartSession(grpc::ServerContext* ctx, const tracer::v1::StartSessionRequest* req,
                            tracer::v1::Session* resp) override {
    if (auto s = auth::Authorize(*ctx, auth::Role::kOperator, "StartSession"); !s.ok()) return s;
    if (req->session().target().kind_case() == tracer::v1::Target::KIND_NOT_SET) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "session.target: required");
    }
    std::lock_guard<std::mutex> l(mu);
    started = req->session();
    *resp = req->session();
    resp->set_id("s-1");
    resp->set_state(tracer::v1::Session::ACTIVE);
    resp->set_version(7);
    resp->set_created_by(auth::PeerIdentityOf(*ctx)->subject);
    return grpc::Status::OK;
  }
  grpc::Status ListTraces(grpc::ServerContext* ctx, const tracer::v1::ListTracesRequest* req,
                          tracer::v1::ListTracesResponse* resp) override {
    if (auto s = auth::Authorize(*ctx, auth::Role::kViewer, "ListTraces"); !s.ok()) return s;
    std::lock_guard<std::mutex> l(mu);
    list_request = *req;
    auto* t = resp->add_traces();
    t->set_trace_id(std::string(16, '\x11'));
    t->set_root_service("curl");
    t->set_root_name("curl");
    t->set_start_unix_nano(1700000000000000000ull);
    t->set_end_unix_nano(1700000000002000000ull);
    t->set_span_count(3);
    return grpc::Status::OK;
  }
  grpc::Status GetTrace(grpc::ServerContext* ctx, const tracer::v1::GetTraceRequest* req,
                        tracer::v1::GetTraceResponse* resp) override {
    if (auto s = auth::Authorize(*ctx, auth::Role::kViewer, "GetTrace"); !s.ok()) return s;
    if (req->trace_id() != std::string(16, '\x11')) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such trace");
    }
    *resp = trace;
    return grpc::Status::OK;
  }
  grpc::Status AddExporter(grpc::ServerContext* ctx, const tracer::v1::AddExporterRequest* req,
                           tracer::v1::ExporterSpec* resp) override {
    if (auto s = auth::Authorize(*ctx, auth::Role::kAdmin, "AddExporter"); !s.ok()) return s;
    std::lock_guard<std::mutex> l(mu);
    added = *req;
    *resp = req->exporter();
    for (auto& h : *resp->mutable_headers()) h.clear_value();
    resp->set_version(3);
    resp->set_source("api");
    resp->set_created_by(auth::PeerIdentityOf(*ctx)->subject);
    return grpc::Status::OK;
  }
  grpc::Status RemoveExporter(grpc::ServerContext* ctx,
                              const tracer::v1::RemoveExporterRequest* req,
                              tracer::v1::ExporterSpec* resp) override {
    if (auto s = auth::Authorize(*ctx, auth::Role::kAdmin, "RemoveExporter"); !s.ok()) return s;
    if (req->name() != "tempo") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no exporter " + req->name());
    }
    resp->set_name(req->name());
    resp->set_version(4);
    return grpc::Status::OK;
  }
  grpc::Status ListExporters(grpc::ServerContext* ctx, const tracer::v1::ListExportersRequest*,
                             tracer::v1::ListExportersResponse* resp) override {
    if (auto s = auth::Authorize(*ctx, auth::Role::kViewer, "ListExporters"); !s.ok()) return s;
    auto* e = resp->add_exporters();
    e->set_name("tempo");
    e->set_protocol("grpc");
    e->set_endpoint("https://tempo:4317");
    e->set_version(2);
    e->set_source("api");
    e->add_headers()->set_key("authorization");
    e->add_headers()->set_key("x-scope-orgid");
    resp->set_version(2);
    return grpc::Status::OK;
  }
  grpc::Status GetStatus(grpc::ServerContext* ctx, const tracer::v1::GetStatusRequest*,
                         tracer::v1::StatusResponse* resp) override {
    if (auto s = auth::Authorize(*ctx, auth::Role::kViewer, "GetStatus"); !s.ok()) return s;
    resp->set_controlplane_version("9.9.9");
    auto* e = resp->add_exporters();
    e->set_name("tempo");
    e->set_endpoint("https://tempo:4317");
    e->set_spans_sent(1200);
    e->set_spans_failed(40);
    (*e->mutable_spans_failed_by_reason())["unavailable"] = 30;
    (*e->mutable_spans_failed_by_reason())["http_503"] = 10;
    e->set_spans_retried(35);
    e->set_spans_dead_lettered(5);
    e->set_queue_lag_records(17);
    e->set_circuit_state("open");
    e->set_last_error("unavailable: connection refused");
    return grpc::Status::OK;
  }
  std::mutex mu;
  tracer::v1::AddExporterRequest added;
  tracer::v1::Session started;
  tracer::v1::ListTracesRequest list_request;
  tracer::v1::GetTraceResponse trace;
};

EnvLookup NoEnv() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

class RemoteCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        absl::StrCat(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp", "/pki.XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(auth::CreateCa(dir_, false).ok());
    auth::IssueRequest server{
        auth::CertKind::kServer, "server", auth::Role::kServer, {"localhost", "127.0.0.1"}};
    ASSERT_TRUE(auth::IssueCertificate(dir_, server, false).ok());
    for (auto [name, role] :
         {std::pair{"viewer", auth::Role::kViewer}, std::pair{"operator", auth::Role::kOperator},
          std::pair{"admin", auth::Role::kAdmin}}) {
      auth::IssueRequest u{auth::CertKind::kUser, name, role, {}};
      ASSERT_TRUE(auth::IssueCertificate(dir_, u, false).ok());
    }
    auto* rs = service_.trace.add_resource_spans();
    auto* span = rs->add_scope_spans()->add_spans();
    span->set_trace_id(std::string(16, '\x11'));
    span->set_span_id("12345678");
    span->set_name("curl");
    span->set_start_time_unix_nano(1700000000000000000ull);
    span->set_end_time_unix_nano(1700000000002000000ull);

    auto creds = auth::ServerCredentialsFromFiles(auth::TlsFilesInDir(dir_, "server"));
    ASSERT_TRUE(creds.ok());
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", *creds, &port_);
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
    ASSERT_GT(port_, 0);
  }
  void TearDown() override { server_->Shutdown(); }

  int Run(const std::string& group, std::vector<std::string> args, const std::string& user) {
    out_.str("");
    err_.str("");
    for (const std::string& a : {std::string("--server"), absl::StrCat("127.0.0.1:", port_),
                                 std::string("--certs"), dir_, std::string("--user"), user}) {
      args.push_back(a);
    }
    return RunRemoteCommand(group, args, NoEnv(), out_, err_);
  }

  std::string dir_;
  FakeControl service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::ostringstream out_, err_;
};

TEST_F(RemoteCommandsTest, OperatorStartsSession) {
  ASSERT_EQ(Run("session", {"start", "--comm", "nginx", "--http", "--duration", "10m"}, "operator"),
            0)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("started session s-1"));
  EXPECT_THAT(out_.str(), HasSubstr("comm nginx"));
  EXPECT_THAT(out_.str(), HasSubstr("CN=operator,O=tracer"));
  std::lock_guard<std::mutex> l(service_.mu);
  EXPECT_EQ(service_.started.target().comm(), "nginx");
  EXPECT_TRUE(service_.started.capture().http());
  EXPECT_EQ(service_.started.limits().duration_seconds(), 600u);
}

TEST_F(RemoteCommandsTest, ViewerCannotStartSession) {
  EXPECT_EQ(Run("session", {"start", "--all-processes"}, "viewer"), 1);
  EXPECT_THAT(err_.str(), HasSubstr("PERMISSION_DENIED"));
  std::lock_guard<std::mutex> l(service_.mu);
  EXPECT_EQ(service_.started.ByteSizeLong(), 0u);
}

TEST_F(RemoteCommandsTest, TracesListAndShow) {
  ASSERT_EQ(Run("traces", {"list", "--since", "10m", "--service", "curl"}, "viewer"), 0)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("11111111111111111111111111111111"));
  EXPECT_THAT(out_.str(), HasSubstr("2.00ms"));
  {
    std::lock_guard<std::mutex> l(service_.mu);
    EXPECT_EQ(service_.list_request.service_name(), "curl");
    EXPECT_GT(service_.list_request.since_unix_nano(), 0u);
  }
  ASSERT_EQ(Run("traces", {"show", "11111111111111111111111111111111"}, "viewer"), 0) << err_.str();
  EXPECT_EQ(out_.str(), RenderWaterfall(service_.trace));
  EXPECT_EQ(Run("traces", {"show", "22222222222222222222222222222222"}, "viewer"), 1);
  EXPECT_THAT(err_.str(), HasSubstr("NOT_FOUND"));
}

TEST_F(RemoteCommandsTest, AdminAddsExporterSecretsNotPrinted) {
  ASSERT_EQ(Run("exporters",
                {"add", "tempo", "--endpoint", "https://tempo:4317", "--header",
                 "authorization=Bearer hunter2", "--timeout", "5s"},
                "admin"),
            0)
      << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("added exporter tempo"));
  EXPECT_THAT(out_.str(), HasSubstr("authorization=<redacted>"));
  EXPECT_THAT(out_.str(), HasSubstr("CN=admin,O=tracer"));
  EXPECT_THAT(out_.str(), ::testing::Not(HasSubstr("hunter2")));
  std::lock_guard<std::mutex> l(service_.mu);
  EXPECT_EQ(service_.added.exporter().name(), "tempo");
  EXPECT_EQ(service_.added.exporter().headers(0).value(), "Bearer hunter2");  // sent, not shown
  EXPECT_EQ(service_.added.exporter().timeout_ms(), 5000u);
}

TEST_F(RemoteCommandsTest, OperatorCannotAddOrRemoveExporters) {
  EXPECT_EQ(Run("exporters", {"add", "tempo", "--endpoint", "tempo:4317"}, "operator"), 1);
  EXPECT_THAT(err_.str(), HasSubstr("tracectl exporters add: PERMISSION_DENIED"));
  EXPECT_EQ(Run("exporters", {"remove", "tempo"}, "operator"), 1);
  EXPECT_THAT(err_.str(), HasSubstr("PERMISSION_DENIED"));
  std::lock_guard<std::mutex> l(service_.mu);
  EXPECT_EQ(service_.added.ByteSizeLong(), 0u);
}

TEST_F(RemoteCommandsTest, ExportersListAndRemove) {
  ASSERT_EQ(Run("exporters", {"list"}, "viewer"), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("NAME"));
  EXPECT_THAT(out_.str(), HasSubstr("https://tempo:4317"));
  EXPECT_THAT(out_.str(), HasSubstr("authorization=<redacted>,x-scope-orgid=<redacted>"));
  EXPECT_THAT(out_.str(), HasSubstr("(exporters version 2)"));
  ASSERT_EQ(Run("exporters", {"remove", "tempo"}, "admin"), 0) << err_.str();
  EXPECT_EQ(out_.str(), "removed exporter tempo (exporters version 4)\n");
  EXPECT_EQ(Run("exporters", {"remove", "jaeger"}, "admin"), 1);
  EXPECT_THAT(err_.str(), HasSubstr("NOT_FOUND: no exporter jaeger"));
  EXPECT_EQ(Run("exporters", {"add", "x"}, "admin"), 2);
  EXPECT_THAT(err_.str(), HasSubstr("--endpoint URL is required"));
}

TEST_F(RemoteCommandsTest, StatusShowsExporterCounters) {
  ASSERT_EQ(Run("status", {}, "viewer"), 0) << err_.str();
  const std::string out = out_.str();
  EXPECT_THAT(out, HasSubstr("DEAD_LTR"));
  EXPECT_THAT(out,
              ::testing::ContainsRegex("tempo +https://tempo:4317 +1200 +40 +35 +5 +17 +open"));
  EXPECT_THAT(out, HasSubstr("failed by reason: http_503=10 unavailable=30"));
  EXPECT_THAT(out, HasSubstr("last error: unavailable: connection refused"));
}

TEST_F(RemoteCommandsTest, UsageAndConnectionErrors) {
  EXPECT_EQ(Run("session", {"start"}, "operator"), 2);
  EXPECT_THAT(err_.str(), HasSubstr("no target"));
  EXPECT_EQ(Run("traces", {"list"}, "nobody"), 1);  // no nobody.pem
  EXPECT_THAT(err_.str(), HasSubstr("nobody.pem"));
  std::ostringstream out, err;
  EXPECT_EQ(
      RunRemoteCommand("status", {"--insecure", "--server", "10.1.2.3:7443"}, NoEnv(), out, err),
      1);
  EXPECT_THAT(err.str(), HasSubstr("only on loopback"));
}

}  // namespace
}  // namespace tracer::ctl::remote
