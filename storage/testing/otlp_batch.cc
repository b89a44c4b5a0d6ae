#include "storage/testing/otlp_batch.h"

#include <string>

#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace tracer::storage::testing {
namespace {

namespace otelpb = ::opentelemetry::proto;

void SetString(otelpb::common::v1::KeyValue* kv, const std::string& key, const std::string& value) {
  kv->set_key(key);
  kv->mutable_value()->set_string_value(value);
}

void SetInt(otelpb::common::v1::KeyValue* kv, const std::string& key, int64_t value) {
  kv->set_key(key);
  kv->mutable_value()->set_int_value(value);
}

std::string Bytes(uint64_t a, uint64_t b, size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    const uint64_t word = i < 8 ? a : b;
    out[i] = static_cast<char>((word >> (8 * (i % 8))) | 1);
  }
  return out;
}

}  // namespace

std::string MakeOtlpBatch(uint64_t id, uint32_t spans) {
  otelpb::trace::v1::ResourceSpans rs;
  auto* resource = rs.mutable_resource();
  SetString(resource->add_attributes(), "service.name", "cat");
  SetString(resource->add_attributes(), "host.name", "node-1");
  SetInt(resource->add_attributes(), "process.pid", 4000 + id % 1000);
  auto* scope_spans = rs.add_scope_spans();
  scope_spans->mutable_scope()->set_name("tracer.syscalls");
  static const char* const kNames[] = {"openat", "read", "write", "close", "mmap", "fstat"};
  const uint64_t base_ns = 1700000000000000000ull + id * 1000000ull;
  for (uint32_t i = 0; i < spans; ++i) {
    auto* span = scope_spans->add_spans();
    span->set_trace_id(Bytes(id * 0x9E3779B97F4A7C15ull, id + 1, 16));
    span->set_span_id(Bytes(id * 1000003ull + i + 1, 0, 8));
    span->set_parent_span_id(Bytes(id * 1000003ull + 1, 0, 8));
    span->set_name(kNames[(id + i) % 6]);
    span->set_kind(otelpb::trace::v1::Span::SPAN_KIND_INTERNAL);
    span->set_start_time_unix_nano(base_ns + i * 1000ull);
    span->set_end_time_unix_nano(base_ns + i * 1000ull + 250 + i % 97);
    SetString(span->add_attributes(), "syscall.args", "3, \"/etc/ld.so.cache\", O_RDONLY");
    SetInt(span->add_attributes(), "syscall.result", (id + i) % 7);
    SetInt(span->add_attributes(), "thread.id", 4000 + i % 4);
  }
  return rs.SerializeAsString();
}

int64_t CountOtlpSpans(const std::string& payload) {
  otelpb::trace::v1::ResourceSpans rs;
  if (!rs.ParseFromString(payload)) return -1;
  int64_t n = 0;
  for (const auto& ss : rs.scope_spans()) n += ss.spans_size();
  return n;
}

}  // namespace tracer::storage::testing
