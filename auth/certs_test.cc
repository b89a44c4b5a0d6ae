#include "auth/certs.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string TempDir() {
  std::string tmpl =
      std::string(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp") + "/certs_test.XXXXXX";
  char* d = mkdtemp(tmpl.data());
  EXPECT_NE(d, nullptr);
  return tmpl + "/certs";  // not created yet: CreateCa must create it
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

mode_t Mode(const std::string& path) {
  struct stat st;
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// Verifies `cert_pem` against `ca_pem` with OpenSSL's own chain verifier.
bool VerifiesAgainst(const std::string& cert_pem, const std::string& ca_pem) {
  BIO* b1 = BIO_new_mem_buf(cert_pem.data(), cert_pem.size());
  BIO* b2 = BIO_new_mem_buf(ca_pem.data(), ca_pem.size());
  X509* cert = PEM_read_bio_X509(b1, nullptr, nullptr, nullptr);
  X509* ca = PEM_read_bio_X509(b2, nullptr, nullptr, nullptr);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(cert);
  X509_free(ca);
  BIO_free(b1);
  BIO_free(b2);
  return ok;
}

class CertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    umask(0);  // the modes must not depend on the caller's umask
    dir_ = TempDir();
    ASSERT_TRUE(CreateCa(dir_, false).ok());
  }
  void TearDown() override { umask(022); }
  std::string dir_;
};

TEST_F(CertsTest, CaFilesHaveModesAndCaIsSelfSigned) {
  EXPECT_EQ(Mode(dir_ + "/ca.key"), 0600);
  EXPECT_EQ(Mode(dir_ + "/ca.pem"), 0644);
  EXPECT_EQ(Mode(dir_), 0700);
  std::string ca = Slurp(dir_ + "/ca.pem");
  EXPECT_TRUE(VerifiesAgainst(ca, ca));
  EXPECT_THAT(Slurp(dir_ + "/ca.key"), HasSubstr("BEGIN PRIVATE KEY"));
}

TEST_F(CertsTest, RefusesToOverwriteCaWithoutForce) {
  std::string before = Slurp(dir_ + "/ca.pem");
  absl::Status s = CreateCa(dir_, false);
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--force"));
  EXPECT_EQ(Slurp(dir_ + "/ca.pem"), before);
  ASSERT_TRUE(CreateCa(dir_, true).ok());
  EXPECT_NE(Slurp(dir_ + "/ca.pem"), before);
  EXPECT_EQ(Mode(dir_ + "/ca.key"), 0600);
}

TEST_F(CertsTest, UserCertificateCarriesRoleAndChainsToCa) {
  IssueRequest req;
  req.kind = CertKind::kUser;
  req.name = "alice";
  req.role = Role::kOperator;
  auto paths = IssueCertificate(dir_, req, false);
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->cert, dir_ + "/alice.pem");
  EXPECT_EQ(Mode(paths->key), 0600);
  EXPECT_EQ(Mode(paths->cert), 0644);
  std::string pem = Slurp(paths->cert);
  EXPECT_TRUE(VerifiesAgainst(pem, Slurp(dir_ + "/ca.pem")));
  auto id = ParseCertificatePem(pem);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->common_name, "alice");
  EXPECT_EQ(id->subject, "CN=alice,O=tracer");
  EXPECT_THAT(id->uris, ElementsAre("urn:tracer:role:operator"));
  auto role = RoleOf(*id);
  ASSERT_TRUE(role.ok());
  EXPECT_EQ(*role, Role::kOperator);
}

TEST_F(CertsTest, ServerAndAgentRolesAndSans) {
  IssueRequest server;
  server.kind = CertKind::kServer;
  server.name = "controlplane";
  server.role = Role::kAdmin;  // ignored: servers are always "server"
  server.sans = {"localhost", "127.0.0.1", "::1"};
  auto sp = IssueCertificate(dir_, server, false);
  ASSERT_TRUE(sp.ok()) << sp.status();
  auto sid = ParseCertificatePem(Slurp(sp->cert));
  ASSERT_TRUE(sid.ok());
  EXPECT_THAT(sid->dns, ElementsAre("localhost"));
  EXPECT_THAT(sid->ips, ElementsAre("127.0.0.1", "::1"));
  EXPECT_EQ(*RoleOf(*sid), Role::kServer);

  IssueRequest agent;
  agent.kind = CertKind::kAgent;
  agent.name = "node-1";
  auto ap = IssueCertificate(dir_, agent, false);
  ASSERT_TRUE(ap.ok());
  auto aid = ParseCertificatePem(Slurp(ap->cert));
  EXPECT_EQ(aid->common_name, "node-1");
  EXPECT_EQ(*RoleOf(*aid), Role::kAgent);
}

TEST_F(CertsTest, CertificateFromAnotherCaDoesNotVerify) {
  std::string other = TempDir();
  ASSERT_TRUE(CreateCa(other, false).ok());
  IssueRequest req;
  req.name = "mallory";
  auto p = IssueCertificate(other, req, false);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(VerifiesAgainst(Slurp(p->cert), Slurp(dir_ + "/ca.pem")));
}

TEST_F(CertsTest, RejectsBadRequests) {
  IssueRequest req;
  req.name = "../etc/passwd";
  EXPECT_EQ(IssueCertificate(dir_, req, false).status().code(), absl::StatusCode::kInvalidArgument);
  req.name = "ca";
  EXPECT_EQ(IssueCertificate(dir_, req, false).status().code(), absl::StatusCode::kInvalidArgument);
  req.name = "bob";
  req.role = Role::kAgent;  // users are viewer/operator/admin
  EXPECT_THAT(std::string(IssueCertificate(dir_, req, false).status().message()),
              HasSubstr("--role"));
  req.role = Role::kViewer;
  req.sans = {"localhost"};  // SANs are for servers
  EXPECT_THAT(std::string(IssueCertificate(dir_, req, false).status().message()),
              HasSubstr("--san"));
  IssueRequest server;
  server.kind = CertKind::kServer;
  server.name = "cp";
  EXPECT_EQ(IssueCertificate(dir_, server, false).status().code(),
            absl::StatusCode::kInvalidArgument);  // no SAN
  server.sans = {"bad,DNS:evil"};
  EXPECT_EQ(IssueCertificate(dir_, server, false).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(IssueCertificate(dir_ + "/missing", IssueRequest{.name = "x"}, false).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CertsTest, RefusesToOverwriteIssuedWithoutForce) {
  IssueRequest req;
  req.name = "carol";
  ASSERT_TRUE(IssueCertificate(dir_, req, false).ok());
  EXPECT_EQ(IssueCertificate(dir_, req, false).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(IssueCertificate(dir_, req, true).ok());
}

}  // namespace
}  // namespace tracer::auth
