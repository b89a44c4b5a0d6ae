// Decides where an HTTP span sits in a trace (DESIGN.md "Trace context"):
//  - a SERVER span whose request carries a valid W3C `traceparent` (W3C
//    Trace Context Level 1 §3.2; `tracestate` §3.3) is a child of that
//    remote span, with its trace id, flags and tracestate;
//  - a CLIENT span whose request was written by a thread that is handling a
//    SERVER request of the same process (between reading that request and
//    writing its response) is a child of that SERVER span;
//  - otherwise the integrator's ParentLookup (e.g. the process span of the
//    SpanBuilder) gives the parent, or, without one, the span is the root of
//    a new trace.
#ifndef TRACER_AGENT_PROTOCOLS_HTTP1_TRACE_LINKER_H_
#define TRACER_AGENT_PROTOCOLS_HTTP1_TRACE_LINKER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "agent/protocols/http1/span.h"
#include "agent/spans/trace_context.h"

namespace tracer::http {

// Returns the context HTTP spans of thread `tid` of process `tgid` at
// CLOCK_MONOTONIC `ts_ns` should join: trace id, parent span id, flags and
// tracestate; nullopt when there is none. Called on the tracker's thread.
using ParentLookup =
    std::function<std::optional<spans::TraceContext>(uint32_t tgid, uint32_t tid, uint64_t ts_ns)>;

// Thread-safety: none; used from the tracker's thread only.
class TraceLinker {
 public:
  // `lookup` may be empty. `seed`: deterministic span/trace ids (tests).
  TraceLinker(ParentLookup lookup, std::optional<uint64_t> seed);

  // Ids for a SERVER span. `traceparent` / `tracestate`: the request's
  // header values (nullptr when absent; several tracestate headers joined
  // with "," per RFC 9110 §5.3). `*invalid_traceparent` is set when a
  // traceparent was present but rejected (then it is ignored, §3.2.2);
  // `*invalid_tracestate` when a tracestate was rejected (the traceparent
  // still counts, §3.3.1.1).
  SpanIds ForServer(uint32_t tgid, uint32_t tid, uint64_t ts_ns, const std::string* traceparent,
                    const std::string* tracestate, bool* invalid_traceparent,
                    bool* invalid_tracestate);

  // Ids for a CLIENT span whose request's first byte thread `tid` wrote.
  // `*in_server` is set when it was parented to an active SERVER span.
  SpanIds ForClient(uint32_t tgid, uint32_t tid, uint64_t ts_ns, bool* in_server);

  // Ids for a span with no usable request (a response without request):
  // the lookup's context or a new trace.
  SpanIds ForOrphan(uint32_t tgid, uint32_t tid, uint64_t ts_ns);

  // Thread `tid` of `tgid` is handling the SERVER span `ids` (its request
  // was read) until ServerSpanDone with the same span id.
  void ServerSpanActive(uint32_t tgid, uint32_t tid, const SpanIds& ids);
  void ServerSpanDone(uint32_t tgid, uint32_t tid, const spans::SpanId& span_id);

  // Threads currently marked as handling a SERVER span.
  size_t active_server_spans() const { return active_.size(); }

 private:
  SpanIds FromLookup(uint32_t tgid, uint32_t tid, uint64_t ts_ns);

  ParentLookup lookup_;
  spans::IdGenerator ids_;
  absl::flat_hash_map<uint64_t, SpanIds> active_;  // (tgid << 32 | tid) -> span
};

}  // namespace tracer::http

#endif  // TRACER_AGENT_PROTOCOLS_HTTP1_TRACE_LINKER_H_
