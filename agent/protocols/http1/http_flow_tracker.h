// HttpFlowTracker: socket events of traced processes (agent/capture/
// socket_events.h) -> one OpenTelemetry span per HTTP/1.x exchange.
//
// Pipeline per connection (see stitcher.h, parse.h):
//   SocketOpenEvent   -> role (accepted: SERVER spans, connected: CLIENT
//                        spans) and addresses
//   SocketDataEvent   -> protocol decided from the first bytes (non-HTTP
//                        connections are ignored and counted) -> the
//                        request stream and the response stream are parsed
//                        with libhttp-parser, gaps (bytes moved but not
//                        captured) accounted for -> responses paired with
//                        requests in order
//   SocketCloseEvent  -> messages in progress and pending requests end
//   Tick(now)         -> requests without a response after the timeout end
//                        with status ERROR "timeout"
// Spans follow the stable HTTP semantic conventions (span.h) and the
// trace-context rules of trace_linker.h, and go to an HttpSpanSink with the
// tgid of the process they belong to.
//
// Connections seen first through data (their open event was lost or came
// before tracing started) are tracked from there, their role taken from
// which direction carries requests; their addresses are unknown.
#ifndef TRACER_AGENT_PROTOCOLS_HTTP1_HTTP_FLOW_TRACKER_H_
#define TRACER_AGENT_PROTOCOLS_HTTP1_HTTP_FLOW_TRACKER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "agent/capture/events.h"
#include "agent/protocols/http1/flow_counters.h"
#include "agent/protocols/http1/parse.h"
#include "agent/protocols/http1/span.h"
#include "agent/protocols/http1/stitcher.h"
#include "agent/protocols/http1/trace_linker.h"
#include "common/clock.h"
#include "google/protobuf/arena.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "otlp/wire/span_record.h"

namespace tracer::http {

// Receives finished HTTP spans. Called synchronously on the thread that
// feeds the tracker. `tgid` is the traced process whose socket carried the
// exchange (the span's resource).
//
// The tracker calls OnHttpSpanRecord for every span. Its default turns the
// record into a protobuf Span (otlp/wire/to_message.h) and hands that to
// OnHttpSpan, so a sink may implement either form; a sink that collects
// records (a span batch) overrides OnHttpSpanRecord and skips the message.
class HttpSpanSink {
 public:
  virtual ~HttpSpanSink() = default;

  // `span` and every byte it views are valid for the call only (copy what
  // is kept, e.g. with spans::SpanBuilder::AddSpan).
  virtual void OnHttpSpanRecord(uint32_t tgid, const otlp::wire::SpanRecord& span);

  // The message form. Memory follows protobuf's AddAllocated convention:
  // the default OnHttpSpanRecord asks SpanArena() right before it builds the
  // message and creates it there (google::protobuf::Arena::CreateMessage).
  // OnHttpSpan comes next, before any other call into the sink. `span` is
  // then owned by that arena; when SpanArena() returned nullptr it is a heap
  // object the sink now owns (delete it or hand it on).
  virtual google::protobuf::Arena* SpanArena() { return nullptr; }
  virtual void OnHttpSpan(uint32_t tgid, opentelemetry::proto::trace::v1::Span* span) = 0;
};

struct HttpFlowOptions {
  // A request with no response begun after this long (CLOCK_MONOTONIC ns,
  // checked by Tick) gets its span with status ERROR "timeout".
  uint64_t request_timeout_ns = 30'000'000'000;
  // A message whose end was lost in a capture gap ends after this long
  // without bytes (ns).
  uint64_t held_message_idle_ns = 2'000'000'000;
  // A connection with nothing pending and no event (open, bytes) for this
  // long is forgotten (its close event may have been lost) (ns).
  uint64_t connection_idle_ns = 300'000'000'000;
  // Credential headers (DESIGN.md "Security"): omitted unless this is
  // changed; kMask exports allowlisted ones as "REDACTED".
  SensitiveHeaderPolicy sensitive_headers = SensitiveHeaderPolicy::kOmit;
  // Header names (any case) exported as http.request.header.<name> /
  // http.response.header.<name>. Empty by default.
  std::vector<std::string> request_headers;
  std::vector<std::string> response_headers;
  // Connections tracked at once; open events beyond are counted and
  // ignored. Must be >= 1.
  size_t max_connections = 16384;
  // Requests awaiting a response per connection; beyond, the oldest is
  // emitted with tracer.http.anomaly "pending_overflow" (and still absorbs
  // its response); past twice this many, the connection is abandoned
  // (counted). Must be >= 1.
  size_t max_pending_per_connection = 16;
  // CLOCK_MONOTONIC -> Unix ns for span timestamps.
  common::ClockOffset clock = common::ClockOffset::Measure();
  // Parent of spans without a better one (trace_linker.h). May be empty.
  ParentLookup parent_lookup;
  // Deterministic span and trace ids (tests); random when unset.
  std::optional<uint64_t> id_seed;
};

// Memory: bounded by the options. Per tracked connection at most
// 2 * max_pending_per_connection pending requests of at most ~25 KiB each
// (request-target <= 8 KiB, <= 16 kept headers of <= 1 KiB; bodies are
// never stored), two libhttp-parser states (32 bytes each), and, until its
// protocol is decided, at most 16 captured chunks.
//
// Thread-safety: none. One thread calls everything (the thread polling the
// EventSource, like SpanBuilder); the sink and the ParentLookup are called
// synchronously from it.
class HttpFlowTracker : public capture::EventSink, public ConnectionHost {
 public:
  // `sink` receives every span; not owned, must outlive the tracker.
  HttpFlowTracker(HttpFlowOptions options, HttpSpanSink* sink);
  ~HttpFlowTracker() override;
  HttpFlowTracker(const HttpFlowTracker&) = delete;
  HttpFlowTracker& operator=(const HttpFlowTracker&) = delete;

  // Syscall and process events are not used.
  void OnSyscall(const capture::SyscallEvent&) override {}
  void OnProcess(const capture::ProcessEvent&) override {}
  void OnSocketOpen(const capture::SocketOpenEvent& event) override;
  void OnSocketData(const capture::SocketDataEvent& event) override;
  void OnSocketClose(const capture::SocketCloseEvent& event) override;

  // Drives timeouts (CLOCK_MONOTONIC ns, the events' clock). Call it
  // periodically (e.g. every poll, or once a second); cost is linear in the
  // tracked connections.
  void Tick(uint64_t now_ns);

  // Ends every tracked connection as if closed at `now_ns` (shutdown):
  // pending requests are emitted as closed before their response.
  void Finish(uint64_t now_ns);

  // Counters so far (parser counts included).
  HttpFlowCounters counters() const;
  size_t tracked_connections() const { return connections_.size(); }

 private:
  Connection* Find(const capture::ConnectionId& id, bool create);

  // ConnectionHost (called by the tracker's connections only).
  SpanIds ServerIds(const ConnectionInfo& c, const HttpMessage& request, bool handling) override;
  SpanIds ClientIds(const ConnectionInfo& c, const HttpMessage& request) override;
  SpanIds OrphanIds(const ConnectionInfo& c, uint32_t tid, uint64_t ts_ns) override;
  void ServerDone(const ConnectionInfo& c, uint32_t tid, const SpanIds& ids) override;
  void Emit(const ConnectionInfo& c, const ExchangeView& x, const SpanIds& ids) override;

  const HttpFlowOptions options_;
  HttpSpanSink* const sink_;
  HttpSpanOptions span_options_;
  HttpSpanRecord record_;  // reused for every span
  absl::flat_hash_set<std::string> request_keep_;
  absl::flat_hash_set<std::string> response_keep_;
  TraceLinker linker_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Connection>> connections_;  // by ConnectionId::id
  HttpFlowCounters counters_;
  MessageParserStats parser_stats_;
};

}  // namespace tracer::http

#endif  // TRACER_AGENT_PROTOCOLS_HTTP1_HTTP_FLOW_TRACKER_H_
