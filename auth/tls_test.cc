// Real mutual TLS on loopback: a tiny ControlService whose handlers run the
// same Authorize() check the control plane does, dialed with certificates
// issued by certs.h.
#include "auth/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "auth/authorize.h"
#include "auth/certs.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tracer/v1/control.grpc.pb.h"

namespace tracer::auth {
namespace {

using ::testing::HasSubstr;

class FakeControl final : public v1::ControlService::Service {
 public:
  grpc::Status ListSessions(grpc::ServerContext* ctx, const v1::ListSessionsRequest*,
                            v1::ListSessionsResponse* resp) override {
    if (auto s = Authorize(*ctx, Role::kViewer, "ListSessions"); !s.ok()) return s;
    ++handled;
    auto id = PeerIdentityOf(*ctx);
    resp->add_sessions()->set_created_by(id.ok() ? id->subject : "");
    return grpc::Status::OK;
  }
  grpc::Status StartSession(grpc::ServerContext* ctx, const v1::StartSessionRequest* req,
                            v1::Session* resp) override {
    if (auto s = Authorize(*ctx, Role::kOperator, "StartSession"); !s.ok()) return s;
    ++handled;
    *resp = req->session();
    resp->set_id("s-1");
    return grpc::Status::OK;
  }
  std::atomic<int> handled{0};
};

std::string NewDir(const char* tag) {
  std::string tmpl =
      absl::StrCat(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp", "/", tag, ".XXXXXX");
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

void Issue(const std::string& dir, CertKind kind, const std::string& name, Role role) {
  IssueRequest req;
  req.kind = kind;
  req.name = name;
  req.role = role;
  if (kind == CertKind::kServer) req.sans = {"localhost", "127.0.0.1"};
  auto p = IssueCertificate(dir, req, false);
  ASSERT_TRUE(p.ok()) << p.status();
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(NewDir("pki"));
    other_ = new std::string(NewDir("otherpki"));
    ASSERT_TRUE(CreateCa(*dir_, false).ok());
    ASSERT_TRUE(CreateCa(*other_, false).ok());
    Issue(*dir_, CertKind::kServer, "server", Role::kServer);
    Issue(*dir_, CertKind::kUser, "viewer", Role::kViewer);
    Issue(*dir_, CertKind::kUser, "operator", Role::kOperator);
    Issue(*dir_, CertKind::kAgent, "node-1", Role::kAgent);
    Issue(*other_, CertKind::kUser, "intruder", Role::kAdmin);
  }

  void SetUp() override {
    auto creds = ServerCredentialsFromFiles(TlsFilesInDir(*dir_, "server"));
    ASSERT_TRUE(creds.ok()) << creds.status();
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", *creds, &port_);
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }
  void TearDown() override { server_->Shutdown(); }

  std::unique_ptr<v1::ControlService::Stub> Stub(std::shared_ptr<grpc::ChannelCredentials> c) {
    return v1::ControlService::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), c));
  }
  std::unique_ptr<v1::ControlService::Stub> StubAs(const std::string& dir,
                                                   const std::string& name) {
    auto c = ChannelCredentialsFromFiles(TlsFilesInDir(dir, name));
    EXPECT_TRUE(c.ok()) << c.status();
    return Stub(*c);
  }
  grpc::Status List(v1::ControlService::Stub& stub, v1::ListSessionsResponse* resp = nullptr) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::ListSessionsResponse r;
    return stub.ListSessions(&ctx, v1::ListSessionsRequest(), resp ? resp : &r);
  }
  grpc::Status Start(v1::ControlService::Stub& stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::Session out;
    return stub.StartSession(&ctx, v1::StartSessionRequest(), &out);
  }
  // Runs openssl s_client against the server; returns its exit status and output.
  int SClient(const std::string& version_flag, std::string* out) {
    std::string cmd = absl::StrCat("openssl s_client -connect 127.0.0.1:", port_, " ", version_flag,
                                   " -CAfile ", *dir_, "/ca.pem -cert ", *dir_, "/viewer.pem -key ",
                                   *dir_, "/viewer.key -alpn h2 </dev/null 2>&1");
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static std::string* dir_;
  static std::string* other_;
  FakeControl service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};
std::string* TlsTest::dir_;
std::string* TlsTest::other_;

TEST_F(TlsTest, ViewerMayReadButNotStartSessions) {
  auto stub = StubAs(*dir_, "viewer");
  v1::ListSessionsResponse resp;
  grpc::Status s = List(*stub, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.sessions_size(), 1);
  EXPECT_EQ(resp.sessions(0).created_by(), "CN=viewer,O=tracer");
  s = Start(*stub);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("needs role operator"));
  EXPECT_EQ(service_.handled, 1);
}

TEST_F(TlsTest, OperatorMayStartSessions) {
  auto stub = StubAs(*dir_, "operator");
  grpc::Status s = Start(*stub);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

TEST_F(TlsTest, AgentCertificateIsNotAUser) {
  auto stub = StubAs(*dir_, "node-1");
  EXPECT_EQ(List(*stub).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(TlsTest, NoClientCertificateIsRefused) {
  grpc::SslCredentialsOptions opts;
  std::ifstream in(*dir_ + "/ca.pem");
  opts.pem_root_certs.assign(std::istreambuf_iterator<char>(in), {});
  auto stub = Stub(grpc::SslCredentials(opts));
  grpc::Status s = List(*stub);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(service_.handled, 0);
}

TEST_F(TlsTest, CertificateFromAnotherCaIsRefused) {
  // The intruder trusts our CA (to get past server verification) but presents
  // a certificate signed by its own CA.
  TlsFiles files = TlsFilesInDir(*other_, "intruder");
  files.ca = *dir_ + "/ca.pem";
  auto c = ChannelCredentialsFromFiles(files);
  ASSERT_TRUE(c.ok());
  auto stub = Stub(*c);
  EXPECT_FALSE(List(*stub).ok());
  EXPECT_EQ(service_.handled, 0);
}

TEST_F(TlsTest, ClientRefusesServerFromAnotherCa) {
  TlsFiles files = TlsFilesInDir(*dir_, "viewer");
  files.ca = *other_ + "/ca.pem";
  auto stub = Stub(*ChannelCredentialsFromFiles(files));
  EXPECT_FALSE(List(*stub).ok());
}

TEST_F(TlsTest, Tls12IsRefusedTls13Accepted) {
  std::string out12, out13;
  int rc12 = SClient("-tls1_2", &out12);
  EXPECT_NE(rc12, 0) << out12;
  EXPECT_THAT(out12, ::testing::Not(HasSubstr("Cipher is ECDHE"))) << out12;
  EXPECT_THAT(out12, ::testing::Not(HasSubstr("New, TLSv1.2"))) << out12;
  // The handshake result, not s_client's exit code: with stdin at EOF the
  // exit code depends on whether the server's close beats s_client's own.
  SClient("-tls1_3", &out13);
  EXPECT_THAT(out13, HasSubstr("New, TLSv1.3")) << out13;
  EXPECT_THAT(out13, HasSubstr("Verify return code: 0 (ok)")) << out13;
}

TEST(TlsFilesTest, ServerRefusesMissingFilesWithTheirName) {
  TlsFiles f{"/nonexistent/ca.pem", "/nonexistent/s.pem", "/nonexistent/s.key"};
  auto c = ServerCredentialsFromFiles(f);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("/nonexistent/ca.pem"));
}

TEST(InsecureTest, RefusesNonLoopbackAddresses) {
  for (const char* bad :
       {"0.0.0.0:50051", "10.0.0.1:1", "[::]:1", "example.org:443", "ipv4:192.168.1.1:80"}) {
    absl::Status s = CheckLoopbackAddress(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(s.message()), HasSubstr("only on loopback")) << bad;
    EXPECT_FALSE(InsecureLoopbackServerCredentials(bad).ok()) << bad;
    EXPECT_FALSE(InsecureLoopbackChannelCredentials(bad).ok()) << bad;
  }
  for (const char* good : {"127.0.0.1:50051", "127.0.0.2:1", "[::1]:1", "localhost:7",
                           "ipv4:127.0.0.1:5", "ipv6:[::1]:5"}) {
    EXPECT_TRUE(CheckLoopbackAddress(good).ok()) << good;
  }
}

TEST(InsecureTest, LoopbackPeerIsTrustedAsAdmin) {
  FakeControl service;
  auto creds = InsecureLoopbackServerCredentials("127.0.0.1:0");
  ASSERT_TRUE(creds.ok());
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", *creds, &port);
  b.RegisterService(&service);
  auto server = b.BuildAndStart();
  ASSERT_GT(port, 0);
  std::string target = absl::StrCat("127.0.0.1:", port);
  auto stub = v1::ControlService::NewStub(
      grpc::CreateChannel(target, *InsecureLoopbackChannelCredentials(target)));
  grpc::ClientContext ctx;
  v1::ListSessionsResponse resp;
  ASSERT_TRUE(stub->ListSessions(&ctx, {}, &resp).ok());
  EXPECT_EQ(resp.sessions(0).created_by(), "insecure-loopback");
  grpc::ClientContext ctx2;
  v1::Session out;
  EXPECT_TRUE(stub->StartSession(&ctx2, {}, &out).ok());
  server->Shutdown();
}

}  // namespace
}  // namespace tracer::auth
