// Fuzzes the socket-event -> HTTP span path: arbitrary sequences of opens,
// data (with capture gaps), closes and clock ticks on a few connections.
// Checks that nothing crashes, state stays bounded and every span is well
// formed.
//
// Input: a sequence of operations, each one op byte (value % 5) then:
//   0 open:   conn (& 3), role (& 1)
//   1 data:   conn, direction (& 1), tid (& 3), n, then n payload bytes;
//             length = n
//   2 close:  conn
//   3 tick:   seconds to advance the clock
//   4 gap:    conn, direction, tid, n, gap_hi, gap_lo, then n payload
//             bytes; length = n + (gap_hi << 8 | gap_lo) * 61
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "agent/capture/socket_events.h"
#include "agent/protocols/http1/http_flow_tracker.h"

namespace {

using tracer::capture::ConnectionId;
using tracer::capture::Direction;

class CheckingSink : public tracer::http::HttpSpanSink {
 public:
  google::protobuf::Arena* SpanArena() override { return &arena; }
  void OnHttpSpan(uint32_t tgid, opentelemetry::proto::trace::v1::Span* span) override {
    if (span->GetArena() != &arena) std::abort();
    if (span->trace_id().size() != 16 || span->span_id().size() != 8) std::abort();
    if (span->start_time_unix_nano() > span->end_time_unix_nano()) std::abort();
    if (span->name().empty()) std::abort();
    ++spans;
  }
  google::protobuf::Arena arena;
  uint64_t spans = 0;
};

class Input {
 public:
  Input(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return i_ >= n_; }
  uint8_t Byte() { return i_ < n_ ? d_[i_++] : 0; }
  std::string Bytes(size_t n) {
    n = std::min(n, n_ - i_);
    std::string s(reinterpret_cast<const char*>(d_ + i_), n);
    i_ += n;
    return s;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

constexpr size_t kMaxConnections = 3;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tracer::http::HttpFlowOptions options;
  options.clock = tracer::common::ClockOffset::FromOffset(0);
  options.max_connections = kMaxConnections;
  options.max_pending_per_connection = 4;
  options.request_timeout_ns = 5'000'000'000;
  options.request_headers = {"authorization", "x-test"};
  options.response_headers = {"content-type"};
  options.id_seed = 1;
  options.parent_lookup = [](uint32_t, uint32_t tid,
                             uint64_t) -> std::optional<tracer::spans::TraceContext> {
    if (tid % 2 == 0) return std::nullopt;
    tracer::spans::TraceContext c;
    c.trace_id[0] = 1;
    c.parent_span_id[0] = 2;
    c.flags = 1;
    return c;
  };
  CheckingSink sink;
  tracer::http::HttpFlowTracker tracker(options, &sink);
  Input in(data, size);
  uint64_t now = 1'000'000;
  while (!in.empty()) {
    const uint8_t op = in.Byte() % 5;
    now += 1000;
    const uint64_t conn = in.Byte() & 3;
    ConnectionId id{7, static_cast<int32_t>(conn + 3), conn + 1};
    switch (op) {
      case 0: {
        tracer::capture::SocketOpenEvent e;
        e.conn = id;
        e.role = (in.Byte() & 1) ? tracer::capture::SocketRole::kServer
                                 : tracer::capture::SocketRole::kClient;
        e.ts_ns = now;
        tracker.OnSocketOpen(e);
        break;
      }
      case 1:
      case 4: {
        tracer::capture::SocketDataEvent e;
        e.conn = id;
        e.direction = (in.Byte() & 1) ? Direction::kIngress : Direction::kEgress;
        e.tid = in.Byte() & 3;
        const size_t n = in.Byte();
        uint64_t gap = 0;
        if (op == 4) {
          gap = (static_cast<uint64_t>(in.Byte()) << 8 | in.Byte()) * 61;
        }
        const std::string bytes = in.Bytes(n);
        e.data = bytes;
        e.length = bytes.size() + gap;
        e.start_ns = now;
        e.end_ns = now + 10;
        tracker.OnSocketData(e);
        break;
      }
      case 2: {
        tracer::capture::SocketCloseEvent e;
        e.conn = id;
        e.ts_ns = now;
        tracker.OnSocketClose(e);
        break;
      }
      case 3:
        now += uint64_t{conn + 1} * 3'000'000'000;
        tracker.Tick(now);
        break;
    }
    if (tracker.tracked_connections() > kMaxConnections) std::abort();
  }
  tracker.Finish(now + 1);
  if (tracker.tracked_connections() != 0) std::abort();
  if (tracker.counters().spans != sink.spans) std::abort();
  return 0;
}
