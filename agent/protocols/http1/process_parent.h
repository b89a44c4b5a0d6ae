// The ParentLookup that joins HTTP spans to the traced process's span in a
// SpanBuilder (agent/spans/span_builder.h): same trace id, parent = the
// process span of the span's tgid. Spans of processes the builder does not
// know (yet) start their own trace.
#ifndef TRACER_AGENT_PROTOCOLS_HTTP1_PROCESS_PARENT_H_
#define TRACER_AGENT_PROTOCOLS_HTTP1_PROCESS_PARENT_H_

#include <optional>

#include "agent/protocols/http1/trace_linker.h"
#include "agent/spans/span_builder.h"
#include "agent/spans/trace_context.h"

namespace tracer::http {

// `builder` is not owned and must outlive every use of the returned lookup;
// it is only read (trace_id(), ProcessSpanId()), on the thread that feeds
// both. `builder_parent` is the SpanBuilderOptions::parent the builder was
// made with: its flags and tracestate are what the builder's own spans
// carry (none: sampled, no tracestate).
ParentLookup ProcessSpanParent(const spans::SpanBuilder* builder,
                               const std::optional<spans::TraceContext>& builder_parent);

}  // namespace tracer::http

#endif  // TRACER_AGENT_PROTOCOLS_HTTP1_PROCESS_PARENT_H_
