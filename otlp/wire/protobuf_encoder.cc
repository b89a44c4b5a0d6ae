#include "otlp/wire/protobuf_encoder.h"

#include <cstring>
#include <vector>

namespace tracer::otlp::wire {
namespace {

// Wire types (protobuf encoding).
constexpr uint8_t kVarint = 0;
constexpr uint8_t kFixed64 = 1;
constexpr uint8_t kLen = 2;
constexpr uint8_t kFixed32 = 5;

// A one-byte tag (field numbers 1..15).
constexpr uint8_t Tag(int field, uint8_t wire_type) {
  return static_cast<uint8_t>((field << 3) | wire_type);
}

inline size_t VarintSize(uint64_t v) {
  // 1 + floor(log2(v|1)) / 7, without a loop.
  const int bits = 64 - __builtin_clzll(v | 1);
  return static_cast<size_t>((bits * 9 + 64) / 64);
}

// Size of a length-delimited field with a one-byte tag and `len` bytes.
inline size_t LenField(size_t len) { return 1 + VarintSize(len) + len; }

inline uint8_t* PutVarint(uint64_t v, uint8_t* p) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

inline uint8_t* PutBytes(const void* data, size_t n, uint8_t* p) {
  std::memcpy(p, data, n);
  return p + n;
}

inline uint8_t* PutLenField(uint8_t tag, std::string_view s, uint8_t* p) {
  *p++ = tag;
  p = PutVarint(s.size(), p);
  return PutBytes(s.data(), s.size(), p);
}

inline uint8_t* PutFixed64(uint64_t v, uint8_t* p) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  return p + 8;
}

inline uint8_t* PutFixed32(uint32_t v, uint8_t* p) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
  return p + 4;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& id) {
  uint8_t acc = 0;
  for (uint8_t b : id) acc |= b;
  return acc == 0;
}

inline bool HasStatus(const SpanRecord& s) {
  return s.status_code != StatusCode::kUnset || !s.status_message.empty();
}

// ---------------------------------------------------------------- sizes

// ArrayValue of strings: values 1, each an AnyValue with string_value 1.
inline size_t StringArraySize(absl::Span<const std::string_view> v) {
  size_t n = 0;
  for (std::string_view s : v) n += LenField(LenField(s.size()));
  return n;
}

// AnyValue (common.proto): string_value 1, bool_value 2, int_value 3,
// double_value 4, array_value 5, bytes_value 7. The oneof member is written
// even when it holds its default.
inline size_t AnyValueSize(const Attribute& a) {
  switch (a.type) {
    case ValueType::kStringArray:
      return LenField(StringArraySize(a.strings));
    case ValueType::kString:
    case ValueType::kBytes:
      return LenField(a.str.size());
    case ValueType::kInt:
      return 1 + VarintSize(static_cast<uint64_t>(a.int_value));
    case ValueType::kDouble:
      return 1 + 8;
    case ValueType::kBool:
      return 1 + 1;
  }
  return 0;
}

// KeyValue: key 1, value 2 (always present).
inline size_t KeyValueSize(const Attribute& a) {
  return (a.key.empty() ? 0 : LenField(a.key.size())) + LenField(AnyValueSize(a));
}

// The sizing pass records the size of every nested message the writing
// pass needs, in writing order (a span's size before its attributes' and
// events'), into `sizes`; the writing pass reads them back in order.
using Sizes = std::vector<uint32_t>;

size_t MeasureAttributes(absl::Span<const Attribute> attrs, Sizes& sizes) {
  size_t n = 0;
  for (const Attribute& a : attrs) {
    const size_t kv = KeyValueSize(a);
    sizes.push_back(static_cast<uint32_t>(kv));
    n += LenField(kv);
  }
  return n;
}

inline size_t Uint32FieldSize(uint32_t v) { return v == 0 ? 0 : 1 + VarintSize(v); }

// Status: message 2, code 3.
inline size_t StatusSize(const SpanRecord& s) {
  return (s.status_message.empty() ? 0 : LenField(s.status_message.size())) +
         (s.status_code != StatusCode::kUnset ? 2 : 0);
}

// Span.Event: time_unix_nano 1 (fixed64), name 2, attributes 3,
// dropped_attributes_count 4.
size_t MeasureEvent(const Event& e, Sizes& sizes) {
  const size_t slot = sizes.size();
  sizes.push_back(0);
  const size_t n =
      (e.time_unix_nano != 0 ? 9 : 0) + (e.name.empty() ? 0 : LenField(e.name.size())) +
      MeasureAttributes(e.attributes, sizes) + Uint32FieldSize(e.dropped_attributes_count);
  sizes[slot] = static_cast<uint32_t>(n);
  return n;
}

// Span: trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5,
// kind 6, start_time_unix_nano 7 (fixed64), end_time_unix_nano 8 (fixed64),
// attributes 9, dropped_attributes_count 10, events 11,
// dropped_events_count 12, status 15, flags 16 (fixed32).
size_t MeasureSpan(const SpanRecord& s, Sizes& sizes) {
  const size_t slot = sizes.size();
  sizes.push_back(0);
  size_t n = (1 + 1 + 16) + (1 + 1 + 8);
  if (!s.trace_state.empty()) n += LenField(s.trace_state.size());
  if (!AllZero(s.parent_span_id)) n += 1 + 1 + 8;
  if (!s.name.empty()) n += LenField(s.name.size());
  if (s.kind != SpanKind::kUnspecified) n += 2;
  if (s.start_time_unix_nano != 0) n += 9;
  if (s.end_time_unix_nano != 0) n += 9;
  n += MeasureAttributes(s.attributes, sizes);
  n += Uint32FieldSize(s.dropped_attributes_count);
  for (const Event& e : s.events) n += LenField(MeasureEvent(e, sizes));
  n += Uint32FieldSize(s.dropped_events_count);
  if (HasStatus(s)) n += LenField(StatusSize(s));
  if (s.flags != 0) n += 2 + 4;
  sizes[slot] = static_cast<uint32_t>(n);
  return n;
}

// InstrumentationScope: name 1, version 2.
inline size_t ScopeSize(const SpanBatch& b) {
  return (b.scope_name.empty() ? 0 : LenField(b.scope_name.size())) +
         (b.scope_version.empty() ? 0 : LenField(b.scope_version.size()));
}

// The sizes of one request: Resource (attributes 1), ScopeSpans (scope 1,
// spans 2), ResourceSpans (resource 1, scope_spans 2) and the request
// (resource_spans 1).
struct RequestSizes {
  size_t resource = 0;
  size_t scope_spans = 0;
  size_t resource_spans = 0;
  size_t total = 0;
};

RequestSizes Measure(const SpanBatch& b, Sizes& sizes) {
  sizes.clear();
  RequestSizes r;
  r.resource = MeasureAttributes(b.resource_attributes, sizes);
  r.scope_spans = LenField(ScopeSize(b));
  for (const SpanRecord& s : b.spans) r.scope_spans += LenField(MeasureSpan(s, sizes));
  r.resource_spans = LenField(r.resource) + LenField(r.scope_spans);
  r.total = LenField(r.resource_spans);
  return r;
}

// One scratch buffer per thread: the sizing pass allocates only while it
// grows past the largest batch the thread has encoded.
Sizes& ThreadSizes() {
  thread_local Sizes sizes;
  return sizes;
}

// ---------------------------------------------------------------- writing

uint8_t* PutAttributes(uint8_t tag, absl::Span<const Attribute> attrs, const uint32_t*& size,
                       uint8_t* p) {
  for (const Attribute& a : attrs) {
    const size_t kv = *size++;
    *p++ = tag;
    p = PutVarint(kv, p);
    if (!a.key.empty()) p = PutLenField(Tag(1, kLen), a.key, p);
    *p++ = Tag(2, kLen);
    p = PutVarint(AnyValueSize(a), p);
    switch (a.type) {
      case ValueType::kString:
        p = PutLenField(Tag(1, kLen), a.str, p);
        break;
      case ValueType::kBool:
        *p++ = Tag(2, kVarint);
        *p++ = a.bool_value ? 1 : 0;
        break;
      case ValueType::kInt:
        *p++ = Tag(3, kVarint);
        p = PutVarint(static_cast<uint64_t>(a.int_value), p);
        break;
      case ValueType::kDouble: {
        *p++ = Tag(4, kFixed64);
        uint64_t bits;
        std::memcpy(&bits, &a.double_value, sizeof(bits));
        p = PutFixed64(bits, p);
        break;
      }
      case ValueType::kBytes:
        p = PutLenField(Tag(7, kLen), a.str, p);
        break;
      case ValueType::kStringArray:
        *p++ = Tag(5, kLen);
        p = PutVarint(StringArraySize(a.strings), p);
        for (std::string_view v : a.strings) {
          *p++ = Tag(1, kLen);  // ArrayValue.values
          p = PutVarint(LenField(v.size()), p);
          p = PutLenField(Tag(1, kLen), v, p);
        }
        break;
    }
  }
  return p;
}

inline uint8_t* PutUint32Field(uint8_t tag, uint32_t v, uint8_t* p) {
  if (v == 0) return p;
  *p++ = tag;
  return PutVarint(v, p);
}

uint8_t* PutSpan(const SpanRecord& s, const uint32_t*& size, uint8_t* p) {
  *p++ = Tag(2, kLen);  // ScopeSpans.spans
  p = PutVarint(*size++, p);
  *p++ = Tag(1, kLen);
  *p++ = 16;
  p = PutBytes(s.trace_id.data(), 16, p);
  *p++ = Tag(2, kLen);
  *p++ = 8;
  p = PutBytes(s.span_id.data(), 8, p);
  if (!s.trace_state.empty()) p = PutLenField(Tag(3, kLen), s.trace_state, p);
  if (!AllZero(s.parent_span_id)) {
    *p++ = Tag(4, kLen);
    *p++ = 8;
    p = PutBytes(s.parent_span_id.data(), 8, p);
  }
  if (!s.name.empty()) p = PutLenField(Tag(5, kLen), s.name, p);
  if (s.kind != SpanKind::kUnspecified) {
    *p++ = Tag(6, kVarint);
    *p++ = static_cast<uint8_t>(s.kind);
  }
  if (s.start_time_unix_nano != 0) {
    *p++ = Tag(7, kFixed64);
    p = PutFixed64(s.start_time_unix_nano, p);
  }
  if (s.end_time_unix_nano != 0) {
    *p++ = Tag(8, kFixed64);
    p = PutFixed64(s.end_time_unix_nano, p);
  }
  p = PutAttributes(Tag(9, kLen), s.attributes, size, p);
  p = PutUint32Field(Tag(10, kVarint), s.dropped_attributes_count, p);
  for (const Event& e : s.events) {
    *p++ = Tag(11, kLen);
    p = PutVarint(*size++, p);
    if (e.time_unix_nano != 0) {
      *p++ = Tag(1, kFixed64);
      p = PutFixed64(e.time_unix_nano, p);
    }
    if (!e.name.empty()) p = PutLenField(Tag(2, kLen), e.name, p);
    p = PutAttributes(Tag(3, kLen), e.attributes, size, p);
    p = PutUint32Field(Tag(4, kVarint), e.dropped_attributes_count, p);
  }
  p = PutUint32Field(Tag(12, kVarint), s.dropped_events_count, p);
  if (HasStatus(s)) {
    *p++ = Tag(15, kLen);
    p = PutVarint(StatusSize(s), p);
    if (!s.status_message.empty()) p = PutLenField(Tag(2, kLen), s.status_message, p);
    if (s.status_code != StatusCode::kUnset) {
      *p++ = Tag(3, kVarint);
      *p++ = static_cast<uint8_t>(s.status_code);
    }
  }
  if (s.flags != 0) {
    // Field 16, wire type 5: the tag is the two-byte varint 0x85 0x01.
    *p++ = 0x80 | ((16 << 3) & 0x7f) | kFixed32;
    *p++ = 0x01;
    p = PutFixed32(s.flags, p);
  }
  return p;
}

// Writes the request measured as `r`, the nested sizes in `sizes`.
uint8_t* PutRequest(const SpanBatch& batch, const RequestSizes& r, const Sizes& sizes, uint8_t* p) {
  const uint32_t* size = sizes.data();
  *p++ = Tag(1, kLen);  // ExportTraceServiceRequest.resource_spans
  p = PutVarint(r.resource_spans, p);
  *p++ = Tag(1, kLen);  // ResourceSpans.resource
  p = PutVarint(r.resource, p);
  p = PutAttributes(Tag(1, kLen), batch.resource_attributes, size, p);
  *p++ = Tag(2, kLen);  // ResourceSpans.scope_spans
  p = PutVarint(r.scope_spans, p);
  *p++ = Tag(1, kLen);  // ScopeSpans.scope
  p = PutVarint(ScopeSize(batch), p);
  if (!batch.scope_name.empty()) p = PutLenField(Tag(1, kLen), batch.scope_name, p);
  if (!batch.scope_version.empty()) p = PutLenField(Tag(2, kLen), batch.scope_version, p);
  for (const SpanRecord& s : batch.spans) p = PutSpan(s, size, p);
  return p;
}

}  // namespace

size_t ProtobufSize(const SpanBatch& batch) { return Measure(batch, ThreadSizes()).total; }

uint8_t* WriteProtobuf(const SpanBatch& batch, uint8_t* buf) {
  Sizes& sizes = ThreadSizes();
  const RequestSizes r = Measure(batch, sizes);
  return PutRequest(batch, r, sizes, buf);
}

void AppendProtobuf(const SpanBatch& batch, std::string* out) {
  Sizes& sizes = ThreadSizes();
  const RequestSizes r = Measure(batch, sizes);
  const size_t old = out->size();
  out->resize(old + r.total);
  PutRequest(batch, r, sizes, reinterpret_cast<uint8_t*>(out->data()) + old);
}

void AppendProtobuf(absl::Span<const SpanBatch> resources, std::string* out) {
  // A request is `repeated ResourceSpans resource_spans = 1`: the requests
  // of one ResourceSpans each, concatenated, are the request of all.
  for (const SpanBatch& b : resources) AppendProtobuf(b, out);
}

}  // namespace tracer::otlp::wire
