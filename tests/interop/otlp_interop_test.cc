// Interop: our OTLP exporters against a receiver built from OpenTelemetry's
// and gRPC's JavaScript packages and the official OTLP .proto files
// (tests/peers). What the receiver decoded must equal what we sent.
#include <curl/curl.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "otlp/create_exporter.h"
#include "otlp/delivery/backend_worker.h"
#include "otlp/delivery/transport.h"
#include "otlp/file_exporter.h"
#include "otlp/http_status.h"
#include "otlp/otlp_json.h"
#include "otlp/retry_policy.h"
#include "otlp/test_requests.h"
#include "storage/testing/temp_dir.h"
#include "storage/testing/test_wal.h"
#include "tests/interop/peer_receiver.h"

namespace tracer::interop {
namespace {

using otlp::ExporterConfig;
using otlp::ExportTraceServiceRequest;
using otlp::Protocol;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class OtlpInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    auto dir = PeersDir(&why);
    if (!dir) {
      if (InCi()) FAIL() << "interop peers unavailable in CI: " << why;
      GTEST_SKIP() << "SKIP: " << why;
    }
    peers_ = *dir;
  }

  std::unique_ptr<PeerReceiver> StartReceiver(std::vector<std::string> args) {
    auto r = PeerReceiver::Start(peers_, std::move(args));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *std::move(r) : nullptr;
  }

  // Backoff settings (for the export engine's runs) small enough for tests.
  static ExporterConfig Config(Protocol protocol, const std::string& endpoint) {
    ExporterConfig c;
    c.protocol = protocol;
    c.endpoint = endpoint;
    c.timeout = absl::Seconds(5);
    c.retry.initial_interval = absl::Milliseconds(50);
    c.retry.max_interval = absl::Milliseconds(200);
    return c;
  }

  static std::string GrpcUrl(const PeerReceiver& r) {
    return absl::StrCat("http://127.0.0.1:", r.grpc_port());
  }
  static std::string HttpUrl(const PeerReceiver& r) {
    return absl::StrCat("http://127.0.0.1:", r.http_port(), "/v1/traces");
  }

  // Each received line decodes to the corresponding sent request.
  static void ExpectReceived(const PeerReceiver& r,
                             const std::vector<ExportTraceServiceRequest>& sent) {
    std::vector<std::string> lines = r.Requests();
    ASSERT_THAT(lines, SizeIs(sent.size()));
    for (size_t i = 0; i < sent.size(); ++i) {
      auto got = otlp::FromOtlpJson(lines[i]);
      ASSERT_TRUE(got.ok()) << got.status() << "\n" << lines[i];
      std::string diff;
      google::protobuf::util::MessageDifferencer d;
      d.ReportDifferencesToString(&diff);
      EXPECT_TRUE(d.Compare(sent[i], *got)) << "request " << i << ":\n" << diff;
    }
  }

  std::string peers_;
};

ExportTraceServiceRequest Rich() {
  return otlp::testing::MakeRichRequest(otlp::testing::Fields::kOtlp0_9);
}

// The export engine on a write-ahead log holding `requests` (serialized, as
// a node's WAL stage appends them), delivering it to the backend of
// `config` with its real transport; backoff from config.retry.
class EngineRun {
 public:
  EngineRun(const ExporterConfig& config, const std::vector<ExportTraceServiceRequest>& requests) {
    auto wal = storage::testing::OpenTestWal(dir_.path() + "/wal");
    EXPECT_TRUE(wal.ok()) << wal.status();
    wal_ = *std::move(wal);
    otlp::delivery::BackendOptions options;
    options.name = "interop";
    options.exporter = config;
    options.payload_format = otlp::delivery::PayloadFormat::kRequest;
    EXPECT_TRUE(wal_->RegisterConsumer(otlp::delivery::ConsumerName(options.name),
                                       storage::StartPosition::kOldest)
                    .ok());
    for (const ExportTraceServiceRequest& r : requests) {
      EXPECT_TRUE(wal_->Append(r.SerializeAsString(), otlp::CountSpans(r)).ok());
    }
    auto transport = otlp::delivery::CreateTransport(options);
    EXPECT_TRUE(transport.ok()) << transport.status();
    consumer_ = otlp::delivery::ConsumerName(options.name);
    worker_ = std::make_unique<otlp::delivery::BackendWorker>(
        wal_.get(), options, *std::move(transport), otlp::ResourceAttributes{},
        dir_.path() + "/dead", absl::Milliseconds(20), otlp::delivery::BackendStats{});
    worker_->Start();
  }

  // Whether the worker caught up (everything acknowledged) within `budget`.
  bool Drain(absl::Duration budget) { return worker_->Drain(absl::Now() + budget); }

  otlp::delivery::BackendStats Stop() {
    worker_->Stop();
    return worker_->Stats();
  }

  uint64_t unsent_records() const {
    for (const auto& c : wal_->Stats().consumers) {
      if (c.name == consumer_) return c.lag_records;
    }
    return 0;
  }

 private:
  storage::testing::TempDir dir_;
  std::unique_ptr<storage::RocksDbWal> wal_;
  std::string consumer_;
  std::unique_ptr<otlp::delivery::BackendWorker> worker_;
};

TEST_F(OtlpInteropTest, GrpcRoundTripWithHeadersGzipAndPartialSuccess) {
  auto r = StartReceiver({"--grpc-port", "0", "--reject-spans", "2"});
  ASSERT_NE(r, nullptr);
  ExporterConfig c = Config(Protocol::kGrpc, GrpcUrl(*r));
  c.headers = {{"X-Api-Key", "s3cret"}, {"x-tenant", "t1"}};
  c.compression = otlp::Compression::kGzip;
  auto ex = otlp::CreateExporter(c);
  ASSERT_TRUE(ex.ok()) << ex.status();
  auto res = (*ex)->Export(Rich());
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->rejected_spans, 2);
  EXPECT_EQ(res->partial_success_message, "rejected 2 spans");
  ExpectReceived(*r, {Rich()});
  auto attempts = r->Attempts();
  ASSERT_THAT(attempts, SizeIs(1));
  EXPECT_THAT(attempts[0], HasSubstr(R"("x-api-key":"s3cret")"));
  EXPECT_THAT(attempts[0], HasSubstr(R"("x-tenant":"t1")"));
  // grpc-js hides the grpc-encoding header from handlers, so that the
  // request was gzip-compressed is not observable here; that it decoded is.
}

TEST_F(OtlpInteropTest, HttpProtobufRoundTripWithGzip) {
  auto r = StartReceiver({"--http-port", "0", "--reject-spans", "1"});
  ASSERT_NE(r, nullptr);
  ExporterConfig c = Config(Protocol::kHttpProtobuf, HttpUrl(*r));
  c.headers = {{"Authorization", "Bearer abc"}};
  c.compression = otlp::Compression::kGzip;
  auto ex = otlp::CreateExporter(c);
  ASSERT_TRUE(ex.ok()) << ex.status();
  auto big = otlp::testing::MakeSyscallRequest(300, 7);
  auto res = (*ex)->Export(Rich());
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->rejected_spans, 1);
  ASSERT_TRUE((*ex)->Export(big).ok());
  ExpectReceived(*r, {Rich(), big});
  auto attempts = r->Attempts();
  ASSERT_THAT(attempts, SizeIs(2));
  EXPECT_THAT(attempts[0], HasSubstr(R"("contentType":"application/x-protobuf")"));
  EXPECT_THAT(attempts[0], HasSubstr(R"("encoding":"gzip")"));
  EXPECT_THAT(attempts[0], HasSubstr(R"("authorization":"Bearer abc")"));
}

// The protobuf transports take the wire form and send serialized requests
// as they are; the JSON one takes messages and parses serialized requests
// first. Either way the receiver decodes what was serialized.
TEST_F(OtlpInteropTest, SerializedRequestsReachTheReceiverInEveryProtocol) {
  const std::string serialized = Rich().SerializeAsString();
  struct Case {
    Protocol protocol;
    otlp::RequestForm form;
  };
  for (const Case& c : {Case{Protocol::kGrpc, otlp::RequestForm::kWire},
                        Case{Protocol::kHttpProtobuf, otlp::RequestForm::kWire},
                        Case{Protocol::kHttpJson, otlp::RequestForm::kParsed}}) {
    SCOPED_TRACE(std::string(otlp::ProtocolName(c.protocol)));
    const bool grpc = c.protocol == Protocol::kGrpc;
    auto r = StartReceiver({grpc ? "--grpc-port" : "--http-port", "0"});
    ASSERT_NE(r, nullptr);
    auto ex = otlp::CreateExporter(Config(c.protocol, grpc ? GrpcUrl(*r) : HttpUrl(*r)));
    ASSERT_TRUE(ex.ok()) << ex.status();
    EXPECT_EQ((*ex)->request_form(), c.form);
    auto res = (*ex)->ExportSerialized(serialized);
    ASSERT_TRUE(res.ok()) << res.status();
    ExpectReceived(*r, {Rich()});
    if (c.form == otlp::RequestForm::kParsed) {
      EXPECT_EQ((*ex)->ExportSerialized("\xff\xff\xff").status().code(),
                absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST_F(OtlpInteropTest, HttpJsonRoundTrip) {
  auto r = StartReceiver({"--http-port", "0", "--reject-spans", "3"});
  ASSERT_NE(r, nullptr);
  auto ex = otlp::CreateExporter(Config(Protocol::kHttpJson, HttpUrl(*r)));
  ASSERT_TRUE(ex.ok()) << ex.status();
  auto res = (*ex)->Export(Rich());
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->rejected_spans, 3);  // JSON response body decoded
  ExpectReceived(*r, {Rich()});
  EXPECT_THAT(r->Attempts().at(0), HasSubstr(R"("contentType":"application/json")"));
}

// The export engine (otlp/delivery) retries the batch the receiver refuses
// twice with UNAVAILABLE and delivers it once.
TEST_F(OtlpInteropTest, GrpcUnavailableTwiceIsRetriedAndExportedOnce) {
  auto r = StartReceiver({"--grpc-port", "0", "--fail-grpc", "UNAVAILABLE:2"});
  ASSERT_NE(r, nullptr);
  EngineRun run(Config(Protocol::kGrpc, GrpcUrl(*r)), {Rich()});
  ASSERT_TRUE(run.Drain(absl::Seconds(30)));
  const otlp::delivery::BackendStats stats = run.Stop();
  EXPECT_EQ(stats.spans_retried, 10u);  // 5 spans, re-sent twice
  EXPECT_EQ(stats.requests_sent, 1u);
  EXPECT_EQ(stats.spans_sent, 5u);
  EXPECT_EQ(stats.spans_failed_by_reason.at("unavailable"), 10u);
  EXPECT_EQ(stats.spans_dead_lettered, 0u);
  EXPECT_EQ(run.unsent_records(), 0u);
  ExpectReceived(*r, {Rich()});
  EXPECT_THAT(r->Attempts(), SizeIs(3));
}

// The export engine retries RESOURCE_EXHAUSTED only when the server sent
// RetryInfo, after the delay it asked for; without RetryInfo the batch is a
// refusal: dead-lettered, not re-sent.
TEST_F(OtlpInteropTest, GrpcResourceExhaustedRetriedOnlyWithRetryInfo) {
  {
    auto r = StartReceiver(
        {"--grpc-port", "0", "--fail-grpc", "RESOURCE_EXHAUSTED:1", "--retry-delay-ms", "400"});
    ASSERT_NE(r, nullptr);
    const absl::Time start = absl::Now();
    EngineRun run(Config(Protocol::kGrpc, GrpcUrl(*r)), {Rich()});
    ASSERT_TRUE(run.Drain(absl::Seconds(30)));
    const absl::Duration took = absl::Now() - start;
    const otlp::delivery::BackendStats stats = run.Stop();
    EXPECT_EQ(stats.spans_retried, 5u);  // 5 spans, re-sent once
    EXPECT_EQ(stats.requests_sent, 1u);
    EXPECT_EQ(stats.spans_dead_lettered, 0u);
    EXPECT_GE(took, absl::Milliseconds(400));  // RetryInfo delay honoured
    ExpectReceived(*r, {Rich()});
    EXPECT_THAT(r->Attempts(), SizeIs(2));
  }
  {
    auto r = StartReceiver({"--grpc-port", "0", "--fail-grpc", "RESOURCE_EXHAUSTED:1",
                            "--fail-message", "quota exceeded"});
    ASSERT_NE(r, nullptr);
    EngineRun run(Config(Protocol::kGrpc, GrpcUrl(*r)), {Rich()});
    ASSERT_TRUE(run.Drain(absl::Seconds(30)));
    const otlp::delivery::BackendStats stats = run.Stop();
    EXPECT_EQ(stats.spans_failed_by_reason.at("resource_exhausted"), 5u);
    EXPECT_THAT(stats.last_error, HasSubstr("RESOURCE_EXHAUSTED: quota exceeded"));
    EXPECT_EQ(stats.spans_retried, 0u);
    EXPECT_EQ(stats.spans_dead_lettered, 5u);
    EXPECT_EQ(stats.spans_sent, 0u);
    EXPECT_EQ(run.unsent_records(), 0u);
    EXPECT_THAT(r->Attempts(), SizeIs(1));
  }
}

// The export engine waits the server's Retry-After (1 s), not its 50 ms
// backoff, before re-sending the batch a 503 refused.
TEST_F(OtlpInteropTest, Http503RetryAfterIsHonoured) {
  auto r = StartReceiver({"--http-port", "0", "--fail-http", "503:1:1"});
  ASSERT_NE(r, nullptr);
  const absl::Time start = absl::Now();
  EngineRun run(Config(Protocol::kHttpProtobuf, HttpUrl(*r)), {Rich()});
  ASSERT_TRUE(run.Drain(absl::Seconds(30)));
  const absl::Duration took = absl::Now() - start;
  const otlp::delivery::BackendStats stats = run.Stop();
  EXPECT_EQ(stats.spans_retried, 5u);  // 5 spans, re-sent once
  EXPECT_EQ(stats.requests_sent, 1u);
  EXPECT_EQ(stats.spans_failed_by_reason.at("http_503"), 5u);
  EXPECT_GE(took, absl::Seconds(1));  // not the 50 ms backoff
  ExpectReceived(*r, {Rich()});
  auto attempts = r->Attempts();
  ASSERT_THAT(attempts, SizeIs(2));
  EXPECT_THAT(attempts[0], HasSubstr(R"("answer":503)"));
}

TEST_F(OtlpInteropTest, Http400IsNotRetriedAndCarriesTheBackendsMessage) {
  for (Protocol p : {Protocol::kHttpProtobuf, Protocol::kHttpJson}) {
    auto r = StartReceiver(
        {"--http-port", "0", "--fail-http", "400:-1", "--fail-message", "span name is too long"});
    ASSERT_NE(r, nullptr);
    auto ex = otlp::CreateExporter(Config(p, HttpUrl(*r)));
    ASSERT_TRUE(ex.ok());
    auto res = (*ex)->Export(Rich());
    EXPECT_EQ(res.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(res.status().message(), HasSubstr("HTTP 400: span name is too long"));
    // Attached for the export engine's failure counters; without the
    // retryable mark the engine dead-letters the batch instead of re-sending.
    EXPECT_EQ(otlp::HttpStatusOf(res.status()), 400);
    EXPECT_FALSE(otlp::IsMarkedRetryable(res.status()));
    EXPECT_THAT(res.status().message(), HasSubstr(HttpUrl(*r)));
    EXPECT_THAT(r->Attempts(), SizeIs(1));
    EXPECT_THAT(r->Requests(), SizeIs(0));
  }
}

// With nothing listening, the export engine keeps the batch, retrying, and
// says why with the endpoint in the error.
TEST_F(OtlpInteropTest, BackendDownGivesAClearErrorAndKeepsTheBatch) {
  const int port = UnusedPort();
  for (Protocol p : {Protocol::kGrpc, Protocol::kHttpProtobuf}) {
    ExporterConfig c =
        Config(p, p == Protocol::kGrpc ? absl::StrCat("http://127.0.0.1:", port)
                                       : absl::StrCat("http://127.0.0.1:", port, "/v1/traces"));
    c.timeout = absl::Milliseconds(500);
    EngineRun run(c, {Rich()});
    EXPECT_FALSE(run.Drain(absl::Seconds(2)));
    const otlp::delivery::BackendStats stats = run.Stop();
    EXPECT_EQ(stats.spans_sent, 0u);
    EXPECT_GT(stats.spans_retried, 0u);
    EXPECT_GT(stats.spans_failed_by_reason.count("unavailable"), 0u) << stats.last_error;
    EXPECT_THAT(stats.last_error, HasSubstr(absl::StrCat("127.0.0.1:", port)));
    EXPECT_EQ(stats.spans_dead_lettered, 0u);
    EXPECT_EQ(run.unsent_records(), 1u);
  }
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// POSTs one body as application/json; returns the HTTP status.
long PostJson(const std::string& url, const std::string& body) {
  CURL* curl = curl_easy_init();
  struct curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return status;
}

TEST_F(OtlpInteropTest, FileExporterOutputIsValidOtlpJsonForTheReceiver) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/interop-spans.jsonl");
  std::vector<ExportTraceServiceRequest> sent = {Rich(), otlp::testing::MakeSyscallRequest(50, 3)};
  {
    auto fx = otlp::FileExporter::Create(path);
    ASSERT_TRUE(fx.ok()) << fx.status();
    for (const auto& req : sent) ASSERT_TRUE((*fx)->Export(req).ok());
    ASSERT_TRUE((*fx)->Shutdown().ok());
  }
  auto r = StartReceiver({"--http-port", "0"});
  ASSERT_NE(r, nullptr);
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    EXPECT_EQ(PostJson(HttpUrl(*r), line), 200) << "line " << n;
  }
  EXPECT_EQ(n, 2);
  ExpectReceived(*r, sent);
}

}  // namespace
}  // namespace tracer::interop
