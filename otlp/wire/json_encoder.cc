#include "otlp/wire/json_encoder.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "otlp/json_string.h"

namespace tracer::otlp::wire {
namespace {

// Writes through a raw pointer into `*s`, which is grown ahead of the
// writes (Room) and cut to what was written at the end (Finish).
class Out {
 public:
  explicit Out(std::string* s) : s_(s), used_(s->size()) {
    s_->resize(std::max(s_->capacity(), used_ + 1024));
    p_ = s_->data() + used_;
    end_ = s_->data() + s_->size();
  }

  // Makes room for `n` more bytes.
  void Room(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) Grow(n);
  }
  void Finish() { s_->resize(static_cast<size_t>(p_ - s_->data())); }

  template <size_t N>
  void Lit(const char (&lit)[N]) {
    std::memcpy(p_, lit, N - 1);
    p_ += N - 1;
  }
  void Char(char c) { *p_++ = c; }
  void Str(std::string_view v) { p_ = WriteJsonString(v, p_); }
  template <size_t N>
  void Hex(const std::array<uint8_t, N>& id) {
    // Two hex digits per byte value.
    static constexpr auto kPairs = [] {
      std::array<char, 512> t{};
      constexpr char kDigits[] = "0123456789abcdef";
      for (int b = 0; b < 256; ++b) {
        t[2 * b] = kDigits[b >> 4];
        t[2 * b + 1] = kDigits[b & 0xf];
      }
      return t;
    }();
    *p_++ = '"';
    for (uint8_t c : id) {
      std::memcpy(p_, &kPairs[2 * c], 2);
      p_ += 2;
    }
    *p_++ = '"';
  }
  template <typename Int>
  void Num(Int v) {
    p_ = std::to_chars(p_, p_ + 24, v).ptr;
  }
  template <typename Int>
  void QuotedNum(Int v) {
    *p_++ = '"';
    Num(v);
    *p_++ = '"';
  }
  void Double(double v) {
    if (std::isnan(v)) {
      Lit("\"NaN\"");
    } else if (std::isinf(v)) {
      if (v > 0) {
        Lit("\"Infinity\"");
      } else {
        Lit("\"-Infinity\"");
      }
    } else {
      p_ = std::to_chars(p_, p_ + 32, v).ptr;  // shortest round-trip
    }
  }
  // Standard base64 with padding (as absl::Base64Escape).
  void Base64(std::string_view b) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const auto* p = reinterpret_cast<const unsigned char*>(b.data());
    size_t n = b.size();
    *p_++ = '"';
    for (; n >= 3; n -= 3, p += 3) {
      const uint32_t v = (p[0] << 16) | (p[1] << 8) | p[2];
      *p_++ = kAlphabet[v >> 18];
      *p_++ = kAlphabet[(v >> 12) & 63];
      *p_++ = kAlphabet[(v >> 6) & 63];
      *p_++ = kAlphabet[v & 63];
    }
    if (n > 0) {
      const uint32_t v = (p[0] << 16) | (n == 2 ? p[1] << 8 : 0);
      *p_++ = kAlphabet[v >> 18];
      *p_++ = kAlphabet[(v >> 12) & 63];
      *p_++ = n == 2 ? kAlphabet[(v >> 6) & 63] : '=';
      *p_++ = '=';
    }
    *p_++ = '"';
  }

 private:
  void Grow(size_t n) {
    const size_t used = static_cast<size_t>(p_ - s_->data());
    s_->resize(std::max(used + n, 2 * s_->size()));
    p_ = s_->data() + used;
    end_ = s_->data() + s_->size();
  }

  std::string* s_;
  size_t used_;
  char* p_;
  char* end_;
};

// Room for the punctuation and key of one member around a value.
constexpr size_t kMember = 64;

constexpr size_t Base64Size(size_t n) { return 4 * ((n + 2) / 3) + 2; }

void WriteAttributes(Out& o, absl::Span<const Attribute> attrs) {
  o.Lit("\"attributes\":[");
  bool first = true;
  for (const Attribute& a : attrs) {
    const size_t value = a.type == ValueType::kBytes    ? Base64Size(a.str.size())
                         : a.type == ValueType::kString ? MaxJsonStringSize(a.str.size())
                                                        : 32;
    o.Room(MaxJsonStringSize(a.key.size()) + value + kMember);
    if (!first) o.Char(',');
    first = false;
    o.Lit("{\"key\":");
    o.Str(a.key);
    switch (a.type) {
      case ValueType::kString:
        o.Lit(",\"value\":{\"stringValue\":");
        o.Str(a.str);
        break;
      case ValueType::kBool:
        if (a.bool_value) {
          o.Lit(",\"value\":{\"boolValue\":true");
        } else {
          o.Lit(",\"value\":{\"boolValue\":false");
        }
        break;
      case ValueType::kInt:
        o.Lit(",\"value\":{\"intValue\":");
        o.QuotedNum(a.int_value);
        break;
      case ValueType::kDouble:
        o.Lit(",\"value\":{\"doubleValue\":");
        o.Double(a.double_value);
        break;
      case ValueType::kBytes:
        o.Lit(",\"value\":{\"bytesValue\":");
        o.Base64(a.str);
        break;
      case ValueType::kStringArray:
        o.Lit(",\"value\":{\"arrayValue\":{");
        if (!a.strings.empty()) {
          o.Lit("\"values\":[");
          bool first_value = true;
          for (std::string_view v : a.strings) {
            o.Room(MaxJsonStringSize(v.size()) + kMember);
            if (!first_value) o.Char(',');
            first_value = false;
            o.Lit("{\"stringValue\":");
            o.Str(v);
            o.Char('}');
          }
          o.Room(kMember);
          o.Char(']');
        }
        o.Char('}');
        break;
    }
    o.Lit("}}");
  }
  o.Room(kMember);
  o.Char(']');
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& id) {
  uint8_t acc = 0;
  for (uint8_t b : id) acc |= b;
  return acc == 0;
}

// Room for a span's fixed-size members (ids, flags, kind, times, counts).
constexpr size_t kSpanFixed = 512;

void WriteEvent(Out& o, const Event& e) {
  o.Room(kSpanFixed + MaxJsonStringSize(e.name.size()));
  o.Char('{');
  bool first = true;
  auto sep = [&] {
    if (!first) o.Char(',');
    first = false;
  };
  if (e.time_unix_nano != 0) {
    sep();
    o.Lit("\"timeUnixNano\":");
    o.QuotedNum(e.time_unix_nano);
  }
  if (!e.name.empty()) {
    sep();
    o.Lit("\"name\":");
    o.Str(e.name);
  }
  if (!e.attributes.empty()) {
    sep();
    WriteAttributes(o, e.attributes);
  }
  o.Room(kMember);
  if (e.dropped_attributes_count != 0) {
    sep();
    o.Lit("\"droppedAttributesCount\":");
    o.Num(e.dropped_attributes_count);
  }
  o.Char('}');
}

void WriteSpan(Out& o, const SpanRecord& s) {
  o.Room(kSpanFixed + MaxJsonStringSize(s.trace_state.size()) + MaxJsonStringSize(s.name.size()));
  o.Lit("{\"traceId\":");
  o.Hex(s.trace_id);
  o.Lit(",\"spanId\":");
  o.Hex(s.span_id);
  if (!s.trace_state.empty()) {
    o.Lit(",\"traceState\":");
    o.Str(s.trace_state);
  }
  if (!AllZero(s.parent_span_id)) {
    o.Lit(",\"parentSpanId\":");
    o.Hex(s.parent_span_id);
  }
  if (s.flags != 0) {
    o.Lit(",\"flags\":");
    o.Num(s.flags);
  }
  if (!s.name.empty()) {
    o.Lit(",\"name\":");
    o.Str(s.name);
  }
  if (s.kind != SpanKind::kUnspecified) {
    o.Lit(",\"kind\":");
    o.Num(static_cast<int>(s.kind));
  }
  if (s.start_time_unix_nano != 0) {
    o.Lit(",\"startTimeUnixNano\":");
    o.QuotedNum(s.start_time_unix_nano);
  }
  if (s.end_time_unix_nano != 0) {
    o.Lit(",\"endTimeUnixNano\":");
    o.QuotedNum(s.end_time_unix_nano);
  }
  if (!s.attributes.empty()) {
    o.Char(',');
    WriteAttributes(o, s.attributes);
  }
  o.Room(kMember);
  if (s.dropped_attributes_count != 0) {
    o.Lit(",\"droppedAttributesCount\":");
    o.Num(s.dropped_attributes_count);
  }
  if (!s.events.empty()) {
    o.Lit(",\"events\":[");
    bool first = true;
    for (const Event& e : s.events) {
      if (!first) o.Char(',');
      first = false;
      WriteEvent(o, e);
    }
    o.Room(kMember);
    o.Char(']');
  }
  o.Room(kMember * 2 + MaxJsonStringSize(s.status_message.size()));
  if (s.dropped_events_count != 0) {
    o.Lit(",\"droppedEventsCount\":");
    o.Num(s.dropped_events_count);
  }
  if (s.status_code != StatusCode::kUnset || !s.status_message.empty()) {
    o.Lit(",\"status\":{");
    if (!s.status_message.empty()) {
      o.Lit("\"message\":");
      o.Str(s.status_message);
      if (s.status_code != StatusCode::kUnset) o.Char(',');
    }
    if (s.status_code != StatusCode::kUnset) {
      o.Lit("\"code\":");
      o.Num(static_cast<int>(s.status_code));
    }
    o.Char('}');
  }
  o.Char('}');
}

// One ResourceSpans object of the request's resourceSpans array.
void WriteResourceSpans(Out& o, const SpanBatch& batch) {
  o.Room(kSpanFixed);
  o.Lit("{\"resource\":{");
  if (!batch.resource_attributes.empty()) WriteAttributes(o, batch.resource_attributes);
  o.Room(kMember + MaxJsonStringSize(batch.scope_name.size()) +
         MaxJsonStringSize(batch.scope_version.size()));
  o.Lit("},\"scopeSpans\":[{\"scope\":{");
  if (!batch.scope_name.empty()) {
    o.Lit("\"name\":");
    o.Str(batch.scope_name);
  }
  if (!batch.scope_version.empty()) {
    if (!batch.scope_name.empty()) o.Char(',');
    o.Lit("\"version\":");
    o.Str(batch.scope_version);
  }
  o.Char('}');
  if (!batch.spans.empty()) {
    o.Lit(",\"spans\":[");
    bool first = true;
    for (const SpanRecord& s : batch.spans) {
      o.Room(1);
      if (!first) o.Char(',');
      first = false;
      WriteSpan(o, s);
    }
    o.Room(kMember);
    o.Char(']');
  }
  o.Room(kMember);
  o.Lit("}]}");
}

}  // namespace

void AppendJson(const SpanBatch& batch, std::string* out) {
  AppendJson(absl::Span<const SpanBatch>(&batch, 1), out);
}

void AppendJson(absl::Span<const SpanBatch> resources, std::string* out) {
  Out o(out);
  o.Room(kMember);
  if (resources.empty()) {
    o.Lit("{}");  // an empty repeated field is omitted
    o.Finish();
    return;
  }
  o.Lit("{\"resourceSpans\":[");
  bool first = true;
  for (const SpanBatch& b : resources) {
    o.Room(1);
    if (!first) o.Char(',');
    first = false;
    WriteResourceSpans(o, b);
  }
  o.Room(kMember);
  o.Lit("]}");
  o.Finish();
}

}  // namespace tracer::otlp::wire
