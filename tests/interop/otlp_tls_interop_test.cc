// Interop over TLS: our OTLP/gRPC and OTLP/HTTP exporters against the
// Node.js receiver (tests/peers/otlp_receiver.js, Node's OpenSSL-backed TLS
// for both grpc-js and https) with certificates made here by our own CA
// tooling (auth/certs.h). Covers DESIGN.md "Export" / issue 5
// "TLS": a server certificate from an unknown CA is refused, a custom CA is
// accepted, mTLS with our client certificate is accepted, a client
// certificate from another CA is refused by the receiver, and plain text is
// used only when asked for.
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "auth/certs.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "otlp/create_exporter.h"
#include "otlp/otlp_json.h"
#include "otlp/test_requests.h"
#include "tests/interop/peer_receiver.h"

namespace tracer::interop {
namespace {

using otlp::ExporterConfig;
using otlp::ExportTraceServiceRequest;
using otlp::Protocol;
using ::testing::ContainsRegex;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Certificates of two unrelated CAs: "ours" (the receiver's server
// certificate and our client certificate) and "other" (a CA the receiver
// does not trust, with its own server and client certificates).
struct Pki {
  std::string our_ca, other_ca;  // ca.pem paths
  auth::CertPaths server;        // signed by ours: SANs 127.0.0.1, localhost
  auth::CertPaths client;        // signed by ours: an agent certificate (clientAuth)
  auth::CertPaths other_server;  // signed by other
  auth::CertPaths other_client;  // signed by other
};

// What a refused handshake must say: something naming TLS or the
// certificate, not just "unavailable".
constexpr char kTlsWords[] = "(certificate|CERTIFICATE|SSL|TLS|ssl|tls|handshake)";

class OtlpTlsInteropTest : public ::testing::TestWithParam<Protocol> {
 protected:
  static void SetUpTestSuite() {
    const char* t = std::getenv("TEST_TMPDIR");
    const std::string base = absl::StrCat(t != nullptr ? t : "/tmp", "/tls-interop-", getpid());
    ASSERT_EQ(mkdir(base.c_str(), 0700), 0) << base;
    pki_ = new Pki();
    auto make = [](const std::string& dir, auth::CertPaths* server, auth::CertPaths* client) {
      absl::Status ca = auth::CreateCa(dir, /*force=*/true);
      ASSERT_TRUE(ca.ok()) << ca;
      auth::IssueRequest s;
      s.kind = auth::CertKind::kServer;
      s.name = "receiver";
      s.sans = {"127.0.0.1", "localhost"};
      auto sp = auth::IssueCertificate(dir, s, /*force=*/true);
      ASSERT_TRUE(sp.ok()) << sp.status();
      *server = *sp;
      auth::IssueRequest c;
      c.kind = auth::CertKind::kAgent;
      c.name = "control-plane-1";
      auto cp = auth::IssueCertificate(dir, c, /*force=*/true);
      ASSERT_TRUE(cp.ok()) << cp.status();
      *client = *cp;
    };
    make(base + "/ours", &pki_->server, &pki_->client);
    make(base + "/other", &pki_->other_server, &pki_->other_client);
    pki_->our_ca = auth::CaPaths(base + "/ours").cert;
    pki_->other_ca = auth::CaPaths(base + "/other").cert;
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override {
    std::string why;
    auto dir = PeersDir(&why);
    if (!dir) {
      if (InCi()) FAIL() << "interop peers unavailable in CI: " << why;
      GTEST_SKIP() << "SKIP: " << why;
    }
    peers_ = *dir;
  }

  bool Grpc() const { return GetParam() == Protocol::kGrpc; }

  // Starts the receiver on the transport under test; `tls` adds the server
  // certificate (of `server`) and, with `client_ca`, requires client
  // certificates signed by it.
  std::unique_ptr<PeerReceiver> StartReceiver(const auth::CertPaths* server,
                                              const std::string& client_ca = "") {
    std::vector<std::string> args = {Grpc() ? "--grpc-port" : "--http-port", "0"};
    if (server != nullptr) {
      args.insert(args.end(), {"--tls-cert", server->cert, "--tls-key", server->key});
    }
    if (!client_ca.empty()) args.insert(args.end(), {"--tls-client-ca", client_ca});
    auto r = PeerReceiver::Start(peers_, args);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : nullptr;
  }

  // CreateExporter's transports make one attempt per Export(), so a refusal
  // is reported at once.
  ExporterConfig Config(const PeerReceiver& r, const std::string& scheme) const {
    ExporterConfig c;
    c.protocol = GetParam();
    const int port = Grpc() ? r.grpc_port() : r.http_port();
    c.endpoint = Grpc() ? absl::StrCat(scheme, "127.0.0.1:", port)
                        : absl::StrCat(scheme, "127.0.0.1:", port, "/v1/traces");
    c.timeout = absl::Seconds(5);
    return c;
  }

  static absl::StatusOr<otlp::ExportResult> ExportOnce(const ExporterConfig& c) {
    auto ex = otlp::CreateExporter(c);
    if (!ex.ok()) return ex.status();
    auto res = (*ex)->Export(Rich());
    (void)(*ex)->Shutdown();
    return res;
  }

  static ExportTraceServiceRequest Rich() {
    return otlp::testing::MakeRichRequest(otlp::testing::Fields::kOtlp0_9);
  }

  // The receiver decoded exactly one request, equal to Rich().
  static void ExpectReceivedRich(const PeerReceiver& r) {
    std::vector<std::string> lines = r.Requests();
    ASSERT_THAT(lines, SizeIs(1));
    auto got = otlp::FromOtlpJson(lines[0]);
    ASSERT_TRUE(got.ok()) << got.status();
    std::string diff;
    google::protobuf::util::MessageDifferencer d;
    d.ReportDifferencesToString(&diff);
    EXPECT_TRUE(d.Compare(Rich(), *got)) << diff;
  }

  static Pki* pki_;
  std::string peers_;
};

Pki* OtlpTlsInteropTest::pki_ = nullptr;

TEST_P(OtlpTlsInteropTest, ServerCertificateFromAnUnknownCaIsRefused) {
  auto r = StartReceiver(&pki_->other_server);
  ASSERT_NE(r, nullptr);
  // Verified against our CA: the receiver's certificate is from another one.
  ExporterConfig c = Config(*r, "https://");
  c.certificate_file = pki_->our_ca;
  auto res = ExportOnce(c);
  ASSERT_FALSE(res.ok());
  EXPECT_THAT(std::string(res.status().message()), ContainsRegex(kTlsWords)) << res.status();
  EXPECT_THAT(std::string(res.status().message()), ContainsRegex("127\\.0\\.0\\.1"));
  // Verified against the system roots (no CA configured): refused too.
  c.certificate_file.clear();
  res = ExportOnce(c);
  ASSERT_FALSE(res.ok());
  EXPECT_THAT(std::string(res.status().message()), ContainsRegex(kTlsWords)) << res.status();
  EXPECT_THAT(r->Requests(), IsEmpty());
}

TEST_P(OtlpTlsInteropTest, CustomCaIsAccepted) {
  auto r = StartReceiver(&pki_->server);
  ASSERT_NE(r, nullptr);
  ExporterConfig c = Config(*r, "https://");
  c.certificate_file = pki_->our_ca;
  auto res = ExportOnce(c);
  ASSERT_TRUE(res.ok()) << res.status();
  ExpectReceivedRich(*r);
}

TEST_P(OtlpTlsInteropTest, MutualTlsWithOurClientCertificateIsAccepted) {
  auto r = StartReceiver(&pki_->server, pki_->our_ca);
  ASSERT_NE(r, nullptr);
  ExporterConfig c = Config(*r, "https://");
  c.certificate_file = pki_->our_ca;
  c.client_certificate_file = pki_->client.cert;
  c.client_key_file = pki_->client.key;
  auto res = ExportOnce(c);
  ASSERT_TRUE(res.ok()) << res.status();
  ExpectReceivedRich(*r);
}

TEST_P(OtlpTlsInteropTest, ClientCertificateFromAnotherCaIsRefusedByTheReceiver) {
  auto r = StartReceiver(&pki_->server, pki_->our_ca);
  ASSERT_NE(r, nullptr);
  ExporterConfig c = Config(*r, "https://");
  c.certificate_file = pki_->our_ca;
  c.client_certificate_file = pki_->other_client.cert;
  c.client_key_file = pki_->other_client.key;
  auto res = ExportOnce(c);
  // With TLS 1.3 the client has finished its handshake before the receiver
  // checks the client certificate, so the client sees the connection reset
  // (or a TLS alert), not a verification error of its own.
  EXPECT_FALSE(res.ok());
  // No client certificate at all: refused as well.
  c.client_certificate_file.clear();
  c.client_key_file.clear();
  auto bare = ExportOnce(c);
  EXPECT_FALSE(bare.ok());
  EXPECT_THAT(r->Requests(), IsEmpty());
  // The same exporter settings with our client certificate are served: the
  // certificate was the only difference.
  c.client_certificate_file = pki_->client.cert;
  c.client_key_file = pki_->client.key;
  auto good = ExportOnce(c);
  ASSERT_TRUE(good.ok()) << good.status();
  ExpectReceivedRich(*r);
}

TEST_P(OtlpTlsInteropTest, PlainTextOnlyWhenAskedFor) {
  auto tls = StartReceiver(&pki_->server);
  auto plain = StartReceiver(nullptr);
  ASSERT_NE(tls, nullptr);
  ASSERT_NE(plain, nullptr);
  if (Grpc()) {
    // No scheme: TLS unless `insecure`. TLS to the TLS receiver works...
    ExporterConfig c = Config(*tls, "");
    c.certificate_file = pki_->our_ca;
    ASSERT_TRUE(ExportOnce(c).ok());
    // ...and to a plain-text receiver it fails rather than falling back.
    ExporterConfig to_plain = Config(*plain, "");
    to_plain.certificate_file = pki_->our_ca;
    EXPECT_FALSE(ExportOnce(to_plain).ok());
    EXPECT_THAT(plain->Requests(), IsEmpty());
    // Asked for: plain text to the plain receiver works; to the TLS one not.
    to_plain.insecure = true;
    ASSERT_TRUE(ExportOnce(to_plain).ok());
    c.insecure = true;
    EXPECT_FALSE(ExportOnce(c).ok());
    // An https:// endpoint is TLS even when `insecure` is set.
    ExporterConfig https_to_plain = Config(*plain, "https://");
    https_to_plain.insecure = true;
    EXPECT_FALSE(ExportOnce(https_to_plain).ok());
  } else {
    // OTLP/HTTP: the URL's scheme decides. https:// to the plain receiver
    // fails; http:// (asked for plain text) to the TLS receiver fails.
    ExporterConfig https_to_plain = Config(*plain, "https://");
    https_to_plain.certificate_file = pki_->our_ca;
    auto res = ExportOnce(https_to_plain);
    ASSERT_FALSE(res.ok());
    EXPECT_THAT(std::string(res.status().message()), ContainsRegex(kTlsWords)) << res.status();
    EXPECT_THAT(plain->Requests(), IsEmpty());
    EXPECT_FALSE(ExportOnce(Config(*tls, "http://")).ok());
    ASSERT_TRUE(ExportOnce(Config(*plain, "http://")).ok());
    ExporterConfig https_to_tls = Config(*tls, "https://");
    https_to_tls.certificate_file = pki_->our_ca;
    ASSERT_TRUE(ExportOnce(https_to_tls).ok());
  }
  ExpectReceivedRich(*tls);
  ExpectReceivedRich(*plain);
}

INSTANTIATE_TEST_SUITE_P(Transports, OtlpTlsInteropTest,
                         ::testing::Values(Protocol::kGrpc, Protocol::kHttpProtobuf),
                         [](const ::testing::TestParamInfo<Protocol>& info) {
                           return info.param == Protocol::kGrpc ? std::string("Grpc")
                                                                : std::string("HttpProtobuf");
                         });

}  // namespace
}  // namespace tracer::interop
