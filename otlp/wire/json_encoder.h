// OTLP/JSON encoding of a SpanBatch, written straight into one buffer (no
// message objects): byte for byte what otlp_json.h's AppendOtlpJson writes
// for ToMessage(batch), so the rules of otlp_json.h hold (lowerCamelCase
// names, hex ids, 64-bit integers and timestamps as decimal strings, enums
// as integers, bytes values base64, defaults omitted, NaN / Infinity as
// strings, JSON escapes and U+FFFD for bytes that are not UTF-8). One line,
// no newline. No heap allocation other than growing the caller's buffer.
// Thread-safe (only reads the batch).
#ifndef TRACER_OTLP_WIRE_JSON_ENCODER_H_
#define TRACER_OTLP_WIRE_JSON_ENCODER_H_

#include <string>

#include "otlp/wire/span_record.h"

namespace tracer::otlp::wire {

// Appends the OTLP/JSON document of `batch` to `*out` (not null).
void AppendJson(const SpanBatch& batch, std::string* out);

// Appends the OTLP/JSON document of the request holding one ResourceSpans
// per element of `resources`, in order (otlp_json of ToMessage(resources));
// `{}` for an empty list, as for an empty request.
void AppendJson(absl::Span<const SpanBatch> resources, std::string* out);

}  // namespace tracer::otlp::wire

#endif  // TRACER_OTLP_WIRE_JSON_ENCODER_H_
