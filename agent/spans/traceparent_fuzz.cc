// Fuzzes ParseTraceparent. Input: the traceparent, then optionally '\n' and a
// tracestate. Whatever parses must survive format -> re-parse unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/spans/trace_context.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view traceparent = in, tracestate;
  if (size_t nl = in.find('\n'); nl != std::string_view::npos) {
    traceparent = in.substr(0, nl);
    tracestate = in.substr(nl + 1);
  }
  auto tc = tracer::spans::ParseTraceparent(traceparent, tracestate);
  if (!tc.ok()) return 0;
  const std::string formatted = tracer::spans::FormatTraceparent(*tc);
  auto again = tracer::spans::ParseTraceparent(formatted, tc->trace_state);
  if (!again.ok() || again->trace_id != tc->trace_id ||
      again->parent_span_id != tc->parent_span_id || again->flags != tc->flags ||
      again->trace_state != tc->trace_state ||
      tracer::spans::FormatTraceparent(*again) != formatted) {
    std::abort();
  }
  // A version-00 value whose flags are only the defined bits formats back to
  // itself byte for byte.
  if (traceparent.substr(0, 2) == "00" &&
      (traceparent.substr(53) == "00" || traceparent.substr(53) == "01") &&
      formatted != traceparent) {
    std::abort();
  }
  return 0;
}
