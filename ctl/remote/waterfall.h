// `tracectl traces show`: one trace as a span tree with a timeline bar per
// span (a terminal waterfall).
#ifndef TRACER_CTL_REMOTE_WATERFALL_H_
#define TRACER_CTL_REMOTE_WATERFALL_H_

#include <cstdint>
#include <string>

#include "tracer/v1/control.pb.h"

namespace tracer::ctl::remote {

// Formats a duration in ns for humans: "850ns", "12µs", "1.50ms", "2.35s".
std::string FormatDuration(uint64_t ns);

// Renders every span of `trace` (OTLP ResourceSpans, any order) as:
//
//   trace 0af7651916cd43dd8448eb211c80319c  3 spans  12.0ms
//   curl [curl]        12.0ms |=============================|
//     connect           1.50ms |====                         |
//     read             500µs  |             =               |
//
// Children are indented two spaces under their parent (a span whose parent
// is not in the trace is a root) and ordered by start time; the name column
// shows "[service.name]" where the service differs from the parent's; a
// span with status ERROR is suffixed " !". Each bar spans `bar_width`
// columns scaled to the whole trace (first start to last end); every span
// gets at least one '=' . Names longer than 48 bytes are cut with "...".
// An empty response renders "no spans\n".
std::string RenderWaterfall(const tracer::v1::GetTraceResponse& trace, int bar_width = 40);

}  // namespace tracer::ctl::remote

#endif  // TRACER_CTL_REMOTE_WATERFALL_H_
