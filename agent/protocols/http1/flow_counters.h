// What the HTTP flow tracker saw, dropped or marked (never silently).
#ifndef TRACER_AGENT_PROTOCOLS_HTTP1_FLOW_COUNTERS_H_
#define TRACER_AGENT_PROTOCOLS_HTTP1_FLOW_COUNTERS_H_

#include <cstdint>

namespace tracer::http {

struct HttpFlowCounters {
  uint64_t connections = 0;               // connections tracked
  uint64_t connections_without_open = 0;  // first seen through data (open not seen)
  // Opens (and data of unknown connections) refused: max_connections reached.
  uint64_t connections_not_tracked = 0;
  uint64_t connections_expired = 0;      // forgotten after being idle with nothing pending
  uint64_t non_http_connections = 0;     // first bytes not HTTP/1.x: ignored
  uint64_t upgraded_connections = 0;     // switched protocols (101, CONNECT): ignored after
  uint64_t requests = 0;                 // request messages begun
  uint64_t responses = 0;                // final (non-1xx) responses ended
  uint64_t informational_responses = 0;  // 1xx responses other than 101
  uint64_t spans = 0;                    // spans emitted
  uint64_t unmatched_responses = 0;      // responses without request
  uint64_t requests_not_captured = 0;    // responses to requests lost in gaps
  uint64_t responses_not_captured = 0;   // requests whose response start was lost
  uint64_t timeouts = 0;                 // requests with no response within the timeout
  uint64_t late_responses = 0;           // responses after their request timed out
  uint64_t closed_mid_exchange = 0;      // closes with a request pending or a message cut
  uint64_t incomplete_messages = 0;      // messages ended by a gap, error or close
  uint64_t parse_errors = 0;             // chunks libhttp-parser rejected
  uint64_t gaps = 0;                     // chunks with bytes not captured
  uint64_t gap_bytes = 0;                // bytes not captured
  uint64_t resyncs = 0;                  // parsing restarted at a message start
  uint64_t invalid_traceparent = 0;      // traceparent headers ignored as invalid
  uint64_t invalid_tracestate = 0;       // tracestate headers dropped as invalid
  uint64_t client_spans_in_server = 0;   // CLIENT spans parented to a SERVER span by thread
  uint64_t pending_overflows = 0;        // requests given up: too many pending
  uint64_t connections_abandoned = 0;    // connections given up (markers overflowed)
};

}  // namespace tracer::http

#endif  // TRACER_AGENT_PROTOCOLS_HTTP1_FLOW_COUNTERS_H_
