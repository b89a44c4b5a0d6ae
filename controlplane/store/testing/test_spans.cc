#include "controlplane/store/testing/test_spans.h"

#include "otlp/semconv.h"

namespace tracer::controlplane::testing {
namespace {
std::string Be64(uint64_t n) {
  std::string out;
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
  return out;
}
}  // namespace

std::string TraceId(uint64_t n) { return std::string(8, '\x7a') + Be64(n); }
std::string SpanId(uint64_t n) { return Be64(n); }

void AddSpan(opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest* request,
             const std::string& service, uint64_t trace, uint64_t span, uint64_t parent,
             uint64_t start_ns, const std::string& name, bool error) {
  auto* rs = request->add_resource_spans();
  auto* attr = rs->mutable_resource()->add_attributes();
  attr->set_key(otlp::semconv::kServiceName);
  attr->mutable_value()->set_string_value(service);
  auto* s = rs->add_scope_spans()->add_spans();
  s->set_trace_id(TraceId(trace));
  s->set_span_id(SpanId(span));
  if (parent != 0) s->set_parent_span_id(SpanId(parent));
  s->set_name(name);
  s->set_start_time_unix_nano(start_ns);
  s->set_end_time_unix_nano(start_ns + 1000);
  if (error) {
    s->mutable_status()->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  }
}

}  // namespace tracer::controlplane::testing
