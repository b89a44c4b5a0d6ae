#include "otlp/otlp_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/util/json_util.h"
#include "otlp/json_string.h"

namespace tracer::otlp {
namespace {

namespace common = ::opentelemetry::proto::common::v1;
namespace trace = ::opentelemetry::proto::trace::v1;

// ---------------------------------------------------------------- encoding

// Writes JSON incrementally. `first_` tracks whether a comma is needed before
// the next member of the innermost object/array.
class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  void BeginObject() {
    Sep();
    out_->push_back('{');
    first_ = true;
  }
  void EndObject() {
    out_->push_back('}');
    first_ = false;
  }
  void BeginArray(std::string_view key) {
    Key(key);
    out_->push_back('[');
    first_ = true;
  }
  void EndArray() {
    out_->push_back(']');
    first_ = false;
  }
  // Starts a member `"key":` (the value follows).
  void Key(std::string_view key) {
    Sep();
    out_->push_back('"');
    out_->append(key);
    out_->append("\":");
    first_ = true;  // the value itself needs no separator
  }
  void String(std::string_view key, std::string_view v) {
    Key(key);
    Quoted(v);
    first_ = false;
  }
  void Hex(std::string_view key, std::string_view bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    Key(key);
    out_->push_back('"');
    for (unsigned char c : bytes) {
      out_->push_back(kDigits[c >> 4]);
      out_->push_back(kDigits[c & 0xf]);
    }
    out_->push_back('"');
    first_ = false;
  }
  void Base64(std::string_view key, std::string_view bytes) {
    Key(key);
    out_->push_back('"');
    out_->append(absl::Base64Escape(absl::string_view(bytes.data(), bytes.size())));
    out_->push_back('"');
    first_ = false;
  }
  // 64-bit integers are strings in OTLP/JSON.
  template <typename Int>
  void Int64String(std::string_view key, Int v) {
    Key(key);
    out_->push_back('"');
    AppendInt(v);
    out_->push_back('"');
    first_ = false;
  }
  template <typename Int>
  void Number(std::string_view key, Int v) {
    Key(key);
    AppendInt(v);
    first_ = false;
  }
  void Bool(std::string_view key, bool v) {
    Key(key);
    out_->append(v ? "true" : "false");
    first_ = false;
  }
  void Double(std::string_view key, double v) {
    Key(key);
    if (std::isnan(v)) {
      out_->append("\"NaN\"");
    } else if (std::isinf(v)) {
      out_->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    } else {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip
      out_->append(buf, r.ptr);
    }
    first_ = false;
  }

 private:
  void Sep() {
    if (!first_) out_->push_back(',');
  }
  template <typename Int>
  void AppendInt(Int v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    out_->append(buf, r.ptr);
  }
  // JSON string with escapes; see json_string.h.
  void Quoted(std::string_view s) { AppendJsonString(s, out_); }

  std::string* out_;
  bool first_ = true;
};

void WriteKeyValues(Writer& w, std::string_view key,
                    const google::protobuf::RepeatedPtrField<common::KeyValue>& kvs);

void WriteAnyValue(Writer& w, const common::AnyValue& v) {
  w.BeginObject();
  switch (v.value_case()) {
    case common::AnyValue::kStringValue:
      w.String("stringValue", v.string_value());
      break;
    case common::AnyValue::kBoolValue:
      w.Bool("boolValue", v.bool_value());
      break;
    case common::AnyValue::kIntValue:
      w.Int64String("intValue", v.int_value());
      break;
    case common::AnyValue::kDoubleValue:
      w.Double("doubleValue", v.double_value());
      break;
    case common::AnyValue::kArrayValue:
      w.Key("arrayValue");
      w.BeginObject();
      if (v.array_value().values_size() > 0) {
        w.BeginArray("values");
        for (const auto& e : v.array_value().values()) WriteAnyValue(w, e);
        w.EndArray();
      }
      w.EndObject();
      break;
    case common::AnyValue::kKvlistValue:
      w.Key("kvlistValue");
      w.BeginObject();
      WriteKeyValues(w, "values", v.kvlist_value().values());
      w.EndObject();
      break;
    case common::AnyValue::kBytesValue:
      w.Base64("bytesValue", v.bytes_value());
      break;
    case common::AnyValue::VALUE_NOT_SET:
      break;
  }
  w.EndObject();
}

void WriteKeyValues(Writer& w, std::string_view key,
                    const google::protobuf::RepeatedPtrField<common::KeyValue>& kvs) {
  if (kvs.empty()) return;
  w.BeginArray(key);
  for (const auto& kv : kvs) {
    w.BeginObject();
    w.String("key", kv.key());
    if (kv.has_value()) {
      w.Key("value");
      WriteAnyValue(w, kv.value());
    }
    w.EndObject();
  }
  w.EndArray();
}

template <typename Int>
void NumberIfSet(Writer& w, std::string_view key, Int v) {
  if (v != 0) w.Number(key, v);
}

void WriteStringIfSet(Writer& w, std::string_view key, const std::string& v) {
  if (!v.empty()) w.String(key, v);
}

void WriteSpan(Writer& w, const trace::Span& s) {
  w.BeginObject();
  if (!s.trace_id().empty()) w.Hex("traceId", s.trace_id());
  if (!s.span_id().empty()) w.Hex("spanId", s.span_id());
  WriteStringIfSet(w, "traceState", s.trace_state());
  if (!s.parent_span_id().empty()) w.Hex("parentSpanId", s.parent_span_id());
  NumberIfSet(w, "flags", s.flags());
  WriteStringIfSet(w, "name", s.name());
  NumberIfSet(w, "kind", static_cast<int>(s.kind()));
  if (s.start_time_unix_nano() != 0) w.Int64String("startTimeUnixNano", s.start_time_unix_nano());
  if (s.end_time_unix_nano() != 0) w.Int64String("endTimeUnixNano", s.end_time_unix_nano());
  WriteKeyValues(w, "attributes", s.attributes());
  NumberIfSet(w, "droppedAttributesCount", s.dropped_attributes_count());
  if (!s.events().empty()) {
    w.BeginArray("events");
    for (const auto& e : s.events()) {
      w.BeginObject();
      if (e.time_unix_nano() != 0) w.Int64String("timeUnixNano", e.time_unix_nano());
      WriteStringIfSet(w, "name", e.name());
      WriteKeyValues(w, "attributes", e.attributes());
      NumberIfSet(w, "droppedAttributesCount", e.dropped_attributes_count());
      w.EndObject();
    }
    w.EndArray();
  }
  NumberIfSet(w, "droppedEventsCount", s.dropped_events_count());
  if (!s.links().empty()) {
    w.BeginArray("links");
    for (const auto& l : s.links()) {
      w.BeginObject();
      if (!l.trace_id().empty()) w.Hex("traceId", l.trace_id());
      if (!l.span_id().empty()) w.Hex("spanId", l.span_id());
      WriteStringIfSet(w, "traceState", l.trace_state());
      WriteKeyValues(w, "attributes", l.attributes());
      NumberIfSet(w, "droppedAttributesCount", l.dropped_attributes_count());
      NumberIfSet(w, "flags", l.flags());
      w.EndObject();
    }
    w.EndArray();
  }
  NumberIfSet(w, "droppedLinksCount", s.dropped_links_count());
  if (s.has_status()) {
    w.Key("status");
    w.BeginObject();
    WriteStringIfSet(w, "message", s.status().message());
    NumberIfSet(w, "code", static_cast<int>(s.status().code()));
    w.EndObject();
  }
  w.EndObject();
}

// ---------------------------------------------------------------- decoding

// The Proto3 JSON parser reads the hex ids as base64. For the lengths a valid
// id can have (32 or 16 characters, multiples of 4) base64 decoding is a
// bijection, so re-encoding the decoded bytes gives back the exact text that
// was in the document; that text is then decoded as hex. Any other length
// or character set fails the hex check below.
absl::Status FixId(std::string* field, size_t want_bytes, const char* name) {
  if (field->empty()) return absl::OkStatus();
  std::string text = absl::Base64Escape(*field);
  bool ok = text.size() == want_bytes * 2;
  for (char c : text) {
    ok = ok && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("OTLP/JSON: ", name, " must be ", want_bytes * 2,
                     " hex digits (OTLP JSON encodes ids as hex, not base64)"));
  }
  *field = absl::HexStringToBytes(text);
  return absl::OkStatus();
}

}  // namespace

void AppendOtlpJson(const ExportTraceServiceRequest& request, std::string* out) {
  Writer w(out);
  w.BeginObject();
  if (!request.resource_spans().empty()) {
    w.BeginArray("resourceSpans");
    for (const auto& rs : request.resource_spans()) {
      w.BeginObject();
      if (rs.has_resource()) {
        w.Key("resource");
        w.BeginObject();
        WriteKeyValues(w, "attributes", rs.resource().attributes());
        NumberIfSet(w, "droppedAttributesCount", rs.resource().dropped_attributes_count());
        w.EndObject();
      }
      if (!rs.scope_spans().empty()) {
        w.BeginArray("scopeSpans");
        for (const auto& ss : rs.scope_spans()) {
          w.BeginObject();
          if (ss.has_scope()) {
            const auto& scope = ss.scope();
            w.Key("scope");
            w.BeginObject();
            WriteStringIfSet(w, "name", scope.name());
            WriteStringIfSet(w, "version", scope.version());
            WriteKeyValues(w, "attributes", scope.attributes());
            NumberIfSet(w, "droppedAttributesCount", scope.dropped_attributes_count());
            w.EndObject();
          }
          if (!ss.spans().empty()) {
            w.BeginArray("spans");
            for (const auto& s : ss.spans()) WriteSpan(w, s);
            w.EndArray();
          }
          WriteStringIfSet(w, "schemaUrl", ss.schema_url());
          w.EndObject();
        }
        w.EndArray();
      }
      WriteStringIfSet(w, "schemaUrl", rs.schema_url());
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
}

std::string ToOtlpJson(const ExportTraceServiceRequest& request) {
  std::string out;
  out.reserve(static_cast<size_t>(request.ByteSizeLong()) * 2 + 32);
  AppendOtlpJson(request, &out);
  return out;
}

absl::StatusOr<ExportTraceServiceRequest> FromOtlpJson(std::string_view json) {
  ExportTraceServiceRequest request;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &request, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("OTLP/JSON: ", status.ToString()));
  }
  for (auto& rs : *request.mutable_resource_spans()) {
    for (auto& ss : *rs.mutable_scope_spans()) {
      for (auto& s : *ss.mutable_spans()) {
        absl::Status st = FixId(s.mutable_trace_id(), 16, "traceId");
        if (st.ok()) st = FixId(s.mutable_span_id(), 8, "spanId");
        if (st.ok()) st = FixId(s.mutable_parent_span_id(), 8, "parentSpanId");
        for (auto& l : *s.mutable_links()) {
          if (st.ok()) st = FixId(l.mutable_trace_id(), 16, "links.traceId");
          if (st.ok()) st = FixId(l.mutable_span_id(), 8, "links.spanId");
        }
        if (!st.ok()) return st;
      }
    }
  }
  return request;
}

}  // namespace tracer::otlp
