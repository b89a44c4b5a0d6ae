// OTLP/JSON encoding of trace export requests.
//
// Follows the OTLP specification, protocol/otlp.md "JSON Protobuf Encoding":
// the Proto3 JSON mapping with these OTLP-specific rules:
//   * field names are lowerCamelCase ("resourceSpans", "startTimeUnixNano");
//   * traceId / spanId / parentSpanId (in spans and links) are lowercase
//     hex strings (32 and 16 characters), NOT base64; other bytes values
//     (AnyValue.bytesValue) stay base64 as in Proto3 JSON;
//   * enum values (kind, status.code) are integers;
//   * 64-bit integers (timestamps in ns, intValue) are decimal strings;
//   * fields holding their default value are omitted, except the members of
//     AnyValue's oneof (an explicit 0 / false / "" value is written) and
//     KeyValue.key.
// Non-finite doubles are written as "NaN", "Infinity", "-Infinity" (Proto3
// JSON). Strings that are not valid UTF-8 get U+FFFD for each bad byte so the
// output is always valid JSON.
#ifndef TRACER_OTLP_OTLP_JSON_H_
#define TRACER_OTLP_OTLP_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "otlp/exporter.h"

namespace tracer::otlp {

// Encodes `request` as one line of OTLP/JSON (no newline anywhere, none at
// the end). A direct encoder (no reflection); thread-safe; never fails.
std::string ToOtlpJson(const ExportTraceServiceRequest& request);

// Same, appending to `*out` (lets callers reuse one buffer).
void AppendOtlpJson(const ExportTraceServiceRequest& request, std::string* out);

// Decodes one OTLP/JSON document (the inverse of ToOtlpJson, and what an
// OTLP/HTTP JSON receiver accepts): lowerCamelCase or original snake_case
// field names, 64-bit integers as strings or numbers, enums as integers or
// names, ids as hex (either case). Unknown fields are ignored (as the
// specification requires of receivers). Errors: INVALID_ARGUMENT with the
// parser's message, or naming the id field that is not hex of the right
// length (16 bytes for trace ids, 8 for span ids, or empty). Thread-safe.
absl::StatusOr<ExportTraceServiceRequest> FromOtlpJson(std::string_view json);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_OTLP_JSON_H_
