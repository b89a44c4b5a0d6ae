#include "otlp/config.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::otlp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

absl::StatusOr<ExporterConfig> From(std::map<std::string, std::string> vars,
                                    ConfigOverrides o = {}) {
  return ExporterConfigFromEnv(Env(std::move(vars)), o);
}

TEST(ExporterConfigFromEnv, DefaultsPerProtocol) {
  auto c = From({});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->protocol, Protocol::kGrpc);
  EXPECT_EQ(c->endpoint, "http://localhost:4317");
  EXPECT_EQ(c->timeout, absl::Seconds(10));
  EXPECT_EQ(c->compression, Compression::kNone);
  EXPECT_TRUE(c->headers.empty());
  EXPECT_FALSE(c->insecure);

  c = From({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->protocol, Protocol::kHttpProtobuf);
  EXPECT_EQ(c->endpoint, "http://localhost:4318/v1/traces");

  ConfigOverrides o;
  o.default_protocol = Protocol::kHttpJson;
  c = From({}, o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->protocol, Protocol::kHttpJson);
  EXPECT_EQ(c->endpoint, "http://localhost:4318/v1/traces");
}

TEST(ExporterConfigFromEnv, HttpBaseEndpointGetsSignalPath) {
  for (const auto& [base, want] : std::vector<std::pair<std::string, std::string>>{
           {"http://collector:4318", "http://collector:4318/v1/traces"},
           {"http://collector:4318/", "http://collector:4318/v1/traces"},
           {"https://gw.example/otlp", "https://gw.example/otlp/v1/traces"},
       }) {
    auto c =
        From({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", base}});
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->endpoint, want) << base;
  }
}

TEST(ExporterConfigFromEnv, SignalEndpointUsedAsIsAndWins) {
  auto c = From({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
                 {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"},
                 {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:9999/custom"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "http://traces:9999/custom");
  // Also for gRPC, where no path is appended to either.
  c = From({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4317"},
            {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://traces:4317"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "https://traces:4317");
  c = From({{"OTEL_EXPORTER_OTLP_ENDPOINT", "base:4317"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "base:4317");
}

TEST(ExporterConfigFromEnv, EmptyValuesCountAsUnset) {
  auto c = From({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""},
                 {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4317"},
                 {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", ""},
                 {"OTEL_EXPORTER_OTLP_TIMEOUT", "2500"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "http://base:4317");
  EXPECT_EQ(c->timeout, absl::Milliseconds(2500));
}

TEST(ExporterConfigFromEnv, EachVariableAndTracesPrecedence) {
  auto c = From({
      {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
      {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "a=1"},
      {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "api-key=s%3Dcret,x-tenant=t 1"},
      {"OTEL_EXPORTER_OTLP_COMPRESSION", "none"},
      {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"},
      {"OTEL_EXPORTER_OTLP_TIMEOUT", "1000"},
      {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "750"},
      {"OTEL_EXPORTER_OTLP_CERTIFICATE", "/generic/ca.pem"},
      {"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/traces/ca.pem"},
      {"OTEL_EXPORTER_OTLP_CLIENT_KEY", "/generic/key.pem"},
      {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", "/traces/key.pem"},
      {"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", "/generic/cert.pem"},
      {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "/traces/cert.pem"},
      {"OTEL_EXPORTER_OTLP_INSECURE", "false"},
      {"OTEL_EXPORTER_OTLP_TRACES_INSECURE", "TRUE"},
  });
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->protocol, Protocol::kHttpJson);
  EXPECT_THAT(c->headers, ElementsAre(Pair("api-key", "s=cret"), Pair("x-tenant", "t 1")));
  EXPECT_EQ(c->compression, Compression::kGzip);
  EXPECT_EQ(c->timeout, absl::Milliseconds(750));
  EXPECT_EQ(c->certificate_file, "/traces/ca.pem");
  EXPECT_EQ(c->client_key_file, "/traces/key.pem");
  EXPECT_EQ(c->client_certificate_file, "/traces/cert.pem");
  EXPECT_TRUE(c->insecure);
}

TEST(ExporterConfigFromEnv, GenericVariablesAloneApply) {
  auto c = From({{"OTEL_EXPORTER_OTLP_HEADERS", "a=1"},
                 {"OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"},
                 {"OTEL_EXPORTER_OTLP_INSECURE", "true"}});
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(c->headers, ElementsAre(Pair("a", "1")));
  EXPECT_EQ(c->compression, Compression::kGzip);
  EXPECT_TRUE(c->insecure);
}

TEST(ExporterConfigFromEnv, OverridesWin) {
  ConfigOverrides o;
  o.protocol = Protocol::kHttpProtobuf;
  o.endpoint = "http://127.0.0.1:5555";
  o.headers = "k=v";
  o.timeout = absl::Milliseconds(300);
  auto c = From({{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"},
                 {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://env:1/x"},
                 {"OTEL_EXPORTER_OTLP_HEADERS", "e=1"},
                 {"OTEL_EXPORTER_OTLP_TIMEOUT", "9000"}},
                o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->protocol, Protocol::kHttpProtobuf);
  EXPECT_EQ(c->endpoint, "http://127.0.0.1:5555/v1/traces");
  EXPECT_THAT(c->headers, ElementsAre(Pair("k", "v")));
  EXPECT_EQ(c->timeout, absl::Milliseconds(300));
  // An override URL with a path is used as is.
  o.endpoint = "http://127.0.0.1:5555/custom/traces";
  c = From({}, o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->endpoint, "http://127.0.0.1:5555/custom/traces");
}

TEST(ExporterConfigFromEnv, ErrorsNameTheVariable) {
  struct Case {
    std::map<std::string, std::string> env;
    std::string want;
  };
  for (const Case& k : std::vector<Case>{
           {{{"OTEL_EXPORTER_OTLP_PROTOCOL", "http"}},
            "OTEL_EXPORTER_OTLP_PROTOCOL: unknown OTLP protocol \"http\""},
           {{{"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "zstd"}},
            "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: unknown compression"},
           {{{"OTEL_EXPORTER_OTLP_TIMEOUT", "10s"}}, "OTEL_EXPORTER_OTLP_TIMEOUT: timeout \"10s\""},
           {{{"OTEL_EXPORTER_OTLP_TIMEOUT", "-1"}}, "positive number of milliseconds"},
           {{{"OTEL_EXPORTER_OTLP_INSECURE", "yes"}},
            "OTEL_EXPORTER_OTLP_INSECURE: \"yes\" is not true or false"},
           {{{"OTEL_EXPORTER_OTLP_HEADERS", "a=1,broken"}},
            "OTEL_EXPORTER_OTLP_HEADERS: header 2 (\"broken\") is not key=value"},
           {{{"OTEL_EXPORTER_OTLP_CLIENT_KEY", "/k.pem"}}, "set both or neither"},
           {{{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
             {"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"}},
            "OTEL_EXPORTER_OTLP_ENDPOINT: endpoint \"collector:4318\": needs an http:// or "
            "https:// scheme"},
           {{{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://x:1"}},
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
       }) {
    auto c = From(k.env);
    ASSERT_FALSE(c.ok()) << k.want;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(c.status().message(), HasSubstr(k.want));
  }
}

TEST(ParseHeaders, W3cBaggageLikeList) {
  auto h = ParseHeaders(" Authorization = Bearer%20abc , x-a=b=c,,empty=, x%2Dy=%E2%9C%93");
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_THAT(*h, ElementsAre(Pair("Authorization", "Bearer abc"), Pair("x-a", "b=c"),
                              Pair("empty", ""), Pair("x-y", "\xe2\x9c\x93")));
  EXPECT_TRUE(ParseHeaders("")->empty());
}

TEST(ParseHeaders, BadListsGiveClearErrors) {
  EXPECT_THAT(ParseHeaders("novalue").status().message(),
              HasSubstr("header 1 (\"novalue\") is not key=value"));
  EXPECT_THAT(ParseHeaders("=v").status().message(), HasSubstr("empty key"));
  EXPECT_THAT(ParseHeaders("a b=v").status().message(), HasSubstr("is not an HTTP token"));
  EXPECT_THAT(ParseHeaders("a=%zz").status().message(), HasSubstr("bad percent escape \"%zz\""));
  EXPECT_THAT(ParseHeaders("a=%4").status().message(), HasSubstr("bad percent escape"));
  EXPECT_THAT(ParseHeaders("a=x%0d%0aInjected: 1").status().message(), HasSubstr("CR, LF or NUL"));
}

TEST(ParseProtocol, Names) {
  EXPECT_EQ(*ParseProtocol("grpc"), Protocol::kGrpc);
  EXPECT_EQ(*ParseProtocol("http/protobuf"), Protocol::kHttpProtobuf);
  EXPECT_EQ(*ParseProtocol("http/json"), Protocol::kHttpJson);
  EXPECT_FALSE(ParseProtocol("HTTP/JSON").ok());
  EXPECT_EQ(ProtocolName(Protocol::kHttpJson), "http/json");
}

}  // namespace
}  // namespace tracer::otlp
