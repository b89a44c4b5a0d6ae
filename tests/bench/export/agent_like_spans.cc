#include "tests/bench/export/agent_like_spans.h"

#include <random>
#include <string>

#include "absl/strings/str_cat.h"

namespace tracer::bench {
namespace {

using ::opentelemetry::proto::common::v1::KeyValue;
using ::opentelemetry::proto::trace::v1::Span;
using ::opentelemetry::proto::trace::v1::Status;

void Str(google::protobuf::RepeatedPtrField<KeyValue>* attrs, const char* key, std::string v) {
  KeyValue* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_string_value(std::move(v));
}

void Int(google::protobuf::RepeatedPtrField<KeyValue>* attrs, const char* key, int64_t v) {
  KeyValue* kv = attrs->Add();
  kv->set_key(key);
  kv->mutable_value()->set_int_value(v);
}

std::string RandomBytes(std::mt19937_64& rng, int n) {
  std::string out(n, '\0');
  for (int i = 0; i < n; i += 8) {
    uint64_t r = rng();
    for (int j = 0; j < 8 && i + j < n; ++j) out[i + j] = static_cast<char>(r >> (8 * j));
  }
  return out;
}

constexpr const char* kSyscalls[] = {"read",  "write", "openat",   "close",
                                     "fstat", "mmap",  "recvfrom", "sendto"};

}  // namespace

otlp::ExportTraceServiceRequest MakeAgentLikeRequest(int spans, uint64_t seed,
                                                     uint64_t start_unix_ns) {
  std::mt19937_64 rng(seed);
  otlp::ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* res = rs->mutable_resource()->mutable_attributes();
  const int64_t pid = 1000 + static_cast<int64_t>(seed % 30000);
  Str(res, "service.name", "nginx");
  Str(res, "host.name", "node-17.example.internal");
  Str(res, "os.type", "linux");
  Int(res, "process.pid", pid);
  Int(res, "process.parent_pid", 1);
  Str(res, "process.executable.path", "/usr/sbin/nginx");
  Str(res, "process.command_line", "nginx: worker process");
  Str(res, "telemetry.sdk.name", "tracer");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("tracer-agent");
  ss->mutable_scope()->set_version("0.1");
  ss->mutable_spans()->Reserve(spans);

  std::string trace_id, root_id;
  for (int i = 0; i < spans; ++i) {
    Span* s = ss->add_spans();
    if (i % 8 == 0) {
      trace_id = RandomBytes(rng, 16);
      root_id = RandomBytes(rng, 8);
      s->set_span_id(root_id);
    } else {
      s->set_span_id(RandomBytes(rng, 8));
      s->set_parent_span_id(root_id);
    }
    s->set_trace_id(trace_id);
    const uint64_t start = start_unix_ns + static_cast<uint64_t>(i) * 1000;
    const uint64_t dur_ns = 2000 + rng() % 500000;
    s->set_start_time_unix_nano(start);
    s->set_end_time_unix_nano(start + dur_ns);
    auto* a = s->mutable_attributes();
    a->Reserve(10);
    if (i % 4 == 3) {
      const int item = static_cast<int>(rng() % 10000);
      s->set_name(absl::StrCat("GET /api/items/", item));
      s->set_kind(Span::SPAN_KIND_SERVER);
      Str(a, "http.request.method", "GET");
      Str(a, "url.path", absl::StrCat("/api/items/", item));
      Str(a, "url.scheme", "http");
      Int(a, "http.response.status_code", 200);
      Str(a, "server.address", "10.0.3.17");
      Int(a, "server.port", 8080);
      Str(a, "client.address", "10.0.7.201");
      Str(a, "network.peer.address", "10.0.7.201");
      Str(a, "network.protocol.version", "1.1");
      Str(a, "user_agent.original", "curl/7.88.1");
    } else {
      const int which = static_cast<int>(rng() % 8);
      const int fd = 3 + static_cast<int>(rng() % 60);
      s->set_name(kSyscalls[which]);
      s->set_kind(Span::SPAN_KIND_INTERNAL);
      const bool failed = i % 16 == 5;
      Str(a, "syscall.name", kSyscalls[which]);
      Int(a, "syscall.number", which);
      Str(a, "syscall.args",
          absl::StrCat(fd, ", \"GET /api/items HTTP/1.1\\r\\nHost: ...\", 4096"));
      Int(a, "syscall.result", failed ? -2 : static_cast<int64_t>(rng() % 4096));
      Int(a, "syscall.duration_us", static_cast<int64_t>(dur_ns / 1000));
      Int(a, "thread.id", pid + static_cast<int64_t>(rng() % 4));
      Int(a, "process.pid", pid);
      Str(a, "process.executable.name", "nginx");
      Str(a, "fd.path", absl::StrCat("socket:[", 40000 + fd, "]"));
      Str(a, "tracer.session.id", "s-7f3a9c");
      if (failed) {
        s->mutable_status()->set_code(Status::STATUS_CODE_ERROR);
        s->mutable_status()->set_message("ENOENT");
      }
    }
  }
  return req;
}

}  // namespace tracer::bench
