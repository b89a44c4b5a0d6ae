// Head sampling of a session's traces, decided in user space on the trace id
// so that every node reaches the same decision for the same trace.
//
// Follows the OpenTelemetry SDK specification (trace/sdk.md, "Built-in
// samplers"): AlwaysOn, AlwaysOff, TraceIdRatioBased and ParentBased. The
// ratio rule is the one the OpenTelemetry SDKs implement: the lower 8 bytes
// of the trace id, read big-endian and shifted right by one (63 bits), are
// compared with ratio * 2^63; the trace is sampled when they are below it.
// A ratio <= 0 samples nothing, >= 1 everything.
#ifndef TRACER_AGENT_PIPELINE_SAMPLER_H_
#define TRACER_AGENT_PIPELINE_SAMPLER_H_

#include <optional>

#include "agent/spans/trace_context.h"
#include "tracer/v1/session.pb.h"

namespace tracer::pipeline {

// Whether a trace with `trace_id` is recorded and exported under `sampling`.
// `parent_sampled` is the sampled flag of the trace's remote parent
// (W3C traceparent), or nullopt for a root trace; only the PARENT_BASED_*
// samplers look at it (a parent's decision wins, else the root sampler
// decides). SAMPLER_UNSPECIFIED is ALWAYS_ON. Pure and thread-safe.
bool ShouldSample(const tracer::v1::Sampling& sampling, const spans::TraceId& trace_id,
                  std::optional<bool> parent_sampled);

// TraceIdRatioBased alone: see the file comment.
bool TraceIdRatioSample(double ratio, const spans::TraceId& trace_id);

}  // namespace tracer::pipeline

#endif  // TRACER_AGENT_PIPELINE_SAMPLER_H_
