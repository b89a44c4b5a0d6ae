#include "agent/protocols/http1/process_parent.h"

#include <string>

namespace tracer::http {

ParentLookup ProcessSpanParent(const spans::SpanBuilder* builder,
                               const std::optional<spans::TraceContext>& builder_parent) {
  const uint8_t flags = builder_parent ? builder_parent->flags : spans::kTraceFlagSampled;
  const std::string trace_state = builder_parent ? builder_parent->trace_state : "";
  return [builder, flags, trace_state](uint32_t tgid, uint32_t,
                                       uint64_t) -> std::optional<spans::TraceContext> {
    std::optional<spans::SpanId> process_span = builder->ProcessSpanId(tgid);
    if (!process_span) return std::nullopt;
    spans::TraceContext c;
    c.trace_id = builder->trace_id();
    c.parent_span_id = *process_span;
    c.flags = flags;
    c.trace_state = trace_state;
    return c;
  };
}

}  // namespace tracer::http
