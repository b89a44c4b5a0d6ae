// Builds the OTLP span of one HTTP exchange (a request and its response, or
// whichever half was seen) following the stable HTTP semantic conventions
// (semconv v1.23+, trace/http/http-spans.md): span name, kind, attributes
// and status. Sensitive headers and query values are redacted here.
#ifndef TRACER_AGENT_PROTOCOLS_HTTP1_SPAN_H_
#define TRACER_AGENT_PROTOCOLS_HTTP1_SPAN_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/capture/socket_events.h"
#include "agent/protocols/http1/types.h"
#include "agent/spans/trace_context.h"
#include "common/clock.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "otlp/wire/span_record.h"

namespace tracer::http {

// What to do with the headers that carry credentials (Authorization, Cookie,
// Set-Cookie, Proxy-Authorization; DESIGN.md "Security").
enum class SensitiveHeaderPolicy {
  kOmit,    // never captured, never exported (the default)
  kMask,    // exported, when allowlisted, with the value "REDACTED"
  kReveal,  // exported as sent, when allowlisted (explicit opt-in only)
};

// True for the credential-carrying header names above (lowercase input).
bool IsSensitiveHeader(std::string_view lowercase_name);

// Why a span is marked; exported as attribute tracer.http.anomaly (value in
// comments) so incomplete data is never mistaken for a normal exchange.
enum class Anomaly {
  kNone,
  kTimeout,                 // "timeout": no response within the timeout
  kClosedBeforeResponse,    // "connection_closed": closed with no response
  kClosedMidMessage,        // "connection_closed": closed inside a message
  kResponseWithoutRequest,  // "response_without_request"
  kRequestNotCaptured,      // "request_not_captured": request lost in a gap
  kRequestIncomplete,       // "request_incomplete": header section cut/invalid
  kResponseIncomplete,      // "response_incomplete": header section cut/invalid
  kPendingOverflow,         // "pending_overflow": too many requests pending
  kConnectionEvicted,       // "connection_evicted": tracker forgot the connection
};

// The attribute value for `a` ("" for kNone).
std::string_view AnomalyName(Anomaly a);

// Identity of the span to build.
struct SpanIds {
  spans::TraceId trace_id = {};
  spans::SpanId span_id = {};
  std::optional<spans::SpanId> parent_span_id;  // none: a root span
  uint32_t flags = spans::kTraceFlagSampled;    // W3C trace flags
  std::string trace_state;                      // W3C tracestate, or empty
};

// One exchange as seen on a connection. Pointers are borrowed for the call.
struct ExchangeView {
  capture::SocketRole role = capture::SocketRole::kServer;
  capture::SocketAddress local;
  capture::SocketAddress remote;
  const HttpMessage* request = nullptr;   // nullptr: no request seen
  const HttpMessage* response = nullptr;  // nullptr: no response seen
  std::optional<MessageEnd> request_end;  // how the request ended, if it did
  std::optional<MessageEnd> response_end;
  Anomaly anomaly = Anomaly::kNone;
  uint64_t end_ns = 0;  // CLOCK_MONOTONIC; used when no response ended
};

struct HttpSpanOptions {
  common::ClockOffset clock;  // monotonic -> Unix ns
  SensitiveHeaderPolicy sensitive_headers = SensitiveHeaderPolicy::kOmit;
  // Lowercase header names exported as http.request.header.<name> /
  // http.response.header.<name> (string arrays).
  std::vector<std::string> request_headers;
  std::vector<std::string> response_headers;
};

// The storage behind one HTTP span record: its attribute array and the
// strings and string arrays computed for it (redacted query and URL,
// addresses, header keys...). Reused from span to span, so that after the
// first few spans building one allocates nothing but what the redaction
// helpers return. The record also views bytes of the exchange's messages
// (method, path, header values): it is valid while both this object (until
// the next BuildHttpSpanRecord into it) and those messages are.
// Not thread-safe: one builder at a time.
class HttpSpanRecord {
 public:
  HttpSpanRecord() = default;
  HttpSpanRecord(const HttpSpanRecord&) = delete;
  HttpSpanRecord& operator=(const HttpSpanRecord&) = delete;

  // The record last built here.
  const otlp::wire::SpanRecord& record() const { return record_; }

 private:
  friend void BuildHttpSpanRecord(const ExchangeView& x, const SpanIds& ids,
                                  const HttpSpanOptions& options, HttpSpanRecord& out);
  void Reset();
  // A string that lives as long as the record (moved in).
  std::string_view Keep(std::string s);
  // An empty string array that lives as long as the record.
  std::vector<std::string_view>& NewArray();

  otlp::wire::SpanRecord record_;
  std::vector<otlp::wire::Attribute> attributes_;
  // Deques: their elements never move, so views into them stay valid.
  std::deque<std::string> strings_;
  size_t strings_used_ = 0;
  std::deque<std::vector<std::string_view>> arrays_;
  size_t arrays_used_ = 0;
};

// Fills `out` (reset first) with the span record of `x`:
//  - kind SERVER (role kServer) or CLIENT; name "{http.request.method}", or
//    "HTTP" when the method is unknown or "_OTHER" (no route is known, so no
//    "{method} {route}" form).
//  - start = request.start_ns (else response.start_ns), end =
//    response.end_ns (else x.end_ns), converted with options.clock.
//  - attributes: http.request.method (+ http.request.method_original for
//    "_OTHER"), url.scheme "http", url.path and url.query (SERVER, with the
//    values of AWSAccessKeyId, Signature, sig, X-Goog-Signature replaced by
//    "REDACTED"), url.full (CLIENT, "http://" + Host + target, same
//    redaction), server.address/server.port (Host header, else the socket),
//    client.address/client.port (SERVER), network.peer.address/port,
//    network.protocol.version ("1.0"/"1.1"), user_agent.original,
//    http.response.status_code, http.request.body.size /
//    http.response.body.size (bytes, when known), allowlisted headers,
//    thread.id (the thread that moved the request's first byte),
//    error.type and tracer.http.anomaly when set.
//  - status: ERROR for 5xx (SERVER) or 4xx/5xx (CLIENT) with error.type the
//    code; ERROR with a message for timeouts, closes before the end and
//    responses without request.
// Thread-safe for distinct `out`s.
void BuildHttpSpanRecord(const ExchangeView& x, const SpanIds& ids, const HttpSpanOptions& options,
                         HttpSpanRecord& out);

// The same span as a protobuf message: fills `span` (cleared first) with the
// message form (otlp/wire/to_message.h) of BuildHttpSpanRecord's record.
// Thread-safe (no shared state).
void BuildHttpSpan(const ExchangeView& x, const SpanIds& ids, const HttpSpanOptions& options,
                   opentelemetry::proto::trace::v1::Span& span);

// Replaces the values of sensitive query parameters (see above) in `query`
// (without the "?") by "REDACTED". Thread-safe.
std::string RedactQuery(std::string_view query);

}  // namespace tracer::http

#endif  // TRACER_AGENT_PROTOCOLS_HTTP1_SPAN_H_
