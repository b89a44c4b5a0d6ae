// Replays socket-event streams recorded from real programs (a curl client,
// python3 -m http.server, nginx; see testdata/record_exchanges.py) and checks
// the spans against what curl itself reported for each request.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "agent/protocols/http1/http_flow_tracker.h"
#include "agent/protocols/http1/testing/flow_testing.h"
#include "gtest/gtest.h"

namespace tracer::http {
namespace {

using capture::Direction;
using capture::SocketRole;
using opentelemetry::proto::trace::v1::Span;
using testing::Attr;
using testing::CollectingSink;

constexpr char kDir[] = "agent/protocols/http1/testdata/recorded/";
constexpr uint32_t kTgid = 4242;

std::string Unhex(const std::string& hex) {
  std::string out;
  if (hex == "-") return out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Feeds one .stream file to `tracker`; returns the number of data events.
int Replay(const std::string& path, HttpFlowTracker& tracker) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::string line;
  int data_events = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream f(line);
    std::string kind;
    uint64_t conn = 0;
    f >> kind >> conn;
    capture::ConnectionId id{kTgid, static_cast<int32_t>(conn + 10), conn};
    if (kind == "open") {
      std::string role;
      int peer_port = 0, local_port = 0;
      f >> role >> peer_port >> local_port;
      capture::SocketOpenEvent e;
      e.conn = id;
      e.role = role == "server" ? SocketRole::kServer : SocketRole::kClient;
      e.remote = testing::Ipv4(127, 0, 0, 1, static_cast<uint16_t>(peer_port));
      e.local = testing::Ipv4(127, 0, 0, 1, static_cast<uint16_t>(local_port));
      tracker.OnSocketOpen(e);
    } else if (kind == "data") {
      std::string dir, hex;
      capture::SocketDataEvent e;
      f >> dir >> e.tid >> e.start_ns >> e.end_ns >> e.length >> hex;
      const std::string bytes = Unhex(hex);
      e.conn = id;
      e.direction = dir == "in" ? Direction::kIngress : Direction::kEgress;
      e.data = bytes;
      tracker.OnSocketData(e);
      ++data_events;
    } else if (kind == "close") {
      capture::SocketCloseEvent e;
      e.conn = id;
      f >> e.tid >> e.ts_ns;
      tracker.OnSocketClose(e);
    } else {
      ADD_FAILURE() << "bad line: " << line;
    }
  }
  return data_events;
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string PathOf(const Span& s) {
  if (auto p = Attr(s, "url.path")) return *p;
  const std::string full = Attr(s, "url.full").value_or("");
  const size_t scheme = full.find("://");
  const size_t slash = full.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "" : full.substr(slash);
}

// "<method> <path> <status> <body bytes>" for each span, in start order.
std::vector<std::string> Describe(std::vector<CollectingSink::Entry> spans) {
  std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) {
    return a.span.start_time_unix_nano() < b.span.start_time_unix_nano();
  });
  std::vector<std::string> out;
  for (const auto& e : spans) {
    out.push_back(Attr(e.span, "http.request.method").value_or("?") + " " + PathOf(e.span) + " " +
                  Attr(e.span, "http.response.status_code").value_or("?") + " " +
                  Attr(e.span, "http.response.body.size").value_or("?"));
  }
  return out;
}

class RecordedExchangesTest : public ::testing::TestWithParam<const char*> {};

TEST_P(RecordedExchangesTest, SpansMatchWhatCurlSaw) {
  const std::string name = GetParam();
  CollectingSink sink;
  HttpFlowOptions options;
  options.clock = common::ClockOffset::FromOffset(0);
  HttpFlowTracker tracker(options, &sink);
  const int data_events = Replay(kDir + name + ".stream", tracker);
  const std::vector<std::string> expected = ReadLines(kDir + name + ".expected");
  ASSERT_GT(data_events, 0);
  ASSERT_FALSE(expected.empty());
  tracker.Finish(~uint64_t{0} >> 1);

  EXPECT_EQ(Describe(sink.spans), expected);
  const bool server = name.find("server") != std::string::npos;
  for (const auto& e : sink.spans) {
    EXPECT_EQ(e.tgid, kTgid);
    EXPECT_EQ(e.span.kind(), server ? Span::SPAN_KIND_SERVER : Span::SPAN_KIND_CLIENT);
    EXPECT_EQ(Attr(e.span, "tracer.http.anomaly"), std::nullopt) << e.span.DebugString();
    EXPECT_EQ(Attr(e.span, "server.address"), "127.0.0.1");
    EXPECT_TRUE(Attr(e.span, "user_agent.original").value_or("").rfind("curl/", 0) == 0);
    EXPECT_LE(e.span.start_time_unix_nano(), e.span.end_time_unix_nano());
  }
  const HttpFlowCounters n = tracker.counters();
  EXPECT_EQ(n.requests, expected.size());
  EXPECT_EQ(n.responses, expected.size());
  EXPECT_EQ(n.parse_errors, 0u);
  EXPECT_EQ(n.non_http_connections, 0u);
  EXPECT_EQ(n.unmatched_responses + n.timeouts + n.closed_mid_exchange, 0u);
}

INSTANTIATE_TEST_SUITE_P(Recorded, RecordedExchangesTest,
                         ::testing::Values("python_http_server", "curl_to_python_client",
                                           "nginx_server"));

}  // namespace
}  // namespace tracer::http
