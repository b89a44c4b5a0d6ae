#include "otlp/create_exporter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "otlp/retry_policy.h"

namespace tracer::otlp {
namespace {

using ::testing::HasSubstr;

TEST(CreateExporter, BuildsEachTransportAndRejectsBadFiles) {
  ExporterConfig c;
  c.endpoint = "http://127.0.0.1:1";
  auto ex = CreateExporter(c);
  ASSERT_TRUE(ex.ok()) << ex.status();
  EXPECT_EQ((*ex)->Describe(), "otlp/grpc http://127.0.0.1:1");
  c.protocol = Protocol::kHttpJson;
  c.endpoint = "http://127.0.0.1:1/v1/traces";
  ex = CreateExporter(c);
  ASSERT_TRUE(ex.ok()) << ex.status();
  EXPECT_EQ((*ex)->Describe(), "otlp/http/json http://127.0.0.1:1/v1/traces");
  c.certificate_file = "/nonexistent/ca.pem";
  EXPECT_THAT(CreateExporter(c).status().message(), HasSubstr("/nonexistent/ca.pem"));
  c.protocol = Protocol::kGrpc;
  c.endpoint = "https://127.0.0.1:1";
  EXPECT_THAT(CreateExporter(c).status().message(), HasSubstr("/nonexistent/ca.pem"));
}

// A transport makes one attempt per Export(): with nothing listening on
// loopback port 1, the failure comes back with the transport's retryable
// mark, for the export engine to retry.
TEST(CreateExporter, ExportIsOneAttemptKeepingTheRetryableMark) {
  for (Protocol p : {Protocol::kGrpc, Protocol::kHttpProtobuf}) {
    ExporterConfig c;
    c.protocol = p;
    c.endpoint = p == Protocol::kGrpc ? "http://127.0.0.1:1" : "http://127.0.0.1:1/v1/traces";
    c.timeout = absl::Seconds(2);
    auto ex = CreateExporter(c);
    ASSERT_TRUE(ex.ok()) << ex.status();
    const absl::Status s = (*ex)->Export(ExportTraceServiceRequest()).status();
    EXPECT_FALSE(s.ok()) << ProtocolName(p);
    EXPECT_TRUE(IsMarkedRetryable(s)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("127.0.0.1:1")) << s;
  }
}

}  // namespace
}  // namespace tracer::otlp
