#include "otlp/trace_extract.h"

#include <string>

#include "google/protobuf/wire_format_lite.h"

namespace tracer::otlp {
namespace {

using google::protobuf::internal::WireFormatLite;
using opentelemetry::proto::trace::v1::ResourceSpans;
using opentelemetry::proto::trace::v1::ScopeSpans;
using opentelemetry::proto::trace::v1::Span;

constexpr uint32_t Bytes(int field) {
  return WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
}

// A cursor over protobuf wire format (encoding.md): varints, the four
// wire types, and groups (skipped whole, as the parser skips unknown ones).
class WireReader {
 public:
  explicit WireReader(absl::string_view wire) : p_(wire.data()), end_(wire.data() + wire.size()) {}

  bool done() const { return p_ == end_; }

  bool ReadVarint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t b = static_cast<uint8_t>(*p_++);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }

  // Reads a length-delimited value into `value` (a view of the input).
  bool ReadBytes(absl::string_view* value) {
    uint64_t length = 0;
    if (!ReadVarint(&length) || length > static_cast<uint64_t>(end_ - p_)) return false;
    *value = absl::string_view(p_, static_cast<size_t>(length));
    p_ += length;
    return true;
  }

  // Skips the value of a field with tag `tag`.
  bool Skip(uint64_t tag, int depth = 0) {
    absl::string_view ignored;
    uint64_t v = 0;
    switch (tag & 7) {
      case WireFormatLite::WIRETYPE_VARINT:
        return ReadVarint(&v);
      case WireFormatLite::WIRETYPE_FIXED64:
        return Advance(8);
      case WireFormatLite::WIRETYPE_LENGTH_DELIMITED:
        return ReadBytes(&ignored);
      case WireFormatLite::WIRETYPE_FIXED32:
        return Advance(4);
      case WireFormatLite::WIRETYPE_START_GROUP: {
        if (depth > 64) return false;
        const uint64_t end_tag = (tag & ~uint64_t{7}) | WireFormatLite::WIRETYPE_END_GROUP;
        while (ReadVarint(&v)) {
          if (v == end_tag) return true;
          if (!Skip(v, depth + 1)) return false;
        }
        return false;
      }
      default:
        return false;
    }
  }

 private:
  bool Advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

  const char* p_;
  const char* const end_;
};

// Calls `on_field(tag, value)` for each length-delimited field of the
// message `wire` (value views `wire`); skips the others. False when `wire`
// is not well-formed protobuf or `on_field` returns false.
template <typename F>
bool ForEachBytesField(absl::string_view wire, F on_field) {
  WireReader in(wire);
  while (!in.done()) {
    uint64_t tag = 0;
    if (!in.ReadVarint(&tag) || (tag >> 3) == 0 || tag > UINT32_MAX) return false;
    if ((tag & 7) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!in.Skip(tag)) return false;
      continue;
    }
    absl::string_view value;
    if (!in.ReadBytes(&value) || !on_field(static_cast<uint32_t>(tag), value)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<ResourceSpans>> ExtractTraceSpans(
    absl::string_view batch, absl::string_view trace_id,
    const std::function<bool(absl::string_view span_id)>& want) {
  std::vector<ResourceSpans> out;
  bool damaged = false;
  const bool framed = ForEachBytesField(batch, [&](uint32_t tag, absl::string_view rs_wire) {
    if (tag != Bytes(1)) return true;  // ExportTraceServiceRequest.resource_spans
    std::string resource, rs_schema;
    const size_t first = out.size();
    const bool rs_ok = ForEachBytesField(rs_wire, [&](uint32_t tag, absl::string_view field) {
      if (tag == Bytes(1)) resource.append(field.data(), field.size());   // resource
      if (tag == Bytes(3)) rs_schema.assign(field.data(), field.size());  // schema_url
      if (tag != Bytes(2)) return true;                                   // scope_spans
      std::string scope, ss_schema;
      ScopeSpans found;
      const bool ss_ok = ForEachBytesField(field, [&](uint32_t tag, absl::string_view f) {
        if (tag == Bytes(1)) scope.append(f.data(), f.size());
        if (tag == Bytes(3)) ss_schema.assign(f.data(), f.size());
        if (tag != Bytes(2)) return true;  // spans
        absl::string_view span_trace, span_id;
        const bool span_ok = ForEachBytesField(f, [&](uint32_t tag, absl::string_view id) {
          if (tag == Bytes(1)) span_trace = id;
          if (tag == Bytes(2)) span_id = id;
          return true;
        });
        if (!span_ok) return false;
        if (span_trace != trace_id || (want && !want(span_id))) return true;
        Span* span = found.add_spans();
        if (!span->ParseFromArray(f.data(), static_cast<int>(f.size()))) damaged = true;
        return !damaged;
      });
      if (!ss_ok) return false;
      if (found.spans_size() == 0) return true;
      if (!found.mutable_scope()->ParseFromString(scope)) {
        damaged = true;
        return false;
      }
      found.set_schema_url(ss_schema);
      *out.emplace_back().add_scope_spans() = std::move(found);
      return true;
    });
    if (!rs_ok) return false;
    if (out.size() == first) return true;
    opentelemetry::proto::resource::v1::Resource parsed;
    if (!parsed.ParseFromString(resource)) {
      damaged = true;
      return false;
    }
    for (size_t i = first; i < out.size(); ++i) {
      *out[i].mutable_resource() = parsed;
      out[i].set_schema_url(rs_schema);
    }
    return true;
  });
  if (!framed || damaged) {
    return absl::DataLossError("batch is not a well-formed ExportTraceServiceRequest");
  }
  return out;
}

}  // namespace tracer::otlp
