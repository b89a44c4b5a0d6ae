// W3C Trace Context (Level 1, https://www.w3.org/TR/trace-context/): the
// `traceparent` and `tracestate` values, their parser and formatter, and the
// generator of new trace and span ids.
#ifndef TRACER_AGENT_SPANS_TRACE_CONTEXT_H_
#define TRACER_AGENT_SPANS_TRACE_CONTEXT_H_

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace tracer::spans {

// A trace id: 16 bytes, in wire order (the first byte is the first two hex
// digits of the traceparent's trace-id). All zeros is the invalid id.
using TraceId = std::array<uint8_t, 16>;

// A span id: 8 bytes, in wire order. All zeros is the invalid id.
using SpanId = std::array<uint8_t, 8>;

// The `sampled` trace flag (W3C Trace Context §3.2.2.5.1).
inline constexpr uint8_t kTraceFlagSampled = 0x01;

// What a `traceparent` (+ `tracestate`) pair says about the caller's span.
struct TraceContext {
  TraceId trace_id = {};
  // The caller's span: spans we create under this context are its children.
  SpanId parent_span_id = {};
  // Trace flags. Only the bits Level 1 defines (kTraceFlagSampled) are kept:
  // §3.2.2.5 says vendors MUST set the others to zero, so they are cleared at
  // parse time and never propagated.
  uint8_t flags = 0;
  // The validated tracestate list (members joined by ","; optional
  // whitespace and empty members removed), or empty.
  std::string trace_state;

  // True when the caller recorded (sampled) its span (§3.2.2.5.1).
  bool sampled() const { return (flags & kTraceFlagSampled) != 0; }
};

// Parses a `traceparent` value and, if given, a `tracestate` value, following
// W3C Trace Context Level 1 §3.2 (traceparent) and §3.3 (tracestate).
//
// traceparent = version "-" trace-id "-" parent-id "-" trace-flags, all
// lowercase hex (§3.2.2):
//  - version: 2 hex digits; "ff" is invalid (§3.2.2.2).
//  - version "00": exactly 55 characters; anything after the flags is an
//    error (§3.2.2.2, "extra data").
//  - a higher version is parsed per the forward-compatibility rule of §3.2.4:
//    at least 55 characters, the version-00 fields at their version-00
//    offsets, and after the flags either the end of the value or a "-"
//    followed by fields we ignore. Only the sampled flag is kept.
//  - trace-id: 32 hex digits, not all zero (§3.2.2.3).
//  - parent-id: 16 hex digits, not all zero (§3.2.2.4).
//  - trace-flags: 2 hex digits (§3.2.2.5).
// Errors: INVALID_ARGUMENT with a message naming the field and the problem,
// e.g. "traceparent: trace-id is all zeros".
//
// tracestate (§3.3.1): up to 32 comma-separated list members `key=value`
// with optional spaces/tabs around the commas; empty members are allowed and
// dropped. key = simple-key (lcalpha then up to 255 of lcalpha, digit,
// "_-*/") or multi-tenant-key (tenant-id "@" system-id, tenant-id 1-241 of
// lcalpha/digit/"_-*/" starting with lcalpha or digit, system-id 1-14 of the
// same starting with lcalpha); value = 1-256 printable ASCII characters
// (0x20-0x7E) except "," and "=", the last one not a space. Keys must be
// unique.
//
// An invalid tracestate does NOT fail the parse: §3.3.1.1 says a vendor that
// cannot parse tracestate discards it while still honouring traceparent, so
// the result then has an empty trace_state and a warning is logged. This is
// deliberate; callers that need to know use ValidateTracestate().
//
// Thread-safe (pure function).
absl::StatusOr<TraceContext> ParseTraceparent(std::string_view traceparent,
                                              std::string_view tracestate = "");

// Validates a `tracestate` value per §3.3.1 (rules above) and returns it in
// canonical form (members joined by "," without optional whitespace or empty
// members). Errors: INVALID_ARGUMENT naming the offending member and rule,
// e.g. "tracestate: more than 32 list members". Thread-safe.
absl::StatusOr<std::string> ValidateTracestate(std::string_view tracestate);

// Formats `context` as a version-00 traceparent
// ("00-<32 hex>-<16 hex>-<2 hex>", 55 characters, lowercase). The tracestate
// is not part of it; send `context.trace_state` as is. Thread-safe.
std::string FormatTraceparent(const TraceContext& context);

// Lowercase hex of `id`: 32 characters for a TraceId, 16 for a SpanId.
std::string HexId(const TraceId& id);
std::string HexId(const SpanId& id);

// Parses exactly 2*N lowercase hex digits into the N bytes of `out`. Returns
// false (leaving `out` unspecified) on a wrong length or any character other
// than 0-9a-f. Used for ids, so uppercase is rejected as §3.2.2 requires.
bool ParseLowerHex(std::string_view hex, uint8_t* out, size_t n);

// True when every byte of `id` is zero (the invalid id).
bool IsZero(const TraceId& id);
bool IsZero(const SpanId& id);

// Generates random trace and span ids (never all zeros) from a 64-bit
// Mersenne Twister. Not thread-safe: for one thread (a SpanBuilder's), where
// the hot path should not pay for a lock; IdGenerator is the shared one.
class LocalIdGenerator {
 public:
  // Seeds from std::random_device.
  LocalIdGenerator();
  // Seeds deterministically (for tests that need repeatable ids).
  explicit LocalIdGenerator(uint64_t seed);

  LocalIdGenerator(const LocalIdGenerator&) = delete;
  LocalIdGenerator& operator=(const LocalIdGenerator&) = delete;

  TraceId NewTraceId();
  SpanId NewSpanId();

 private:
  std::mt19937_64 rng_;
};

// The same ids, thread-safe: one generator may be shared; calls are
// serialized by an internal mutex.
class IdGenerator {
 public:
  // Seeds a 64-bit Mersenne Twister from std::random_device.
  IdGenerator();
  // Seeds deterministically (for tests that need repeatable ids).
  explicit IdGenerator(uint64_t seed);

  IdGenerator(const IdGenerator&) = delete;
  IdGenerator& operator=(const IdGenerator&) = delete;

  TraceId NewTraceId();
  SpanId NewSpanId();

 private:
  absl::Mutex mu_;
  LocalIdGenerator ids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracer::spans

#endif  // TRACER_AGENT_SPANS_TRACE_CONTEXT_H_
