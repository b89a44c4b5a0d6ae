#include "controlplane/exporters/exporter_validation.h"

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/testing/temp_dir.h"

namespace tracer::controlplane {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::ExporterSpec Valid() {
  v1::ExporterSpec spec;
  spec.set_name("tempo-1");
  spec.set_protocol("grpc");
  spec.set_endpoint("https://tempo.example:4317");
  auto* h = spec.add_headers();
  h->set_key("Authorization");
  h->set_value("Bearer s3cr3t");
  return spec;
}

std::string ErrorOf(const v1::ExporterSpec& spec) {
  absl::Status s = ValidateExporterSpec(spec);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  return std::string(s.message());
}

TEST(ExporterValidationTest, AcceptsTheDocumentedShapes) {
  EXPECT_TRUE(ValidateExporterSpec(Valid()).ok());
  v1::ExporterSpec spec = Valid();
  spec.set_protocol("");
  spec.set_endpoint("localhost:4317");  // grpc without scheme
  EXPECT_TRUE(ValidateExporterSpec(spec).ok()) << ValidateExporterSpec(spec);
  spec.set_protocol("http/json");
  spec.set_endpoint("http://[::1]:4318/v1/traces");
  spec.set_compression("gzip");
  spec.set_timeout_ms(kMaxTimeoutMs);
  spec.set_max_batch_spans(kMaxBatchSpans);
  spec.set_max_batch_bytes(kMaxBatchBytes);
  spec.set_breaker_failure_threshold(kMaxBreakerFailureThreshold);
  spec.set_breaker_open_for_ms(kMaxBreakerOpenForMs);
  EXPECT_TRUE(ValidateExporterSpec(spec).ok()) << ValidateExporterSpec(spec);
}

TEST(ExporterValidationTest, Names) {
  for (const char* good : {"a", "jaeger", "tempo_eu-1.prod", "0backend"}) {
    EXPECT_TRUE(ValidateExporterName(good).ok()) << good;
  }
  EXPECT_EQ(ValidateExporterName("").message(), "exporter.name: is empty");
  EXPECT_THAT(ValidateExporterName(std::string(65, 'a')).message(),
              HasSubstr("longer than 64 bytes"));
  EXPECT_THAT(ValidateExporterName("Tempo").message(), HasSubstr("only a-z, 0-9"));
  EXPECT_THAT(ValidateExporterName("a/b").message(), HasSubstr("only a-z, 0-9"));
  EXPECT_THAT(ValidateExporterName("..").message(), HasSubstr("must start with a letter"));
  EXPECT_THAT(ValidateExporterName("-x").message(), HasSubstr("must start with a letter"));
  EXPECT_THAT(ValidateExporterName("embedded-store").message(), HasSubstr("reserved"));
}

TEST(ExporterValidationTest, ProtocolAndEndpoint) {
  v1::ExporterSpec spec = Valid();
  spec.set_protocol("http");
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.protocol: \"http\": expected grpc"));
  spec = Valid();
  spec.clear_endpoint();
  EXPECT_EQ(ErrorOf(spec), "exporter.endpoint: is required");
  spec.set_protocol("http/protobuf");
  spec.set_endpoint("collector:4318");  // HTTP needs a scheme
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.endpoint: "));
  spec.set_endpoint("ftp://collector:4318");
  EXPECT_THAT(ErrorOf(spec), HasSubstr("scheme must be http or https"));
  spec.set_endpoint("https://user:pw@collector:4318");
  EXPECT_THAT(ErrorOf(spec), HasSubstr("user:password@"));
  spec.set_endpoint("https://collector:99999");
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.endpoint: "));
  spec.set_endpoint("https://" + std::string(kMaxEndpointBytes, 'h'));
  EXPECT_THAT(ErrorOf(spec), HasSubstr("longer than 2048 bytes"));
}

TEST(ExporterValidationTest, HeadersNeverQuoteTheValue) {
  v1::ExporterSpec spec = Valid();
  spec.mutable_headers(0)->set_key("bad key");
  EXPECT_THAT(ErrorOf(spec),
              HasSubstr("exporter.headers[0].key: \"bad key\" is not an HTTP token"));
  spec = Valid();
  spec.mutable_headers(0)->set_value("token\r\nX-Injected: 1");
  std::string error = ErrorOf(spec);
  EXPECT_THAT(error, HasSubstr("exporter.headers[0].value (Authorization): contains CR, LF"));
  EXPECT_THAT(error, Not(HasSubstr("token")));
  spec = Valid();
  spec.mutable_headers(0)->set_value(std::string(kMaxHeaderValueBytes + 1, 'x'));
  EXPECT_THAT(ErrorOf(spec), HasSubstr("longer than 4096 bytes"));
  spec = Valid();
  for (size_t i = 0; i < kMaxExporterHeaders; ++i) {
    auto* h = spec.add_headers();
    h->set_key("k");
  }
  EXPECT_EQ(ErrorOf(spec), "exporter.headers: more than 64");
  spec = Valid();
  spec.add_headers();
  EXPECT_EQ(ErrorOf(spec), "exporter.headers[1].key: is empty");
}

TEST(ExporterValidationTest, Bounds) {
  v1::ExporterSpec spec = Valid();
  spec.set_compression("zstd");
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.compression: \"zstd\""));
  spec = Valid();
  spec.set_timeout_ms(kMaxTimeoutMs + 1);
  EXPECT_EQ(ErrorOf(spec), "exporter.timeout_ms: 600001 is above the maximum 600000");
  spec = Valid();
  spec.set_max_batch_spans(kMaxBatchSpans + 1);
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.max_batch_spans: "));
  spec = Valid();
  spec.set_max_batch_bytes(kMaxBatchBytes + 1);
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.max_batch_bytes: "));
  spec = Valid();
  spec.set_breaker_failure_threshold(kMaxBreakerFailureThreshold + 1);
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.breaker_failure_threshold: "));
  spec = Valid();
  spec.set_breaker_open_for_ms(kMaxBreakerOpenForMs + 1);
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.breaker_open_for_ms: "));
  spec = Valid();
  spec.set_retry_initial_interval_ms(kMaxRetryIntervalMs + 1);
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.retry_initial_interval_ms: "));
  spec = Valid();
  spec.set_retry_initial_interval_ms(5000);
  spec.set_retry_max_interval_ms(1000);
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.retry_max_interval_ms: 1000 is below"));
}

TEST(ExporterValidationTest, TlsFiles) {
  storage::testing::TempDir dir;
  const std::string pem = dir.path() + "/ca.pem";
  std::ofstream(pem) << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  const std::string junk = dir.path() + "/junk.pem";
  std::ofstream(junk) << "not a pem file\n";

  v1::ExporterSpec spec = Valid();
  spec.set_certificate_file(pem);
  EXPECT_TRUE(ValidateExporterSpec(spec).ok()) << ValidateExporterSpec(spec);
  spec.set_certificate_file("ca.pem");
  EXPECT_THAT(ErrorOf(spec),
              HasSubstr("exporter.certificate_file: \"ca.pem\" must be an absolute"));
  spec.set_certificate_file(dir.path() + "/missing.pem");
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.certificate_file: "));
  EXPECT_THAT(ErrorOf(spec), HasSubstr("missing.pem"));
  spec.set_certificate_file(junk);
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.certificate_file: "));

  spec = Valid();
  spec.set_client_key_file(pem);
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.client_certificate_file: client_key_file and "
                                       "client_certificate_file go together"));
  spec.set_client_certificate_file(junk);
  EXPECT_THAT(ErrorOf(spec), HasSubstr("exporter.client_certificate_file: "));
  spec.set_client_certificate_file(pem);
  EXPECT_TRUE(ValidateExporterSpec(spec).ok());
}

}  // namespace
}  // namespace tracer::controlplane
