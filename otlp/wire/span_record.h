// Compact span records: the shape a span has between the decoder and the
// OTLP encoders (protobuf_encoder.h, json_encoder.h), with no message objects
// and nothing owned. A record only points at bytes (ids inline, strings and
// attribute arrays as views); whoever fills it keeps the pointed-to storage
// alive until the batch is encoded. Plain aggregates: copyable, no
// allocation, no thread-safety of their own (share them read-only).
//
// What a record can say is the subset of OTLP the tracer emits: one
// resource and one instrumentation scope per batch; spans with ids, parent,
// W3C trace state and flags, name, kind, times, attributes, events and
// status. Attribute values are string, int, double, bool, bytes or an
// array of strings (HTTP header values; no other array and no kvlist
// values); spans carry no links. Presence rules (the same in
// both encoders and in ToMessage, the reference):
//   * trace_id and span_id are always written (16 and 8 bytes);
//   * parent_span_id is written unless it is all zero (a root span);
//   * flags, trace_state, name, kind, times and dropped counts are written
//     unless 0 / empty (proto3 defaults);
//   * the status is written when its code is not UNSET or its message is
//     not empty;
//   * the resource and the scope are always written (possibly empty).
#ifndef TRACER_OTLP_WIRE_SPAN_RECORD_H_
#define TRACER_OTLP_WIRE_SPAN_RECORD_H_

#include <array>
#include <cstdint>
#include <string_view>

#include "absl/types/span.h"

namespace tracer::otlp::wire {

// The type of an attribute's value (AnyValue's oneof member).
enum class ValueType : uint8_t { kString, kInt, kDouble, kBool, kBytes, kStringArray };

// One attribute: a key and a value of one of the scalar AnyValue types.
// Build it with the factory functions. `str` holds the value of kString
// (any bytes; the JSON encoder replaces bytes that are not UTF-8 by U+FFFD,
// as otlp_json does) and of kBytes (raw bytes, base64 in JSON); `strings`
// holds the elements of kStringArray (an AnyValue.array_value whose values
// are all string_value, possibly none); the numeric members hold the others.
struct Attribute {
  std::string_view key;
  ValueType type = ValueType::kString;
  bool bool_value = false;
  int64_t int_value = 0;
  double double_value = 0;
  std::string_view str;
  absl::Span<const std::string_view> strings;

  static constexpr Attribute String(std::string_view k, std::string_view v) {
    Attribute a;
    a.key = k;
    a.type = ValueType::kString;
    a.str = v;
    return a;
  }
  static constexpr Attribute Int(std::string_view k, int64_t v) {
    Attribute a;
    a.key = k;
    a.type = ValueType::kInt;
    a.int_value = v;
    return a;
  }
  static constexpr Attribute Double(std::string_view k, double v) {
    Attribute a;
    a.key = k;
    a.type = ValueType::kDouble;
    a.double_value = v;
    return a;
  }
  static constexpr Attribute Bool(std::string_view k, bool v) {
    Attribute a;
    a.key = k;
    a.type = ValueType::kBool;
    a.bool_value = v;
    return a;
  }
  static constexpr Attribute Bytes(std::string_view k, std::string_view v) {
    Attribute a;
    a.key = k;
    a.type = ValueType::kBytes;
    a.str = v;
    return a;
  }
  static constexpr Attribute StringArray(std::string_view k, absl::Span<const std::string_view> v) {
    Attribute a;
    a.key = k;
    a.type = ValueType::kStringArray;
    a.strings = v;
    return a;
  }
};

// Span.SpanKind values (OTLP trace.proto).
enum class SpanKind : uint8_t {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};

// Status.StatusCode values (OTLP trace.proto).
enum class StatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

// A Span.Event. Times are Unix epoch nanoseconds.
struct Event {
  uint64_t time_unix_nano = 0;
  std::string_view name;
  absl::Span<const Attribute> attributes;
  uint32_t dropped_attributes_count = 0;
};

// One span. Times are Unix epoch nanoseconds; ids are raw bytes.
struct SpanRecord {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  std::array<uint8_t, 8> parent_span_id{};  // all zero: no parent
  std::string_view trace_state;             // W3C tracestate, may be empty
  uint32_t flags = 0;                       // W3C trace flags in bits 0-7
  std::string_view name;
  SpanKind kind = SpanKind::kUnspecified;
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  absl::Span<const Attribute> attributes;
  uint32_t dropped_attributes_count = 0;
  absl::Span<const Event> events;
  uint32_t dropped_events_count = 0;
  StatusCode status_code = StatusCode::kUnset;
  std::string_view status_message;
};

// One ExportTraceServiceRequest: a single ResourceSpans (the resource's
// attributes) with a single ScopeSpans (scope name and version) holding
// `spans` in order. A request of several ResourceSpans is a list of these
// (the encoders' absl::Span<const SpanBatch> overloads).
struct SpanBatch {
  absl::Span<const Attribute> resource_attributes;
  std::string_view scope_name;
  std::string_view scope_version;
  absl::Span<const SpanRecord> spans;
};

}  // namespace tracer::otlp::wire

#endif  // TRACER_OTLP_WIRE_SPAN_RECORD_H_
