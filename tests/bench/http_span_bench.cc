// User space per HTTP span, without the kernel: socket data events of
// keep-alive exchanges on one accepted connection -> HttpFlowTracker (parse,
// pair, span) -> SpanBuilder::AddSpan -> batches of 512 (dropped). One
// iteration is one exchange (a request and its response, two data events);
// the time is per span. Two sinks:
//   BM_HttpSpan_Message: the span as a protobuf Span on the builder's
//     message arena, converted to a record by AddSpan (the message path);
//   BM_HttpSpan_Record: the span record straight to AddSpan (the path of
//     pipeline::TraceBuilder).
//
//   bazel run -c opt //tests/bench:http_span_bench -- --benchmark_repetitions=5
// The allocator keeps freed memory for reuse, as in tracectl run
// (common/memory_reuse.h).
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/capture/events.h"
#include "agent/protocols/http1/http_flow_tracker.h"
#include "agent/spans/span_builder.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "common/memory_reuse.h"

namespace tracer {
namespace {

constexpr uint32_t kTgid = 100;

// What wrk sends nginx and nginx answers (tests/bench/http_overhead.py).
constexpr std::string_view kRequest =
    "GET /index.html?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\n"
    "Accept: */*\r\n\r\n";
constexpr std::string_view kResponse =
    "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Fri, 04 Dec 2026 04:00:00 GMT\r\n"
    "Content-Type: text/html\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n"
    "hello world\n";

spans::SpanBuilderOptions BuilderOptions() {
  spans::SpanBuilderOptions o;
  o.read_proc = false;
  o.clock = common::ClockOffset::FromOffset(1000);
  return o;
}

// The message form: what every sink got before records.
class MessageSink : public http::HttpSpanSink {
 public:
  explicit MessageSink(spans::SpanBuilder* b) : builder_(b) {}
  google::protobuf::Arena* SpanArena() override { return builder_->span_arena(); }
  void OnHttpSpan(uint32_t tgid, opentelemetry::proto::trace::v1::Span* span) override {
    builder_->AddSpan(tgid, span);
  }

 private:
  spans::SpanBuilder* builder_;
};

class RecordSink : public MessageSink {
 public:
  explicit RecordSink(spans::SpanBuilder* b) : MessageSink(b), builder_(b) {}
  void OnHttpSpanRecord(uint32_t tgid, const otlp::wire::SpanRecord& span) override {
    builder_->AddSpan(tgid, span);
  }

 private:
  spans::SpanBuilder* builder_;
};

template <typename Sink>
void BM_HttpSpan(benchmark::State& state) {
  common::KeepFreedMemoryForReuse();
  spans::SpanBuilder builder(BuilderOptions(), nullptr);
  builder.AddRootProcess(kTgid, 1'000);
  Sink sink(&builder);
  http::HttpFlowOptions options;
  options.clock = common::ClockOffset::FromOffset(1000);
  options.id_seed = 1;
  http::HttpFlowTracker tracker(options, &sink);

  capture::SocketOpenEvent open;
  open.conn = {kTgid, 5, 1};
  open.tid = kTgid;
  open.role = capture::SocketRole::kServer;
  open.local.family = open.remote.family = capture::SocketAddress::Family::kIpv4;
  open.local.addr = {127, 0, 0, 1};
  open.local.port = 8080;
  open.remote.addr = {127, 0, 0, 1};
  open.remote.port = 40000;
  open.ts_ns = 2'000;
  tracker.OnSocketOpen(open);

  capture::SocketDataEvent in;
  in.conn = open.conn;
  in.tid = kTgid;
  in.direction = capture::Direction::kIngress;
  in.syscall_nr = 0;
  in.data = kRequest;
  in.length = kRequest.size();
  capture::SocketDataEvent out = in;
  out.direction = capture::Direction::kEgress;
  out.syscall_nr = 1;
  out.data = kResponse;
  out.length = kResponse.size();

  uint64_t now = 10'000;
  for (auto _ : state) {
    in.start_ns = now;
    in.end_ns = now + 500;
    tracker.OnSocketData(in);
    out.start_ns = now + 1'000;
    out.end_ns = now + 1'500;
    tracker.OnSocketData(out);
    now += 2'000;
  }
  builder.Finish(now);
  if (tracker.counters().spans != static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("not one span per exchange");
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_HttpSpan<MessageSink>)->Name("BM_HttpSpan_Message")->MinTime(1.0);
BENCHMARK(BM_HttpSpan<RecordSink>)->Name("BM_HttpSpan_Record")->MinTime(1.0);

}  // namespace
}  // namespace tracer

BENCHMARK_MAIN();
