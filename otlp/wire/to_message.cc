#include "otlp/wire/to_message.h"

#include <string>

namespace tracer::otlp::wire {
namespace {

namespace common = ::opentelemetry::proto::common::v1;
namespace trace = ::opentelemetry::proto::trace::v1;

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& id) {
  for (uint8_t b : id) {
    if (b != 0) return false;
  }
  return true;
}

template <size_t N>
std::string IdBytes(const std::array<uint8_t, N>& id) {
  return std::string(reinterpret_cast<const char*>(id.data()), N);
}

void AddAttributes(absl::Span<const Attribute> attrs,
                   google::protobuf::RepeatedPtrField<common::KeyValue>* out) {
  out->Reserve(static_cast<int>(attrs.size()));
  for (const Attribute& a : attrs) {
    common::KeyValue* kv = out->Add();
    kv->set_key(std::string(a.key));
    common::AnyValue* v = kv->mutable_value();
    switch (a.type) {
      case ValueType::kString:
        v->set_string_value(std::string(a.str));
        break;
      case ValueType::kInt:
        v->set_int_value(a.int_value);
        break;
      case ValueType::kDouble:
        v->set_double_value(a.double_value);
        break;
      case ValueType::kBool:
        v->set_bool_value(a.bool_value);
        break;
      case ValueType::kBytes:
        v->set_bytes_value(std::string(a.str));
        break;
      case ValueType::kStringArray: {
        common::ArrayValue* array = v->mutable_array_value();
        for (std::string_view e : a.strings) array->add_values()->set_string_value(std::string(e));
        break;
      }
    }
  }
}

void AddResourceSpans(const SpanBatch& batch, ExportTraceServiceRequest* req) {
  auto* rs = req->add_resource_spans();
  AddAttributes(batch.resource_attributes, rs->mutable_resource()->mutable_attributes());
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name(std::string(batch.scope_name));
  ss->mutable_scope()->set_version(std::string(batch.scope_version));
  ss->mutable_spans()->Reserve(static_cast<int>(batch.spans.size()));
  for (const SpanRecord& r : batch.spans) ToMessage(r, ss->add_spans());
}

}  // namespace

void ToMessage(const SpanRecord& r, trace::Span* s) {
  s->Clear();
  s->set_trace_id(IdBytes(r.trace_id));
  s->set_span_id(IdBytes(r.span_id));
  if (!r.trace_state.empty()) s->set_trace_state(std::string(r.trace_state));
  if (!AllZero(r.parent_span_id)) s->set_parent_span_id(IdBytes(r.parent_span_id));
  s->set_flags(r.flags);
  s->set_name(std::string(r.name));
  s->set_kind(static_cast<trace::Span::SpanKind>(r.kind));
  s->set_start_time_unix_nano(r.start_time_unix_nano);
  s->set_end_time_unix_nano(r.end_time_unix_nano);
  AddAttributes(r.attributes, s->mutable_attributes());
  s->set_dropped_attributes_count(r.dropped_attributes_count);
  for (const Event& e : r.events) {
    trace::Span::Event* ev = s->add_events();
    ev->set_time_unix_nano(e.time_unix_nano);
    ev->set_name(std::string(e.name));
    AddAttributes(e.attributes, ev->mutable_attributes());
    ev->set_dropped_attributes_count(e.dropped_attributes_count);
  }
  s->set_dropped_events_count(r.dropped_events_count);
  if (r.status_code != StatusCode::kUnset || !r.status_message.empty()) {
    s->mutable_status()->set_code(static_cast<trace::Status::StatusCode>(r.status_code));
    s->mutable_status()->set_message(std::string(r.status_message));
  }
}

ExportTraceServiceRequest* ToMessage(const SpanBatch& batch, google::protobuf::Arena* arena) {
  return ToMessage(absl::Span<const SpanBatch>(&batch, 1), arena);
}

ExportTraceServiceRequest* ToMessage(absl::Span<const SpanBatch> resources,
                                     google::protobuf::Arena* arena) {
  auto* req = google::protobuf::Arena::CreateMessage<ExportTraceServiceRequest>(arena);
  req->mutable_resource_spans()->Reserve(static_cast<int>(resources.size()));
  for (const SpanBatch& b : resources) AddResourceSpans(b, req);
  return req;
}

}  // namespace tracer::otlp::wire
