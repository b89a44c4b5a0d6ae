#include "otlp/endpoint.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::otlp {
namespace {

using ::testing::HasSubstr;

TEST(ParseEndpoint, SchemeHostPortPath) {
  auto ep = ParseEndpoint("HTTPS://collector.example:4318/otlp/v1/traces?x=1", false);
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_EQ(ep->scheme, "https");
  EXPECT_EQ(ep->host_port, "collector.example:4318");
  EXPECT_EQ(ep->host, "collector.example");
  EXPECT_EQ(ep->port, 4318);
  EXPECT_EQ(ep->path, "/otlp/v1/traces?x=1");
}

TEST(ParseEndpoint, NoSchemeAndIpv6) {
  auto ep = ParseEndpoint("localhost:4317", true);
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->scheme, "");
  EXPECT_EQ(ep->port, 4317);
  ep = ParseEndpoint("http://[::1]:4317", true);
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->host_port, "[::1]:4317");
  ep = ParseEndpoint("http://example", false);
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->port, 0);
}

TEST(ParseEndpoint, Errors) {
  EXPECT_THAT(ParseEndpoint("localhost:4318", false).status().message(),
              HasSubstr("needs an http:// or https:// scheme"));
  EXPECT_THAT(ParseEndpoint("ftp://x:1", true).status().message(), HasSubstr("scheme"));
  EXPECT_THAT(ParseEndpoint("http://:4318", false).status().message(), HasSubstr("no host"));
  EXPECT_THAT(ParseEndpoint("http://h:99999", false).status().message(), HasSubstr("bad port"));
  EXPECT_THAT(ParseEndpoint("http://h:", false).status().message(), HasSubstr("empty port"));
  EXPECT_THAT(ParseEndpoint("http://h :1", false).status().message(), HasSubstr("whitespace"));
  EXPECT_FALSE(ParseEndpoint("", true).ok());
}

TEST(ReadPemFile, MissingAndNotPem) {
  auto r = ReadPemFile("/nonexistent/ca.pem", "certificate");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("certificate file \"/nonexistent/ca.pem\""));
  r = ReadPemFile("/proc/self/cmdline", "client key");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tracer::otlp
