#include "controlplane/exporters/startup_exporters.h"

#include <fstream>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/testing/temp_dir.h"

namespace tracer::controlplane {
namespace {

using ::testing::HasSubstr;

otlp::EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

class ExportersFileTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::vector<v1::ExporterSpec>> Load(const std::string& json,
                                                     std::map<std::string, std::string> env = {}) {
    std::ofstream(path_, std::ios::trunc) << json;
    return LoadExportersFile(path_, Env(env));
  }
  storage::testing::TempDir dir_;
  const std::string path_ = dir_.path() + "/exporters.json";
};

TEST_F(ExportersFileTest, ParsesExportersAndEnvReferences) {
  auto specs = Load(R"({"exporters": [
      {"name": "tempo", "protocol": "grpc", "endpoint": "https://tempo:4317",
       "timeoutMs": 2500, "maxBatchSpans": 100, "breaker_open_for_ms": 1000},
      {"name": "honeycomb", "protocol": "http/protobuf", "endpoint": "https://api.honeycomb.io",
       "compression": "gzip",
       "headers": [{"key": "x-honeycomb-team", "value": "${HC_KEY}"},
                   {"key": "x-plain", "value": "literal"}]}]})",
                    {{"HC_KEY", "abc123"}});
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].name(), "tempo");
  EXPECT_EQ((*specs)[0].timeout_ms(), 2500u);
  EXPECT_EQ((*specs)[0].max_batch_spans(), 100u);
  EXPECT_EQ((*specs)[0].breaker_open_for_ms(), 1000u);
  EXPECT_EQ((*specs)[1].headers(0).value(), "abc123");
  EXPECT_EQ((*specs)[1].headers(1).value(), "literal");
  EXPECT_EQ((*specs)[1].compression(), "gzip");
}

TEST_F(ExportersFileTest, ErrorsNameFileAndField) {
  auto s = Load(R"({"exporters": [{"name": "a", "endpoint": "a:1"},
                                   {"name": "b", "endpoint": "b:1", "timeoutMs": 9999999}]})");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(),
            path_ + ": exporters[1]: exporter.timeout_ms: 9999999 is above the maximum 600000");

  s = Load(
      R"({"exporters": [{"name": "a", "endpoint": "a:1"}, {"name": "a", "endpoint": "b:1"}]})");
  EXPECT_THAT(s.status().message(), HasSubstr("exporters[1]: exporter name \"a\" is repeated"));

  s = Load(R"({"exporters": [{"name": "a", "endpoint": "a:1", "tls": true}]})");
  EXPECT_THAT(s.status().message(), HasSubstr(path_ + ": not an exporters document"));

  s = Load("{not json");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);

  s = Load(R"({"exporters": [{"name": "a", "endpoint": "a:1", "version": 3}]})");
  EXPECT_THAT(s.status().message(), HasSubstr("set by the control plane"));

  s = Load(R"({"exporters": [{"name": "a", "endpoint": "a:1",
               "headers": [{"key": "k", "value": "${MISSING}"}]}]})");
  EXPECT_THAT(s.status().message(), HasSubstr("header k: ${MISSING} is not set"));

  EXPECT_EQ(LoadExportersFile(dir_.path() + "/none.json", Env({})).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(DefaultExporterTest, AbsentWithoutEndpoint) {
  auto spec = DefaultExporter({}, Env({{"OTEL_EXPORTER_OTLP_HEADERS", "a=b"}}));
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->has_value());
}

TEST(DefaultExporterTest, FromEnvironment) {
  auto spec = DefaultExporter({}, Env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                                       {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
                                       {"OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr3t,x-tenant=t1"},
                                       {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
                                       {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2500"}}));
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(spec->has_value());
  const v1::ExporterSpec& s = **spec;
  EXPECT_EQ(s.name(), "default");
  EXPECT_EQ(s.source(), "env");
  EXPECT_EQ(s.protocol(), "http/protobuf");
  EXPECT_EQ(s.endpoint(), "http://collector:4318/v1/traces");  // the spec's rule
  ASSERT_EQ(s.headers_size(), 2);
  EXPECT_EQ(s.headers(0).key(), "api-key");
  EXPECT_EQ(s.headers(0).value(), "s3cr3t");
  EXPECT_EQ(s.compression(), "gzip");
  EXPECT_EQ(s.timeout_ms(), 2500u);
}

TEST(DefaultExporterTest, TracesEndpointAloneAndFlagsOverride) {
  auto spec = DefaultExporter({}, Env({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://t:4317"}}));
  ASSERT_TRUE(spec.ok() && spec->has_value()) << spec.status();
  EXPECT_EQ((*spec)->protocol(), "grpc");
  EXPECT_EQ((*spec)->endpoint(), "https://t:4317");

  spec = DefaultExporter({"http://flag:4318", "http/json"},
                         Env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4317"},
                              {"OTEL_EXPORTER_OTLP_HEADERS", "k=v"}}));
  ASSERT_TRUE(spec.ok() && spec->has_value()) << spec.status();
  EXPECT_EQ((*spec)->source(), "flags");
  EXPECT_EQ((*spec)->protocol(), "http/json");
  EXPECT_EQ((*spec)->endpoint(), "http://flag:4318/v1/traces");
  EXPECT_EQ((*spec)->headers(0).key(), "k");  // the rest still from the environment

  auto bad = DefaultExporter({"http://flag:4318", "thrift"}, Env({}));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("--otlp_protocol"));
  bad = DefaultExporter({}, Env({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"},
                                 {"OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"}}));
  EXPECT_THAT(bad.status().message(), HasSubstr("OTEL_EXPORTER_OTLP_COMPRESSION"));
}

}  // namespace
}  // namespace tracer::controlplane
