#include "controlplane/exporters/backend_options.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/testing/temp_dir.h"

namespace tracer::controlplane {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(BackendOptionsTest, DefaultsForZeroFields) {
  v1::ExporterSpec spec;
  spec.set_name("jaeger");
  spec.set_endpoint("jaeger:4317");
  auto options = ToBackendOptions(spec);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->name, "jaeger");
  EXPECT_EQ(options->exporter.protocol, otlp::Protocol::kGrpc);
  EXPECT_EQ(options->exporter.endpoint, "jaeger:4317");
  EXPECT_EQ(options->exporter.compression, otlp::Compression::kNone);
  EXPECT_EQ(options->exporter.timeout, absl::Seconds(10));
  EXPECT_FALSE(options->exporter.insecure);
  const fanout::BackendOptions defaults;
  EXPECT_EQ(options->max_batch_spans, defaults.max_batch_spans);
  EXPECT_EQ(options->max_batch_bytes, defaults.max_batch_bytes);
  EXPECT_EQ(options->breaker.failure_threshold, defaults.breaker.failure_threshold);
  EXPECT_EQ(options->breaker.open_for, defaults.breaker.open_for);
}

TEST(BackendOptionsTest, EveryFieldMapped) {
  storage::testing::TempDir dir;
  const std::string pem = dir.path() + "/x.pem";
  std::ofstream(pem) << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  v1::ExporterSpec spec;
  spec.set_name("honeycomb");
  spec.set_protocol("http/json");
  spec.set_endpoint("https://api.honeycomb.io");
  auto* h = spec.add_headers();
  h->set_key("x-honeycomb-team");
  h->set_value("key1");
  h = spec.add_headers();
  h->set_key("x-other");
  h->set_value("v");
  spec.set_compression("gzip");
  spec.set_timeout_ms(2500);
  spec.set_certificate_file(pem);
  spec.set_client_key_file(pem);
  spec.set_client_certificate_file(pem);
  spec.set_insecure(true);
  spec.set_max_batch_spans(100);
  spec.set_max_batch_bytes(65536);
  spec.set_breaker_failure_threshold(2);
  spec.set_breaker_open_for_ms(1500);
  spec.set_retry_initial_interval_ms(200);
  spec.set_retry_max_interval_ms(2000);
  auto options = ToBackendOptions(spec);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->exporter.protocol, otlp::Protocol::kHttpJson);
  EXPECT_EQ(options->exporter.endpoint, "https://api.honeycomb.io/v1/traces");
  EXPECT_THAT(options->exporter.headers,
              ElementsAre(Pair("x-honeycomb-team", "key1"), Pair("x-other", "v")));
  EXPECT_EQ(options->exporter.compression, otlp::Compression::kGzip);
  EXPECT_EQ(options->exporter.timeout, absl::Milliseconds(2500));
  EXPECT_EQ(options->exporter.certificate_file, pem);
  EXPECT_EQ(options->exporter.client_key_file, pem);
  EXPECT_EQ(options->exporter.client_certificate_file, pem);
  EXPECT_TRUE(options->exporter.insecure);
  EXPECT_EQ(options->max_batch_spans, 100u);
  EXPECT_EQ(options->max_batch_bytes, 65536u);
  EXPECT_EQ(options->breaker.failure_threshold, 2);
  EXPECT_EQ(options->breaker.open_for, absl::Milliseconds(1500));
  EXPECT_EQ(options->exporter.retry.initial_interval, absl::Milliseconds(200));
  EXPECT_EQ(options->exporter.retry.max_interval, absl::Milliseconds(2000));
}

TEST(BackendOptionsTest, HttpPathRules) {
  v1::ExporterSpec spec;
  spec.set_name("c");
  spec.set_protocol("http/protobuf");
  for (auto [in, out] : {std::pair{"http://c:4318", "http://c:4318/v1/traces"},
                         std::pair{"http://c:4318/", "http://c:4318/v1/traces"},
                         std::pair{"http://c:4318/custom/path", "http://c:4318/custom/path"}}) {
    spec.set_endpoint(in);
    auto options = ToBackendOptions(spec);
    ASSERT_TRUE(options.ok()) << options.status();
    EXPECT_EQ(options->exporter.endpoint, out) << in;
  }
  spec.set_protocol("grpc");
  spec.set_endpoint("http://c:4317/");
  EXPECT_EQ(ToBackendOptions(spec)->exporter.endpoint, "http://c:4317/");  // gRPC ignores paths
}

TEST(BackendOptionsTest, InvalidSpecRefused) {
  v1::ExporterSpec spec;
  spec.set_name("x");
  EXPECT_EQ(ToBackendOptions(spec).status().message(), "exporter.endpoint: is required");
}

}  // namespace
}  // namespace tracer::controlplane
