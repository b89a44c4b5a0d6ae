// JSON string literals and UTF-8 well-formedness, shared by every writer of
// JSON text in the control plane (OTLP/JSON, dead-letter error lines) and by
// the OTEL_RESOURCE_ATTRIBUTES decoder.
//
// Well-formed UTF-8 is as in Unicode 15, section 3.9, table 3-7 (no
// overlong forms, no surrogates, nothing above U+10FFFF). JSON escaping is
// RFC 8259 section 7.
#ifndef TRACER_OTLP_JSON_STRING_H_
#define TRACER_OTLP_JSON_STRING_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace tracer::otlp {

// Length in bytes (1..4) of the well-formed UTF-8 sequence starting at
// s[i], or 0 when the bytes there are not one (or i >= s.size()).
size_t Utf8SequenceLength(std::string_view s, size_t i);

// `s` with every byte that does not start a well-formed sequence replaced
// by U+FFFD (the "maximal subpart" is not merged: one U+FFFD per bad byte).
std::string ReplaceInvalidUtf8(std::string_view s);

// Appends `s` to `out` as a JSON string literal, quotes included: the quote
// and backslash escaped, control characters as \n, \t, ... or \u00XX, and
// bytes that are not well-formed UTF-8 as U+FFFD, so the result is always
// valid JSON. `out` must not be null.
void AppendJsonString(std::string_view s, std::string* out);

// The most bytes WriteJsonString can write for a string of `n` bytes
// (every byte a \u00XX escape, plus the quotes).
constexpr size_t MaxJsonStringSize(size_t n) { return 6 * n + 2; }

// The same literal as AppendJsonString, written to `out`, which must have
// room for MaxJsonStringSize(s.size()) bytes; returns the end of what was
// written. For writers that size their buffer up front.
char* WriteJsonString(std::string_view s, char* out);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_JSON_STRING_H_
