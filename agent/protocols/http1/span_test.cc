#include "agent/protocols/http1/span.h"

#include "agent/protocols/http1/testing/flow_testing.h"
#include "gtest/gtest.h"

namespace tracer::http {
namespace {

using opentelemetry::proto::trace::v1::Span;
using testing::Attr;

HttpMessage Request(std::string method, std::string target, std::string host) {
  HttpMessage m;
  m.method = std::move(method);
  m.target = std::move(target);
  m.http_major = 1;
  m.http_minor = 1;
  m.headers_complete = true;
  if (!host.empty()) m.headers.emplace_back("host", std::move(host));
  m.start_ns = 100;
  m.end_ns = 200;
  return m;
}

HttpMessage Response(int code) {
  HttpMessage m;
  m.is_request = false;
  m.status_code = code;
  m.http_major = 1;
  m.http_minor = 1;
  m.headers_complete = true;
  m.start_ns = 300;
  m.end_ns = 400;
  return m;
}

Span Build(const HttpMessage& req, const HttpMessage& resp, capture::SocketRole role,
           capture::SocketAddress remote = testing::Ipv4(10, 0, 0, 2, 5555)) {
  ExchangeView x;
  x.role = role;
  x.local = testing::Ipv4(10, 0, 0, 1, 8080);
  x.remote = remote;
  x.request = &req;
  x.request_end = MessageEnd::kComplete;
  x.response = &resp;
  x.response_end = MessageEnd::kComplete;
  SpanIds ids;
  ids.trace_id[0] = 1;
  ids.span_id[0] = 2;
  HttpSpanOptions options;
  options.clock = common::ClockOffset::FromOffset(1000);
  Span s;
  BuildHttpSpan(x, ids, options, s);
  return s;
}

TEST(RedactQueryTest, RedactsSemconvKeysOnly) {
  EXPECT_EQ(RedactQuery("a=1&sig=abc&Signature=x&AWSAccessKeyId=k&X-Goog-Signature=g&b"),
            "a=1&sig=REDACTED&Signature=REDACTED&AWSAccessKeyId=REDACTED&"
            "X-Goog-Signature=REDACTED&b");
  EXPECT_EQ(RedactQuery("signature=lowercase-is-not-listed"), "signature=lowercase-is-not-listed");
  EXPECT_EQ(RedactQuery(""), "");
}

TEST(BuildHttpSpanTest, TimesAreConvertedWithTheClock) {
  Span s = Build(Request("GET", "/", "h"), Response(200), capture::SocketRole::kServer);
  EXPECT_EQ(s.start_time_unix_nano(), 1100u);
  EXPECT_EQ(s.end_time_unix_nano(), 1400u);
  EXPECT_EQ(s.trace_id().size(), 16u);
  EXPECT_TRUE(s.parent_span_id().empty());
}

TEST(BuildHttpSpanTest, ClientUrlFullFromHostOrSocket) {
  Span with_host = Build(Request("GET", "/p?sig=s&q=1", "api.example:9000"), Response(200),
                         capture::SocketRole::kClient);
  EXPECT_EQ(Attr(with_host, "url.full"), "http://api.example:9000/p?sig=REDACTED&q=1");
  EXPECT_EQ(Attr(with_host, "server.address"), "api.example");
  EXPECT_EQ(Attr(with_host, "server.port"), "9000");

  // HTTP/1.0 without Host: the peer socket address.
  Span no_host = Build(Request("GET", "/x", ""), Response(200), capture::SocketRole::kClient);
  EXPECT_EQ(Attr(no_host, "url.full"), "http://10.0.0.2:5555/x");
  EXPECT_EQ(Attr(no_host, "server.address"), "10.0.0.2");
  EXPECT_EQ(Attr(no_host, "server.port"), "5555");

  // Absolute-form (proxy) request with credentials.
  Span proxy = Build(Request("GET", "http://user:pw@origin/a", "origin"), Response(200),
                     capture::SocketRole::kClient);
  EXPECT_EQ(Attr(proxy, "url.full"), "http://REDACTED:REDACTED@origin/a");
}

TEST(BuildHttpSpanTest, Ipv6HostHeader) {
  Span s = Build(Request("GET", "/", "[::1]:8443"), Response(200), capture::SocketRole::kServer);
  EXPECT_EQ(Attr(s, "server.address"), "::1");
  EXPECT_EQ(Attr(s, "server.port"), "8443");
}

TEST(BuildHttpSpanTest, ServerHostWithoutPortUsesLocalPort) {
  Span s = Build(Request("GET", "/a#frag", "h"), Response(200), capture::SocketRole::kServer);
  EXPECT_EQ(Attr(s, "server.address"), "h");
  EXPECT_EQ(Attr(s, "server.port"), "8080");
  EXPECT_EQ(Attr(s, "url.path"), "/a");
}

TEST(BuildHttpSpanTest, StatusRulesDependOnKind) {
  using opentelemetry::proto::trace::v1::Status;
  const HttpMessage req = Request("GET", "/", "h");
  EXPECT_EQ(Build(req, Response(404), capture::SocketRole::kServer).status().code(),
            Status::STATUS_CODE_UNSET);
  EXPECT_EQ(Build(req, Response(404), capture::SocketRole::kClient).status().code(),
            Status::STATUS_CODE_ERROR);
  EXPECT_EQ(Build(req, Response(503), capture::SocketRole::kServer).status().code(),
            Status::STATUS_CODE_ERROR);
  EXPECT_EQ(Build(req, Response(302), capture::SocketRole::kClient).status().code(),
            Status::STATUS_CODE_UNSET);
  // semconv: no status description for plain HTTP errors.
  EXPECT_EQ(Build(req, Response(503), capture::SocketRole::kServer).status().message(), "");
}

}  // namespace
}  // namespace tracer::http
