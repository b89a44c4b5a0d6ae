#include "agent/protocols/http1/trace_linker.h"

namespace tracer::http {
namespace {

// Bound on threads marked as serving a request (one entry per thread).
constexpr size_t kMaxActiveServerSpans = 1 << 16;

uint64_t Key(uint32_t tgid, uint32_t tid) { return (uint64_t{tgid} << 32) | tid; }

}  // namespace

TraceLinker::TraceLinker(ParentLookup lookup, std::optional<uint64_t> seed)
    : lookup_(std::move(lookup)), ids_(seed ? *seed : std::random_device{}()) {}

SpanIds TraceLinker::FromLookup(uint32_t tgid, uint32_t tid, uint64_t ts_ns) {
  SpanIds out;
  out.span_id = ids_.NewSpanId();
  std::optional<spans::TraceContext> ctx;
  if (lookup_) ctx = lookup_(tgid, tid, ts_ns);
  if (ctx && !spans::IsZero(ctx->trace_id)) {
    out.trace_id = ctx->trace_id;
    if (!spans::IsZero(ctx->parent_span_id)) out.parent_span_id = ctx->parent_span_id;
    out.flags = ctx->flags;
    out.trace_state = ctx->trace_state;
  } else {
    out.trace_id = ids_.NewTraceId();
  }
  return out;
}

SpanIds TraceLinker::ForServer(uint32_t tgid, uint32_t tid, uint64_t ts_ns,
                               const std::string* traceparent, const std::string* tracestate,
                               bool* invalid_traceparent, bool* invalid_tracestate) {
  *invalid_traceparent = false;
  *invalid_tracestate = false;
  if (traceparent != nullptr) {
    // Validated here so that untrusted traffic is counted, not logged.
    std::string state;
    if (tracestate != nullptr) {
      auto valid = spans::ValidateTracestate(*tracestate);
      if (valid.ok()) {
        state = *std::move(valid);
      } else {
        *invalid_tracestate = true;
      }
    }
    auto ctx = spans::ParseTraceparent(*traceparent, state);
    if (ctx.ok()) {
      SpanIds out;
      out.span_id = ids_.NewSpanId();
      out.trace_id = ctx->trace_id;
      out.parent_span_id = ctx->parent_span_id;
      out.flags = ctx->flags;
      out.trace_state = ctx->trace_state;
      return out;
    }
    *invalid_traceparent = true;
  }
  return FromLookup(tgid, tid, ts_ns);
}

SpanIds TraceLinker::ForClient(uint32_t tgid, uint32_t tid, uint64_t ts_ns, bool* in_server) {
  *in_server = false;
  auto it = active_.find(Key(tgid, tid));
  if (it != active_.end()) {
    *in_server = true;
    SpanIds out;
    out.span_id = ids_.NewSpanId();
    out.trace_id = it->second.trace_id;
    out.parent_span_id = it->second.span_id;
    out.flags = it->second.flags;
    out.trace_state = it->second.trace_state;
    return out;
  }
  return FromLookup(tgid, tid, ts_ns);
}

SpanIds TraceLinker::ForOrphan(uint32_t tgid, uint32_t tid, uint64_t ts_ns) {
  return FromLookup(tgid, tid, ts_ns);
}

void TraceLinker::ServerSpanActive(uint32_t tgid, uint32_t tid, const SpanIds& ids) {
  if (active_.size() >= kMaxActiveServerSpans && !active_.contains(Key(tgid, tid))) return;
  active_[Key(tgid, tid)] = ids;
}

void TraceLinker::ServerSpanDone(uint32_t tgid, uint32_t tid, const spans::SpanId& span_id) {
  auto it = active_.find(Key(tgid, tid));
  if (it != active_.end() && it->second.span_id == span_id) active_.erase(it);
}

}  // namespace tracer::http
