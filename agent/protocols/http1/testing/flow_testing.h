// Test helpers for agent/http: a sink that keeps spans, attribute lookup,
// and a scripted connection that turns byte strings into socket events the
// way the kernel side reports them (first bytes copied, lengths counted).
#ifndef TRACER_AGENT_PROTOCOLS_HTTP1_TESTING_FLOW_TESTING_H_
#define TRACER_AGENT_PROTOCOLS_HTTP1_TESTING_FLOW_TESTING_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/capture/socket_events.h"
#include "agent/protocols/http1/http_flow_tracker.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace tracer::http::testing {

// Keeps every span with its tgid.
class CollectingSink : public HttpSpanSink {
 public:
  struct Entry {
    uint32_t tgid;
    opentelemetry::proto::trace::v1::Span span;
  };
  void OnHttpSpan(uint32_t tgid, opentelemetry::proto::trace::v1::Span* span) override {
    std::unique_ptr<opentelemetry::proto::trace::v1::Span> owned(span);  // on the heap
    spans.push_back({tgid, std::move(*owned)});
  }
  std::vector<Entry> spans;
};

// The attribute `key` of `span` as text (ints in decimal, arrays joined
// with ","), or nullopt when absent.
std::optional<std::string> Attr(const opentelemetry::proto::trace::v1::Span& span,
                                std::string_view key);

// "127.0.0.1" : port.
capture::SocketAddress Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);

// Drives one connection of `tracker`. Timestamps advance by 1 µs per event
// (start) and the event lasts 500 ns, unless set through now_ns.
class ScriptedConnection {
 public:
  static constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();

  ScriptedConnection(HttpFlowTracker* tracker, uint64_t id, capture::SocketRole role,
                     uint32_t tgid = 100, uint32_t tid = 101);

  // Open event with local/remote addresses (server: local 127.0.0.1:8080,
  // remote 127.0.0.1:40000; client: the reverse).
  void Open();
  // One data event moving `bytes` in direction `d`; only the first
  // `capture_limit` bytes are copied. `tid` 0 means the default thread.
  void Data(capture::Direction d, std::string_view bytes, size_t capture_limit = kNoLimit,
            uint32_t tid = 0);
  // One data event of `length` bytes of which only `captured` were copied.
  void DataCounted(capture::Direction d, std::string_view captured, uint64_t length,
                   uint32_t tid = 0);
  // Bytes the process received / sent.
  void In(std::string_view bytes, size_t capture_limit = kNoLimit, uint32_t tid = 0) {
    Data(capture::Direction::kIngress, bytes, capture_limit, tid);
  }
  void Out(std::string_view bytes, size_t capture_limit = kNoLimit, uint32_t tid = 0) {
    Data(capture::Direction::kEgress, bytes, capture_limit, tid);
  }
  void Close();

  uint64_t now_ns = 1'000'000'000;
  uint64_t last_start_ns = 0;
  uint64_t last_end_ns = 0;

 private:
  HttpFlowTracker* tracker_;
  capture::ConnectionId id_;
  capture::SocketRole role_;
  uint32_t tid_;
};

}  // namespace tracer::http::testing

#endif  // TRACER_AGENT_PROTOCOLS_HTTP1_TESTING_FLOW_TESTING_H_
