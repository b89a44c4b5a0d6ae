#include "otlp/test_requests.h"

#include <limits>
#include <string>

namespace tracer::otlp::testing {
namespace {

namespace common = ::opentelemetry::proto::common::v1;
namespace trace = ::opentelemetry::proto::trace::v1;

std::string Id(uint8_t first, size_t n) {
  std::string id(n, '\0');
  for (size_t i = 0; i < n; ++i) id[i] = static_cast<char>(first + i * 17);
  return id;
}

common::KeyValue* Add(google::protobuf::RepeatedPtrField<common::KeyValue>* kvs,
                      const std::string& key) {
  common::KeyValue* kv = kvs->Add();
  kv->set_key(key);
  return kv;
}

void AddString(google::protobuf::RepeatedPtrField<common::KeyValue>* kvs, const std::string& key,
               const std::string& v) {
  Add(kvs, key)->mutable_value()->set_string_value(v);
}

void AddInt(google::protobuf::RepeatedPtrField<common::KeyValue>* kvs, const std::string& key,
            int64_t v) {
  Add(kvs, key)->mutable_value()->set_int_value(v);
}

}  // namespace

ExportTraceServiceRequest MakeRichRequest(Fields fields) {
  const bool all = fields == Fields::kAll;
  ExportTraceServiceRequest req;
  const std::string trace_a = Id(0x4b, 16);
  const std::string trace_b = Id(0x01, 16);

  // Resource 1: a process with a span tree.
  auto* rs1 = req.add_resource_spans();
  auto* res1 = rs1->mutable_resource();
  AddString(res1->mutable_attributes(), "service.name", "cat");
  AddString(res1->mutable_attributes(), "host.name", "node-1");
  AddInt(res1->mutable_attributes(), "process.pid", 4242);
  res1->set_dropped_attributes_count(1);
  if (all) rs1->set_schema_url("https://opentelemetry.io/schemas/1.24.0");

  auto* ss1 = rs1->add_scope_spans();
  ss1->mutable_scope()->set_name("tracer.agent");
  ss1->mutable_scope()->set_version("0.1.0");
  if (all) {
    AddString(ss1->mutable_scope()->mutable_attributes(), "scope.kind", "syscall");
    ss1->set_schema_url("https://opentelemetry.io/schemas/1.24.0");
  }

  trace::Span* root = ss1->add_spans();
  root->set_trace_id(trace_a);
  root->set_span_id(Id(0xa0, 8));
  root->set_name("cat");
  root->set_kind(trace::Span::SPAN_KIND_INTERNAL);
  root->set_start_time_unix_nano(1700000000123456789ULL);
  root->set_end_time_unix_nano(1700000001987654321ULL);
  root->set_trace_state("vendor=a,other=b");
  if (all) root->set_flags(0x101);
  AddInt(root->mutable_attributes(), "process.exit.code", 0);
  root->mutable_status()->set_code(trace::Status::STATUS_CODE_OK);

  trace::Span* child = ss1->add_spans();
  child->set_trace_id(trace_a);
  child->set_span_id(Id(0xb0, 8));
  child->set_parent_span_id(root->span_id());
  child->set_name("openat");
  child->set_kind(trace::Span::SPAN_KIND_INTERNAL);
  child->set_start_time_unix_nano(1700000000200000000ULL);
  child->set_end_time_unix_nano(1700000000200001500ULL);
  auto* attrs = child->mutable_attributes();
  AddString(attrs, "syscall.name", "openat");
  AddInt(attrs, "syscall.number", 257);
  AddString(attrs, "syscall.args", "AT_FDCWD, \"/etc/h\\\"ost\tname\", O_RDONLY|O_CLOEXEC");
  AddInt(attrs, "syscall.result", -2);
  AddInt(attrs, "int.max", std::numeric_limits<int64_t>::max());
  AddInt(attrs, "int.min", std::numeric_limits<int64_t>::min());
  Add(attrs, "bool.true")->mutable_value()->set_bool_value(true);
  Add(attrs, "bool.false")->mutable_value()->set_bool_value(false);
  Add(attrs, "double.pi")->mutable_value()->set_double_value(3.141592653589793);
  Add(attrs, "double.small")->mutable_value()->set_double_value(-1.5e-300);
  Add(attrs, "double.zero")->mutable_value()->set_double_value(0.0);
  Add(attrs, "string.empty")->mutable_value()->set_string_value("");
  AddString(attrs, "string.utf8", "gr\xc3\xbc\xc3\x9f dich \xe2\x9c\x93 \xf0\x9f\x90\x9d");
  AddString(attrs, "string.control",
            std::string("a\x01"
                        "b\nc\x7f",
                        6));
  auto* arr = Add(attrs, "array")->mutable_value()->mutable_array_value();
  arr->add_values()->set_string_value("x");
  arr->add_values()->set_int_value(7);
  arr->add_values()->set_bool_value(true);
  arr->add_values()->set_double_value(0.25);
  arr->add_values()->mutable_array_value()->add_values()->set_string_value("nested");
  auto* kvl = Add(attrs, "kvlist")->mutable_value()->mutable_kvlist_value();
  AddString(kvl->mutable_values(), "inner.s", "v");
  AddInt(kvl->mutable_values(), "inner.i", 1);
  if (all) Add(attrs, "bytes")->mutable_value()->set_bytes_value(std::string("\x00\xff\x10", 3));
  child->set_dropped_attributes_count(2);
  child->mutable_status()->set_code(trace::Status::STATUS_CODE_ERROR);
  child->mutable_status()->set_message("ENOENT");

  trace::Span* grandchild = ss1->add_spans();
  grandchild->set_trace_id(trace_a);
  grandchild->set_span_id(Id(0xc0, 8));
  grandchild->set_parent_span_id(child->span_id());
  grandchild->set_name("GET /index.html");
  grandchild->set_kind(trace::Span::SPAN_KIND_CLIENT);
  grandchild->set_start_time_unix_nano(1700000000300000000ULL);
  grandchild->set_end_time_unix_nano(1700000000400000000ULL);
  auto* ev = grandchild->add_events();
  ev->set_time_unix_nano(1700000000350000000ULL);
  ev->set_name("exception");
  AddString(ev->mutable_attributes(), "exception.message", "boom");
  ev->set_dropped_attributes_count(3);
  grandchild->add_events()->set_name("no-time");
  grandchild->set_dropped_events_count(4);
  auto* link = grandchild->add_links();
  link->set_trace_id(trace_b);
  link->set_span_id(Id(0xd0, 8));
  link->set_trace_state("k=v");
  AddString(link->mutable_attributes(), "link.reason", "follows");
  link->set_dropped_attributes_count(5);
  if (all) link->set_flags(1);
  grandchild->set_dropped_links_count(6);

  // Second scope of resource 1: a server span, unset status.
  auto* ss2 = rs1->add_scope_spans();
  ss2->mutable_scope()->set_name("tracer.http");
  trace::Span* server = ss2->add_spans();
  server->set_trace_id(trace_b);
  server->set_span_id(Id(0xe0, 8));
  server->set_parent_span_id(Id(0xf0, 8));  // remote parent
  server->set_name("GET /api");
  server->set_kind(trace::Span::SPAN_KIND_SERVER);
  server->set_start_time_unix_nano(1);
  server->set_end_time_unix_nano(2);
  AddInt(server->mutable_attributes(), "http.response.status_code", 200);

  // Resource 2: another process, one error span of another kind.
  auto* rs2 = req.add_resource_spans();
  AddString(rs2->mutable_resource()->mutable_attributes(), "service.name", "curl");
  auto* ss3 = rs2->add_scope_spans();
  ss3->mutable_scope()->set_name("tracer.agent");
  trace::Span* err = ss3->add_spans();
  err->set_trace_id(trace_b);
  err->set_span_id(Id(0x11, 8));
  err->set_parent_span_id(server->span_id());
  err->set_name("connect");
  err->set_kind(trace::Span::SPAN_KIND_PRODUCER);
  err->set_start_time_unix_nano(1800000000000000000ULL);
  // Largest value every OTLP decoder reads back: protobufjs' fromObject
  // turns fixed64 strings >= 2^63 negative (the unit tests cover 2^64-1).
  err->set_end_time_unix_nano(9223372036854775807ULL);
  err->mutable_status()->set_code(trace::Status::STATUS_CODE_ERROR);
  err->mutable_status()->set_message("ECONNREFUSED: \"refused\"");
  return req;
}

ExportTraceServiceRequest MakeSyscallRequest(int spans, uint64_t seed) {
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  AddString(rs->mutable_resource()->mutable_attributes(), "service.name", "dd");
  AddInt(rs->mutable_resource()->mutable_attributes(), "process.pid", 1234);
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("tracer.agent");
  std::string trace_id = Id(static_cast<uint8_t>(seed), 16);
  for (int i = 0; i < spans; ++i) {
    trace::Span* s = ss->add_spans();
    uint64_t n = seed * 1000003 + i + 1;
    s->set_trace_id(trace_id);
    s->set_span_id(std::string(reinterpret_cast<const char*>(&n), 8));
    s->set_parent_span_id(Id(0x77, 8));
    s->set_name("read");
    s->set_kind(trace::Span::SPAN_KIND_INTERNAL);
    s->set_start_time_unix_nano(1700000000000000000ULL + i * 1000);
    s->set_end_time_unix_nano(1700000000000000000ULL + i * 1000 + 850);
    AddString(s->mutable_attributes(), "syscall.name", "read");
    AddInt(s->mutable_attributes(), "syscall.number", 0);
    AddString(s->mutable_attributes(), "syscall.args", "0, \"\\0\\0\\0\\0\"..., 1");
    AddInt(s->mutable_attributes(), "syscall.result", 1);
    AddInt(s->mutable_attributes(), "syscall.duration_us", 0);
    AddInt(s->mutable_attributes(), "thread.id", 1234);
  }
  return req;
}

}  // namespace tracer::otlp::testing
