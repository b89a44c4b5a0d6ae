#include "otlp/trace_extract.h"

#include <string>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace tracer::otlp {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;
using opentelemetry::proto::trace::v1::ResourceSpans;
using opentelemetry::proto::trace::v1::ScopeSpans;
using opentelemetry::proto::trace::v1::Span;

constexpr uint32_t Bytes(int field) {
  return WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
}

// Calls `on_field(tag, value)` for each length-delimited field of the
// message `wire` (value views `wire`); skips the others. False when `wire`
// is not well-formed protobuf.
template <typename F>
bool ForEachBytesField(absl::string_view wire, F on_field) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(wire.data()), static_cast<int>(wire.size()));
  while (uint32_t tag = in.ReadTag()) {
    if (WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return false;
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) return false;
    const int at = in.CurrentPosition();
    if (length > wire.size() - static_cast<size_t>(at)) return false;
    if (!on_field(tag, wire.substr(static_cast<size_t>(at), length))) return false;
    if (!in.Skip(static_cast<int>(length))) return false;
  }
  return in.ConsumedEntireMessage();
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
