#include "agent/protocols/http1/http_flow_tracker.h"

#include <string>

#include "agent/protocols/http1/testing/flow_testing.h"
#include "agent/spans/trace_context.h"
#include "gtest/gtest.h"

namespace tracer::http {
namespace {

using capture::SocketRole;
using opentelemetry::proto::trace::v1::Span;
using opentelemetry::proto::trace::v1::Status;
using testing::Attr;
using testing::CollectingSink;
using testing::ScriptedConnection;

constexpr uint64_t kSecond = 1'000'000'000;

std::string Hex(const std::string& bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

// The process span of every traced process in these tests.
constexpr char kProcessTrace[] = "0af7651916cd43dd8448eb211c80319c";
constexpr char kProcessSpan[] = "b7ad6b7169203331";

class HttpFlowTrackerTest : public ::testing::Test {
 protected:
  HttpFlowTracker& Tracker() {
    if (tracker_ == nullptr) {
      options_.clock = common::ClockOffset::FromOffset(0);
      options_.id_seed = 42;
      options_.parent_lookup = [this](uint32_t tgid, uint32_t tid,
                                      uint64_t ts) -> std::optional<spans::TraceContext> {
        ++lookups_;
        if (tgid != 100) return std::nullopt;
        auto ctx = spans::ParseTraceparent(std::string("00-") + kProcessTrace + "-" + kProcessSpan +
                                           "-01");
        return *ctx;
      };
      tracker_ = std::make_unique<HttpFlowTracker>(options_, &sink_);
    }
    return *tracker_;
  }
  const Span& SpanAt(size_t i) { return sink_.spans.at(i).span; }

  HttpFlowOptions options_;
  CollectingSink sink_;
  std::unique_ptr<HttpFlowTracker> tracker_;
  int lookups_ = 0;
};

TEST_F(HttpFlowTrackerTest, SimpleGetServerSpan) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In(
      "GET /index.html?x=1&sig=secret HTTP/1.1\r\nHost: example.com:8080\r\n"
      "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n");
  const uint64_t request_start = c.last_start_ns;
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n");
  c.Out("hello");
  const uint64_t response_end = c.last_end_ns;
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(sink_.spans[0].tgid, 100u);
  const Span& s = SpanAt(0);
  EXPECT_EQ(s.name(), "GET");
  EXPECT_EQ(s.kind(), Span::SPAN_KIND_SERVER);
  EXPECT_EQ(s.start_time_unix_nano(), request_start);
  EXPECT_EQ(s.end_time_unix_nano(), response_end);
  EXPECT_EQ(Attr(s, "http.request.method"), "GET");
  EXPECT_EQ(Attr(s, "url.path"), "/index.html");
  EXPECT_EQ(Attr(s, "url.query"), "x=1&sig=REDACTED");
  EXPECT_EQ(Attr(s, "url.scheme"), "http");
  EXPECT_EQ(Attr(s, "url.full"), std::nullopt);  // client spans only
  EXPECT_EQ(Attr(s, "http.response.status_code"), "200");
  EXPECT_EQ(Attr(s, "network.protocol.version"), "1.1");
  EXPECT_EQ(Attr(s, "server.address"), "example.com");
  EXPECT_EQ(Attr(s, "server.port"), "8080");
  EXPECT_EQ(Attr(s, "client.address"), "127.0.0.1");
  EXPECT_EQ(Attr(s, "client.port"), "40000");
  EXPECT_EQ(Attr(s, "network.peer.address"), "127.0.0.1");
  EXPECT_EQ(Attr(s, "network.peer.port"), "40000");
  EXPECT_EQ(Attr(s, "user_agent.original"), "curl/7.88.1");
  EXPECT_EQ(Attr(s, "http.request.body.size"), "0");
  EXPECT_EQ(Attr(s, "http.response.body.size"), "5");
  EXPECT_EQ(Attr(s, "thread.id"), "101");
  EXPECT_EQ(Attr(s, "tracer.http.anomaly"), std::nullopt);
  EXPECT_EQ(Attr(s, "error.type"), std::nullopt);
  EXPECT_EQ(s.status().code(), Status::STATUS_CODE_UNSET);
  // No traceparent: the process span (lookup) is the parent.
  EXPECT_EQ(Hex(s.trace_id()), kProcessTrace);
  EXPECT_EQ(Hex(s.parent_span_id()), kProcessSpan);
  EXPECT_EQ(s.span_id().size(), 8u);
  const auto n = Tracker().counters();
  EXPECT_EQ(n.requests, 1u);
  EXPECT_EQ(n.responses, 1u);
  EXPECT_EQ(n.spans, 1u);
  EXPECT_EQ(n.parse_errors, 0u);
}

TEST_F(HttpFlowTrackerTest, KeepAliveThreeRequests) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  for (const char* path : {"/a", "/b", "/c"}) {
    c.In(std::string("GET ") + path + " HTTP/1.1\r\nHost: h\r\n\r\n");
    c.Out("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  }
  c.Close();
  ASSERT_EQ(sink_.spans.size(), 3u);
  EXPECT_EQ(Attr(SpanAt(0), "url.path"), "/a");
  EXPECT_EQ(Attr(SpanAt(1), "url.path"), "/b");
  EXPECT_EQ(Attr(SpanAt(2), "url.path"), "/c");
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(Attr(SpanAt(i), "tracer.http.anomaly"), std::nullopt);
    EXPECT_NE(SpanAt(i).span_id(), SpanAt((i + 1) % 3).span_id());
  }
}

TEST_F(HttpFlowTrackerTest, PipelinedRequestsPairInOrder) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kClient);
  c.Open();
  c.Out(
      "GET /first HTTP/1.1\r\nHost: svc:8080\r\n\r\nGET /second HTTP/1.1\r\nHost: "
      "svc:8080\r\n\r\n");
  c.In(
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\noneHTTP/1.1 404 Not Found\r\nContent-Length: "
      "0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 2u);
  EXPECT_EQ(SpanAt(0).kind(), Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(Attr(SpanAt(0), "url.full"), "http://svc:8080/first");
  EXPECT_EQ(Attr(SpanAt(0), "http.response.status_code"), "200");
  EXPECT_EQ(Attr(SpanAt(1), "url.full"), "http://svc:8080/second");
  EXPECT_EQ(Attr(SpanAt(1), "http.response.status_code"), "404");
  // 4xx is an error for clients (semconv), with error.type the code.
  EXPECT_EQ(SpanAt(0).status().code(), Status::STATUS_CODE_UNSET);
  EXPECT_EQ(SpanAt(1).status().code(), Status::STATUS_CODE_ERROR);
  EXPECT_EQ(Attr(SpanAt(1), "error.type"), "404");
  EXPECT_EQ(Attr(SpanAt(1), "server.address"), "svc");
  EXPECT_EQ(Attr(SpanAt(1), "server.port"), "8080");
  EXPECT_EQ(Attr(SpanAt(1), "client.address"), std::nullopt);
}

TEST_F(HttpFlowTrackerTest, ChunkedResponse) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kClient);
  c.Open();
  c.Out("GET /stream HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
  c.In("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  c.In("7\r\nchunk-1\r\n");
  c.In("a\r\nchunk-two!\r\n");
  EXPECT_TRUE(sink_.spans.empty());
  c.In("0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(Attr(SpanAt(0), "http.response.body.size"), "17");
  EXPECT_EQ(SpanAt(0).end_time_unix_nano(), c.last_end_ns);
}

TEST_F(HttpFlowTrackerTest, RequestSplitByteByByte) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  const std::string req = "POST /api/items HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd";
  uint64_t first = 0;
  for (char ch : req) {
    c.In(std::string(1, ch));
    if (first == 0) first = c.last_start_ns;
  }
  c.Out("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(SpanAt(0).name(), "POST");
  EXPECT_EQ(Attr(SpanAt(0), "url.path"), "/api/items");
  EXPECT_EQ(Attr(SpanAt(0), "http.request.body.size"), "4");
  EXPECT_EQ(Attr(SpanAt(0), "http.response.status_code"), "201");
  EXPECT_EQ(SpanAt(0).start_time_unix_nano(), first);
}

TEST_F(HttpFlowTrackerTest, BodiesBeyondTheCaptureLimit) {
  constexpr size_t kLimit = 4096;
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  const std::string upload(1 << 20, 'u');
  c.In("PUT /blob HTTP/1.1\r\nHost: h\r\nContent-Length: 1048576\r\n\r\n" + upload.substr(0, 1000),
       kLimit);
  c.In(upload.substr(1000), kLimit);
  const std::string big(10 << 20, 'd');
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n", kLimit);
  // Body written in 64 KiB writes, each copied only up to the limit.
  for (size_t off = 0; off < big.size(); off += 65536) c.Out(big.substr(off, 65536), kLimit);
  // The connection stays in step: the next exchange parses normally.
  c.In("GET /after HTTP/1.1\r\nHost: h\r\n\r\n", kLimit);
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!", kLimit);
  ASSERT_EQ(sink_.spans.size(), 2u);
  EXPECT_EQ(Attr(SpanAt(0), "http.request.body.size"), "1048576");
  EXPECT_EQ(Attr(SpanAt(0), "http.response.body.size"), "10485760");
  EXPECT_EQ(Attr(SpanAt(1), "url.path"), "/after");
  EXPECT_EQ(Attr(SpanAt(1), "http.response.body.size"), "1");
  const auto n = Tracker().counters();
  EXPECT_EQ(n.parse_errors, 0u);
  EXPECT_GT(n.gaps, 100u);
  // The second upload read and every 64 KiB write lost all but kLimit bytes.
  EXPECT_EQ(n.gap_bytes, (upload.size() - 1000 - kLimit) + (big.size() / 65536) * (65536 - kLimit));
}

TEST_F(HttpFlowTrackerTest, BodiesWithoutBytesHeadNoContentNotModified) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kClient);
  c.Open();
  c.Out("HEAD /file HTTP/1.1\r\nHost: h\r\n\r\n");
  c.In("HTTP/1.1 200 OK\r\nContent-Length: 123456\r\n\r\n");
  c.Out("DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n");
  c.In("HTTP/1.1 204 No Content\r\n\r\n");
  c.Out("GET /cached HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"abc\"\r\n\r\n");
  c.In("HTTP/1.1 304 Not Modified\r\nContent-Length: 999\r\nETag: \"abc\"\r\n\r\n");
  c.Out("GET /last HTTP/1.1\r\nHost: h\r\n\r\n");
  c.In("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  ASSERT_EQ(sink_.spans.size(), 4u);
  EXPECT_EQ(SpanAt(0).name(), "HEAD");
  EXPECT_EQ(Attr(SpanAt(0), "http.response.body.size"), "0");
  EXPECT_EQ(Attr(SpanAt(1), "http.response.status_code"), "204");
  EXPECT_EQ(Attr(SpanAt(2), "http.response.status_code"), "304");
  EXPECT_EQ(Attr(SpanAt(3), "url.full"), "http://h/last");
  EXPECT_EQ(Attr(SpanAt(3), "http.response.body.size"), "2");
  EXPECT_EQ(Tracker().counters().parse_errors, 0u);
}

TEST_F(HttpFlowTrackerTest, ExpectContinue) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\nExpect: 100-continue\r\n\r\n");
  c.Out("HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_TRUE(sink_.spans.empty());
  c.In("abcdef");
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(Attr(SpanAt(0), "http.response.status_code"), "200");
  EXPECT_EQ(Attr(SpanAt(0), "http.request.body.size"), "6");
  EXPECT_EQ(Tracker().counters().informational_responses, 1u);
}

TEST_F(HttpFlowTrackerTest, ResponseWithoutRequest) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.Out("HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 1u);
  const Span& s = SpanAt(0);
  EXPECT_EQ(s.name(), "HTTP");
  EXPECT_EQ(Attr(s, "tracer.http.anomaly"), "response_without_request");
  EXPECT_EQ(Attr(s, "http.response.status_code"), "408");
  EXPECT_EQ(Attr(s, "http.request.method"), std::nullopt);
  EXPECT_EQ(s.status().code(), Status::STATUS_CODE_ERROR);
  EXPECT_EQ(s.status().message(), "response without request");
  EXPECT_EQ(Tracker().counters().unmatched_responses, 1u);
}

TEST_F(HttpFlowTrackerTest, TimeoutThenLateResponseKeepsPairing) {
  options_.request_timeout_ns = 30 * kSecond;
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In("GET /slow HTTP/1.1\r\nHost: h\r\n\r\n");
  const uint64_t start = c.last_start_ns;
  Tracker().Tick(start + 29 * kSecond);
  EXPECT_TRUE(sink_.spans.empty());
  Tracker().Tick(start + 31 * kSecond);
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(Attr(SpanAt(0), "tracer.http.anomaly"), "timeout");
  EXPECT_EQ(Attr(SpanAt(0), "error.type"), "timeout");
  EXPECT_EQ(SpanAt(0).status().code(), Status::STATUS_CODE_ERROR);
  EXPECT_EQ(SpanAt(0).status().message(), "timeout");
  EXPECT_EQ(SpanAt(0).end_time_unix_nano(), start + 31 * kSecond);
  // The late response answers /slow (responses come in request order), so
  // it must not be paired with the next request.
  c.now_ns = start + 40 * kSecond;
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  c.In("GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
  c.Out("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 2u);
  EXPECT_EQ(Attr(SpanAt(1), "url.path"), "/next");
  EXPECT_EQ(Attr(SpanAt(1), "http.response.status_code"), "202");
  EXPECT_EQ(Tracker().counters().timeouts, 1u);
  EXPECT_EQ(Tracker().counters().late_responses, 1u);
}

TEST_F(HttpFlowTrackerTest, CloseMidResponse) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In("GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\npartial");
  const uint64_t last_byte = c.last_end_ns;
  c.Close();
  ASSERT_EQ(sink_.spans.size(), 1u);
  const Span& s = SpanAt(0);
  EXPECT_EQ(Attr(s, "tracer.http.anomaly"), "connection_closed");
  EXPECT_EQ(Attr(s, "http.response.status_code"), "200");
  EXPECT_EQ(Attr(s, "http.response.body.size"), std::nullopt);  // unknown
  EXPECT_EQ(s.status().code(), Status::STATUS_CODE_ERROR);
  EXPECT_EQ(s.status().message(), "connection closed mid-response");
  EXPECT_EQ(s.end_time_unix_nano(), last_byte);
  EXPECT_EQ(Tracker().tracked_connections(), 0u);
}

TEST_F(HttpFlowTrackerTest, CloseBeforeResponse) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kClient);
  c.Open();
  c.Out("GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  c.In("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  c.Close();
  ASSERT_EQ(sink_.spans.size(), 2u);
  EXPECT_EQ(Attr(SpanAt(0), "url.full"), "http://h/a");
  EXPECT_EQ(Attr(SpanAt(0), "tracer.http.anomaly"), std::nullopt);
  EXPECT_EQ(Attr(SpanAt(1), "url.full"), "http://h/b");
  EXPECT_EQ(Attr(SpanAt(1), "tracer.http.anomaly"), "connection_closed");
  EXPECT_EQ(SpanAt(1).status().message(), "connection closed before the response");
}

TEST_F(HttpFlowTrackerTest, NonHttpConnectionsAreIgnored) {
  ScriptedConnection tls(&Tracker(), 1, SocketRole::kClient);
  tls.Open();
  tls.Out(std::string("\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03", 11) + std::string(190, 'r'));
  tls.In("GET / HTTP/1.1\r\n\r\n");  // never parsed: the connection is not HTTP
  ScriptedConnection redis(&Tracker(), 2, SocketRole::kClient);
  redis.Open();
  redis.Out("*1\r\n$4\r\nPING\r\n");
  redis.In("+PONG\r\n");
  redis.Out("GET / HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(sink_.spans.empty());
  const auto n = Tracker().counters();
  EXPECT_EQ(n.non_http_connections, 2u);
  EXPECT_EQ(n.requests, 0u);
  EXPECT_EQ(n.parse_errors, 0u);
}

TEST_F(HttpFlowTrackerTest, ValidTraceparentMakesServerSpanAChild) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In(
      "GET / HTTP/1.1\r\nHost: h\r\n"
      "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n"
      "tracestate: congo=t61rcWkgMzE, rojo=00f067aa0ba902b7\r\n\r\n");
  c.Out("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 1u);
  const Span& s = SpanAt(0);
  EXPECT_EQ(Hex(s.trace_id()), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(Hex(s.parent_span_id()), "00f067aa0ba902b7");
  EXPECT_EQ(s.trace_state(), "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
  EXPECT_EQ(s.flags() & 0xff, 1u);
  EXPECT_NE(Hex(s.span_id()), "00f067aa0ba902b7");
  // 5xx is an error on servers.
  EXPECT_EQ(s.status().code(), Status::STATUS_CODE_ERROR);
  EXPECT_EQ(Attr(s, "error.type"), "500");
  EXPECT_EQ(Tracker().counters().invalid_traceparent, 0u);
}

TEST_F(HttpFlowTrackerTest, InvalidTracestateIsDroppedTraceparentKept) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In(
      "GET / HTTP/1.1\r\nHost: h\r\n"
      "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00\r\n"
      "tracestate: Not A Valid=Member\r\n\r\n");
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(Hex(SpanAt(0).trace_id()), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(SpanAt(0).trace_state(), "");
  EXPECT_EQ(SpanAt(0).flags() & 0xff, 0u);  // not sampled upstream: kept as is
  EXPECT_EQ(Tracker().counters().invalid_tracestate, 1u);
  EXPECT_EQ(Tracker().counters().invalid_traceparent, 0u);
}

TEST_F(HttpFlowTrackerTest, InvalidTraceparentsAreIgnoredAndCounted) {
  const char* bad[] = {
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent
      "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",   // short trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
  };
  uint64_t id = 1;
  for (const char* tp : bad) {
    ScriptedConnection c(&Tracker(), id++, SocketRole::kServer);
    c.Open();
    c.In(std::string("GET / HTTP/1.1\r\nHost: h\r\ntraceparent: ") + tp + "\r\n\r\n");
    c.Out("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  }
  ASSERT_EQ(sink_.spans.size(), 5u);
  for (const auto& e : sink_.spans) {
    EXPECT_EQ(Hex(e.span.trace_id()), kProcessTrace);
    EXPECT_EQ(Hex(e.span.parent_span_id()), kProcessSpan);
    EXPECT_EQ(e.span.status().code(), Status::STATUS_CODE_UNSET);  // 404 on a server
  }
  EXPECT_EQ(Tracker().counters().invalid_traceparent, 5u);
}

TEST_F(HttpFlowTrackerTest, ClientRequestInsideServerRequestIsItsChild) {
  constexpr uint32_t kWorker = 7;
  ScriptedConnection in(&Tracker(), 1, SocketRole::kServer, 100, kWorker);
  ScriptedConnection out(&Tracker(), 2, SocketRole::kClient, 100, kWorker);
  ScriptedConnection other(&Tracker(), 3, SocketRole::kClient, 100, 8);
  in.Open();
  out.Open();
  other.Open();
  in.In(
      "GET /front HTTP/1.1\r\nHost: h\r\n"
      "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n\r\n");
  out.Out("GET /backend HTTP/1.1\r\nHost: b\r\n\r\n");
  other.Out("GET /unrelated HTTP/1.1\r\nHost: b\r\n\r\n");  // another thread
  out.In("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  other.In("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  in.Out("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  // After the response is written the thread no longer serves /front.
  out.Out("GET /later HTTP/1.1\r\nHost: b\r\n\r\n");
  out.In("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 4u);
  const Span& backend = SpanAt(0);
  const Span& unrelated = SpanAt(1);
  const Span& front = SpanAt(2);
  const Span& later = SpanAt(3);
  EXPECT_EQ(Attr(front, "url.path"), "/front");
  EXPECT_EQ(Attr(backend, "url.full"), "http://b/backend");
  EXPECT_EQ(backend.trace_id(), front.trace_id());
  EXPECT_EQ(backend.parent_span_id(), front.span_id());
  EXPECT_EQ(Hex(unrelated.trace_id()), kProcessTrace);
  EXPECT_EQ(Hex(unrelated.parent_span_id()), kProcessSpan);
  EXPECT_EQ(Hex(later.parent_span_id()), kProcessSpan);
  EXPECT_EQ(Tracker().counters().client_spans_in_server, 1u);
}

TEST_F(HttpFlowTrackerTest, NoLookupMeansNewRootTraces) {
  options_.clock = common::ClockOffset::FromOffset(0);
  HttpFlowTracker t(options_, &sink_);  // options_.parent_lookup is empty
  ScriptedConnection c(&t, 1, SocketRole::kServer);
  c.Open();
  c.In("GET / HTTP/1.1\r\n\r\n");
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(SpanAt(0).trace_id().size(), 16u);
  EXPECT_NE(Hex(SpanAt(0).trace_id()), kProcessTrace);
  EXPECT_TRUE(SpanAt(0).parent_span_id().empty());
}

std::string AllAttributeText(const Span& s) {
  std::string all;
  for (const auto& kv : s.attributes()) all += kv.key() + "=" + kv.value().DebugString() + "\n";
  return all;
}

constexpr char kSecretRequest[] =
    "GET /me HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer s3cr3t-token\r\n"
    "Cookie: session=s3cr3t-cookie\r\nAccept-Language: en\r\n\r\n";
constexpr char kSecretResponse[] =
    "HTTP/1.1 200 OK\r\nSet-Cookie: id=s3cr3t-set\r\nContent-Length: 0\r\n\r\n";

TEST_F(HttpFlowTrackerTest, SensitiveHeadersOmittedByDefault) {
  options_.request_headers = {"Authorization", "Cookie", "Accept-Language"};
  options_.response_headers = {"Set-Cookie"};
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In(kSecretRequest);
  c.Out(kSecretResponse);
  ASSERT_EQ(sink_.spans.size(), 1u);
  const Span& s = SpanAt(0);
  EXPECT_EQ(Attr(s, "http.request.header.accept-language"), "en");
  EXPECT_EQ(Attr(s, "http.request.header.authorization"), std::nullopt);
  EXPECT_EQ(Attr(s, "http.request.header.cookie"), std::nullopt);
  EXPECT_EQ(Attr(s, "http.response.header.set-cookie"), std::nullopt);
  EXPECT_EQ(AllAttributeText(s).find("s3cr3t"), std::string::npos);
}

TEST_F(HttpFlowTrackerTest, SensitiveHeadersMaskedWhenRedactionIsRelaxed) {
  options_.request_headers = {"authorization", "cookie"};
  options_.response_headers = {"set-cookie"};
  options_.sensitive_headers = SensitiveHeaderPolicy::kMask;
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In(kSecretRequest);
  c.Out(kSecretResponse);
  ASSERT_EQ(sink_.spans.size(), 1u);
  const Span& s = SpanAt(0);
  EXPECT_EQ(Attr(s, "http.request.header.authorization"), "REDACTED");
  EXPECT_EQ(Attr(s, "http.request.header.cookie"), "REDACTED");
  EXPECT_EQ(Attr(s, "http.response.header.set-cookie"), "REDACTED");
  EXPECT_EQ(AllAttributeText(s).find("s3cr3t"), std::string::npos);
}

TEST_F(HttpFlowTrackerTest, SensitiveHeadersRevealedOnlyOnExplicitOptIn) {
  options_.request_headers = {"authorization"};
  options_.sensitive_headers = SensitiveHeaderPolicy::kReveal;
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In(kSecretRequest);
  c.Out(kSecretResponse);
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(Attr(SpanAt(0), "http.request.header.authorization"), "Bearer s3cr3t-token");
}

TEST_F(HttpFlowTrackerTest, NonStandardMethodIsOther) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In("PROPFIND /dav HTTP/1.1\r\nHost: h\r\nDepth: 1\r\n\r\n");
  c.Out("HTTP/1.1 207 Multi-Status\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(SpanAt(0).name(), "HTTP");
  EXPECT_EQ(Attr(SpanAt(0), "http.request.method"), "_OTHER");
  EXPECT_EQ(Attr(SpanAt(0), "http.request.method_original"), "PROPFIND");
}

TEST_F(HttpFlowTrackerTest, ConnectionWithoutOpenEventInfersRole) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  // No Open(): the request arrives on an ingress stream, so this is a server.
  c.In("GET /late HTTP/1.0\r\n\r\n");
  c.Out("HTTP/1.0 200 OK\r\n\r\nbody until close");
  c.Close();
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(SpanAt(0).kind(), Span::SPAN_KIND_SERVER);
  EXPECT_EQ(Attr(SpanAt(0), "network.protocol.version"), "1.0");
  EXPECT_EQ(Attr(SpanAt(0), "http.response.body.size"), "16");
  EXPECT_EQ(Attr(SpanAt(0), "tracer.http.anomaly"), std::nullopt);
  EXPECT_EQ(Tracker().counters().connections_without_open, 1u);
}

TEST_F(HttpFlowTrackerTest, HeadersCutByCaptureLimitKeepPairing) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In("GET /huge-cookie HTTP/1.1\r\nHost: h\r\nX-Pad: " + std::string(6000, 'p') + "\r\n\r\n",
       4096);
  c.Out("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n");
  c.In("GET /ok HTTP/1.1\r\nHost: h\r\n\r\n");
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 2u);
  EXPECT_EQ(Attr(SpanAt(0), "url.path"), "/huge-cookie");
  EXPECT_EQ(Attr(SpanAt(0), "http.response.status_code"), "431");
  EXPECT_EQ(Attr(SpanAt(0), "tracer.http.anomaly"), "request_incomplete");
  EXPECT_EQ(Attr(SpanAt(1), "url.path"), "/ok");
  EXPECT_EQ(Attr(SpanAt(1), "http.response.status_code"), "200");
}

TEST_F(HttpFlowTrackerTest, RequestLostInGapIsMarkedNotMisPaired) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  // One read holds the end of a body and a whole second request; only the
  // first bytes were copied.
  c.In("POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'b') +
           "GET /lost HTTP/1.1\r\nHost: h\r\n\r\n",
       4096);
  c.Out("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  c.Out("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  c.In("GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 3u);
  EXPECT_EQ(Attr(SpanAt(0), "url.path"), "/a");
  EXPECT_EQ(Attr(SpanAt(0), "http.response.status_code"), "201");
  EXPECT_EQ(Attr(SpanAt(1), "tracer.http.anomaly"), "request_not_captured");
  EXPECT_EQ(Attr(SpanAt(1), "http.response.status_code"), "404");
  EXPECT_EQ(Attr(SpanAt(2), "url.path"), "/c");
  EXPECT_EQ(Attr(SpanAt(2), "http.response.status_code"), "200");
}

TEST_F(HttpFlowTrackerTest, TooManyPendingRequestsAreBounded) {
  options_.max_pending_per_connection = 4;
  ScriptedConnection c(&Tracker(), 1, SocketRole::kClient);
  c.Open();
  for (int i = 0; i < 6; ++i) c.Out("GET /p" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(Tracker().counters().pending_overflows, 2u);
  ASSERT_EQ(sink_.spans.size(), 2u);
  EXPECT_EQ(Attr(SpanAt(0), "url.full"), "http://h/p0");
  EXPECT_EQ(Attr(SpanAt(0), "tracer.http.anomaly"), "pending_overflow");
  // Six responses: the first two are absorbed by the given-up requests.
  for (int i = 0; i < 6; ++i)
    c.In("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + std::to_string(i));
  ASSERT_EQ(sink_.spans.size(), 6u);
  EXPECT_EQ(Attr(SpanAt(2), "url.full"), "http://h/p2");
  EXPECT_EQ(Attr(SpanAt(5), "url.full"), "http://h/p5");
}

TEST_F(HttpFlowTrackerTest, UpgradedConnectionIsIgnoredAfter101) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  c.Out("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  c.In(std::string("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));
  c.Out(std::string("\x81\x05hello", 7));
  c.Close();
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(Attr(SpanAt(0), "http.response.status_code"), "101");
  const auto n = Tracker().counters();
  EXPECT_EQ(n.upgraded_connections, 1u);
  EXPECT_EQ(n.parse_errors, 0u);
}

TEST_F(HttpFlowTrackerTest, DeclinedUpgradeContinuesParsing) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In("GET /a HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n");
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  c.In("GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  c.Out("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(sink_.spans.size(), 2u);
  EXPECT_EQ(Attr(SpanAt(1), "url.path"), "/b");
}

TEST_F(HttpFlowTrackerTest, ConnectionLimitAndIdleExpiry) {
  options_.max_connections = 2;
  options_.connection_idle_ns = 10 * kSecond;
  ScriptedConnection a(&Tracker(), 1, SocketRole::kServer);
  ScriptedConnection b(&Tracker(), 2, SocketRole::kServer);
  ScriptedConnection c(&Tracker(), 3, SocketRole::kServer);
  a.Open();
  b.Open();
  c.Open();
  EXPECT_EQ(Tracker().tracked_connections(), 2u);
  EXPECT_EQ(Tracker().counters().connections_not_tracked, 1u);
  Tracker().Tick(a.now_ns + 11 * kSecond);
  EXPECT_EQ(Tracker().tracked_connections(), 0u);
  EXPECT_EQ(Tracker().counters().connections_expired, 2u);
}

// The order seen under `tracectl run --http` (a threaded server on a
// machine up for hours): the open event ends one delivered batch, the
// periodic Tick() runs, the request starts the next batch. A connection that
// has just opened is not idle, so it keeps its role and addresses (it used
// to be expired as idle since boot and re-created from its data without
// them).
TEST_F(HttpFlowTrackerTest, TickBetweenOpenAndFirstBytesKeepsTheConnection) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.now_ns = 16'267 * kSecond;  // CLOCK_MONOTONIC well past connection_idle_ns
  c.Open();
  Tracker().Tick(c.now_ns + 200'000);
  EXPECT_EQ(Tracker().tracked_connections(), 1u);
  c.In("GET /hello.txt HTTP/1.0\r\nHost: 127.0.0.1:8080\r\n\r\n");
  c.Out("HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n");
  c.Close();
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(SpanAt(0).kind(), Span::SPAN_KIND_SERVER);
  EXPECT_EQ(Attr(SpanAt(0), "client.address"), "127.0.0.1");
  EXPECT_EQ(Attr(SpanAt(0), "client.port"), "40000");
  EXPECT_EQ(Attr(SpanAt(0), "network.peer.address"), "127.0.0.1");
  const auto n = Tracker().counters();
  EXPECT_EQ(n.connections_expired, 0u);
  EXPECT_EQ(n.connections_without_open, 0u);
  EXPECT_EQ(n.connections, 1u);
}

// An opened connection that stays silent is still forgotten once it has
// been idle, counted from its open, for connection_idle_ns.
TEST_F(HttpFlowTrackerTest, SilentOpenedConnectionExpiresFromItsOpen) {
  options_.connection_idle_ns = 10 * kSecond;
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.now_ns = 16'267 * kSecond;
  c.Open();
  Tracker().Tick(c.now_ns + 9 * kSecond);
  EXPECT_EQ(Tracker().tracked_connections(), 1u);
  Tracker().Tick(c.now_ns + 10 * kSecond);
  EXPECT_EQ(Tracker().tracked_connections(), 0u);
  EXPECT_EQ(Tracker().counters().connections_expired, 1u);
}

TEST_F(HttpFlowTrackerTest, FinishEndsPendingRequests) {
  ScriptedConnection c(&Tracker(), 1, SocketRole::kServer);
  c.Open();
  c.In("GET /pending HTTP/1.1\r\nHost: h\r\n\r\n");
  Tracker().Finish(c.now_ns + 5);
  ASSERT_EQ(sink_.spans.size(), 1u);
  EXPECT_EQ(Attr(SpanAt(0), "tracer.http.anomaly"), "connection_closed");
}

}  // namespace
}  // namespace tracer::http
