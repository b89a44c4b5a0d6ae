// Cost breakdown helper for tests/bench/http_overhead.py: attaches the
// capture layer with the socket tracker (agent/capture/event_source.h,
// CaptureOptions::sockets) to one running process (--pid) until SIGINT or
// SIGTERM, and either only consumes the events (--parse=false: the kernel
// programs plus ring-buffer decode) or also feeds them to the HTTP flow
// tracker (agent/protocols/http1/http_flow_tracker.h) and counts the SERVER spans it
// emits (--parse=true). Everything runs on one thread; nothing is encoded or
// written. tracectl run --http adds span building, OTLP JSON encoding and
// the write-ahead log on top of this.
//
// On exit it prints one line that the benchmark parses:
//   probe: N socket events, S SERVER spans, C CLIENT spans; K events lost
// where K is ring-buffer drops (both buffers) plus per-thread-storage misses.
//
// Syscall records: with --syscalls=false the syscall program's filter holds
// only one syscall number nginx never makes (acct), so the process is a
// target (the socket tracker requires it) but no syscall records are sent.
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>

#include <gflags/gflags.h>

#include "agent/capture/event_source.h"
#include "agent/protocols/http1/http_flow_tracker.h"

DEFINE_int32(pid, 0, "process to trace (all its threads)");
DEFINE_bool(parse, true, "feed socket events to the HTTP flow tracker");
DEFINE_bool(syscalls, false, "also record every syscall of the process");
DEFINE_uint32(capture_bytes, 4096, "socket payload bytes copied per data event");
DEFINE_int32(poll_ms, 2, "ring-buffer poll interval (ms)");

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + ts.tv_nsec;
}

class SpanCounter : public tracer::http::HttpSpanSink {
 public:
  void OnHttpSpan(uint32_t, opentelemetry::proto::trace::v1::Span* span) override {
    std::unique_ptr<opentelemetry::proto::trace::v1::Span> owned(span);  // on the heap
    if (span->kind() == opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER) ++server;
    if (span->kind() == opentelemetry::proto::trace::v1::Span::SPAN_KIND_CLIENT) ++client;
  }
  uint64_t server = 0;
  uint64_t client = 0;
};

// Counts events; forwards socket events to the tracker when there is one.
class Sink : public tracer::capture::EventSink {
 public:
  explicit Sink(tracer::http::HttpFlowTracker* tracker) : tracker_(tracker) {}
  void OnSyscall(const tracer::capture::SyscallEvent&) override { ++syscalls; }
  void OnProcess(const tracer::capture::ProcessEvent&) override {}
  void OnSocketOpen(const tracer::capture::SocketOpenEvent& e) override {
    ++socket_events;
    if (tracker_) tracker_->OnSocketOpen(e);
  }
  void OnSocketData(const tracer::capture::SocketDataEvent& e) override {
    ++socket_events;
    if (tracker_) tracker_->OnSocketData(e);
  }
  void OnSocketClose(const tracer::capture::SocketCloseEvent& e) override {
    ++socket_events;
    if (tracker_) tracker_->OnSocketClose(e);
  }
  uint64_t syscalls = 0;
  uint64_t socket_events = 0;

 private:
  tracer::http::HttpFlowTracker* tracker_;
};

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_pid <= 0) {
    std::fprintf(stderr, "usage: http_capture_probe --pid PID [--parse] [--syscalls]\n");
    return 2;
  }
  tracer::capture::CaptureOptions options;
  options.sockets = true;
  options.socket_capture_bytes = FLAGS_capture_bytes;
  if (!FLAGS_syscalls) options.syscalls = {SYS_acct};
  auto source_or = tracer::capture::OpenBpfEventSource(options);
  if (!source_or.ok()) {
    std::fprintf(stderr, "cannot start tracing: %s\n",
                 std::string(source_or.status().message()).c_str());
    return 1;
  }
  auto& source = **source_or;
  SpanCounter spans;
  std::unique_ptr<tracer::http::HttpFlowTracker> tracker;
  if (FLAGS_parse) {
    tracker =
        std::make_unique<tracer::http::HttpFlowTracker>(tracer::http::HttpFlowOptions{}, &spans);
  }
  Sink sink(tracker.get());
  if (auto st = source.AddTarget(FLAGS_pid); !st.ok()) {
    std::fprintf(stderr, "cannot trace %d: %s\n", FLAGS_pid, std::string(st.message()).c_str());
    return 1;
  }
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  uint64_t last_tick = MonotonicNs();
  while (!g_stop.load()) {
    auto n = source.Poll(sink, FLAGS_poll_ms);
    if (!n.ok()) {
      std::fprintf(stderr, "poll: %s\n", std::string(n.status().message()).c_str());
      return 1;
    }
    const uint64_t now = MonotonicNs();
    if (tracker && now - last_tick > 1'000'000'000u) {
      tracker->Tick(now);
      last_tick = now;
    }
  }
  while (true) {
    auto n = source.Poll(sink, 0);
    if (!n.ok() || *n == 0) break;
  }
  if (tracker) tracker->Finish(MonotonicNs());
  const auto c = source.Counters();
  uint64_t lost = c.sockets.ringbuf_drops + c.sockets.missed_calls + c.missed_syscalls;
  for (uint64_t d : c.ringbuf_drops_per_cpu) lost += d;
  std::fprintf(
      stderr,
      "probe: %llu socket events, %llu syscall events, %llu SERVER spans, %llu "
      "CLIENT spans; %llu events lost\n",
      static_cast<unsigned long long>(sink.socket_events),
      static_cast<unsigned long long>(sink.syscalls), static_cast<unsigned long long>(spans.server),
      static_cast<unsigned long long>(spans.client), static_cast<unsigned long long>(lost));
  if (tracker) {
    const auto h = tracker->counters();
    std::fprintf(stderr,
                 "probe: http requests %llu, responses %llu, spans %llu, gaps %llu, parse errors "
                 "%llu, non-http connections %llu\n",
                 static_cast<unsigned long long>(h.requests),
                 static_cast<unsigned long long>(h.responses),
                 static_cast<unsigned long long>(h.spans), static_cast<unsigned long long>(h.gaps),
                 static_cast<unsigned long long>(h.parse_errors),
                 static_cast<unsigned long long>(h.non_http_connections));
  }
  return 0;
}
