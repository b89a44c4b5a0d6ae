// A minimal OTLP receiver for the export benchmark: accepts
// TraceService/Export over gRPC (raw bytes, no message objects) and
// POST /v1/traces over HTTP/1.1 (civetweb; application/x-protobuf, gzip or
// identity), counts the spans by walking the wire format
// (wire_span_count.h) and answers an empty ExportTraceServiceResponse. It
// costs far less per span than any exporter, so it is not what the benchmark
// measures. GET /stats (on the HTTP port) returns
//   {"spans":N,"requests":N,"bytes":N,"errors":N,"gzip_requests":N,"cpu_s":F}
// where bytes are request bodies as received over HTTP (compressed when
// gzip) and as delivered by gRPC (already decompressed), gzip_requests counts
// requests that arrived gzip-compressed (Content-Encoding / grpc-encoding),
// and cpu_s is this process's user+sys CPU time so far.
//
// Usage: sink_receiver [--grpc_port=0] [--http_port=0] [--ready_file=F]
// Port 0 picks a free port; --ready_file receives {"grpc":P,"http":P,"pid":N}
// once both listen. Runs until SIGTERM or SIGINT. Loopback only.
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "civetweb.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "grpcpp/grpcpp.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "tests/bench/export/wire_span_count.h"
#include "tests/testing/gunzip.h"

DEFINE_int32(grpc_port, 0, "OTLP/gRPC port on 127.0.0.1 (0 = pick one)");
DEFINE_int32(http_port, 0, "OTLP/HTTP port on 127.0.0.1 (0 = pick one)");
DEFINE_string(ready_file, "", "written with the ports once listening");

namespace tracer::bench {
namespace {

using ::opentelemetry::proto::collector::trace::v1::TraceService;

struct Stats {
  std::atomic<int64_t> spans{0}, requests{0}, bytes{0}, errors{0}, gzip_requests{0};

  void Count(absl::string_view body, size_t wire_bytes) {
    auto n = CountSpansOnTheWire(body);
    if (!n.ok()) {
      errors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    spans.fetch_add(*n, std::memory_order_relaxed);
    requests.fetch_add(1, std::memory_order_relaxed);
    bytes.fetch_add(static_cast<int64_t>(wire_bytes), std::memory_order_relaxed);
  }
};

Stats stats;

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// gRPC: the raw-bytes form of the generated service (no parsing by gRPC).
class GrpcSink final : public TraceService::WithRawCallbackMethod_Export<TraceService::Service> {
 public:
  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                   grpc::ByteBuffer* resp) override {
    // gRPC has already decompressed the message; grpc-encoding says whether
    // the client compressed it.
    auto enc = ctx->client_metadata().find("grpc-encoding");
    if (enc != ctx->client_metadata().end() && enc->second == "gzip") stats.gzip_requests++;
    thread_local std::string body;
    body.clear();
    std::vector<grpc::Slice> slices;
    grpc::Status st = req->Dump(&slices);
    if (st.ok()) {
      for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
      stats.Count(body, body.size());
    } else {
      stats.errors.fetch_add(1);
    }
    grpc::Slice empty("", 0);  // an empty ExportTraceServiceResponse
    *resp = grpc::ByteBuffer(&empty, 1);
    grpc::ServerUnaryReactor* r = ctx->DefaultReactor();
    r->Finish(st.ok() ? grpc::Status::OK
                      : grpc::Status(grpc::StatusCode::INTERNAL, "unreadable request"));
    return r;
  }
};

int OnTraces(mg_connection* c, void*) {
  const mg_request_info* ri = mg_get_request_info(c);
  if (std::strcmp(ri->request_method, "POST") != 0) {
    mg_send_http_error(c, 405, "POST only");
    return 405;
  }
  // Read straight into the body (civetweb's worker stacks are small).
  thread_local std::string body, plain;
  size_t have = 0;
  body.resize(ri->content_length > 0 ? static_cast<size_t>(ri->content_length) : 64 << 10);
  while (true) {
    if (have == body.size()) body.resize(body.size() * 2);
    const int n = mg_read(c, body.data() + have, body.size() - have);
    if (n <= 0) break;
    have += static_cast<size_t>(n);
  }
  body.resize(have);
  const char* enc = mg_get_header(c, "Content-Encoding");
  if (enc != nullptr && std::strcmp(enc, "gzip") == 0) {
    stats.gzip_requests++;
    if (!testing::Gunzip(body, &plain)) {
      stats.errors.fetch_add(1);
      mg_send_http_error(c, 400, "bad gzip body");
      return 400;
    }
    stats.Count(plain, body.size());
  } else {
    stats.Count(body, body.size());
  }
  mg_send_http_ok(c, "application/x-protobuf", 0);
  return 200;
}

int OnStats(mg_connection* c, void*) {
  const std::string json = absl::StrCat(
      "{\"spans\":", stats.spans.load(), ",\"requests\":", stats.requests.load(),
      ",\"bytes\":", stats.bytes.load(), ",\"errors\":", stats.errors.load(),
      ",\"gzip_requests\":", stats.gzip_requests.load(), ",\"cpu_s\":", CpuSeconds(), "}");
  mg_send_http_ok(c, "application/json", static_cast<long long>(json.size()));
  mg_write(c, json.data(), json.size());
  return 200;
}

int Main() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // inherited by every thread started below

  GrpcSink sink;
  int grpc_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat("127.0.0.1:", FLAGS_grpc_port),
                           grpc::InsecureServerCredentials(), &grpc_port);
  builder.SetMaxReceiveMessageSize(256 << 20);
  builder.RegisterService(&sink);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  CHECK(server != nullptr && grpc_port > 0) << "cannot listen on gRPC port " << FLAGS_grpc_port;

  mg_init_library(0);
  const std::string ports = absl::StrCat("127.0.0.1:", FLAGS_http_port);
  // keep_alive_timeout_ms: keep idle connections open while a slow client
  // builds its next request (civetweb closes them after 500 ms by default,
  // racing a client that reuses the connection: "socket hang up").
  const char* options[] = {"listening_ports",
                           ports.c_str(),
                           "num_threads",
                           "4",
                           "enable_keep_alive",
                           "yes",
                           "keep_alive_timeout_ms",
                           "120000",
                           "tcp_nodelay",
                           "1",
                           "request_timeout_ms",
                           "60000",
                           nullptr};
  mg_callbacks callbacks{};
  mg_context* ctx = mg_start(&callbacks, nullptr, options);
  CHECK(ctx != nullptr) << "cannot listen on HTTP port " << FLAGS_http_port;
  mg_set_request_handler(ctx, "/v1/traces", OnTraces, nullptr);
  mg_set_request_handler(ctx, "/stats", OnStats, nullptr);
  mg_server_port http_ports[1]{};
  CHECK_EQ(mg_get_server_ports(ctx, 1, http_ports), 1);
  const int http_port = http_ports[0].port;
  CHECK_GT(http_port, 0);

  const std::string ready =
      absl::StrCat("{\"grpc\":", grpc_port, ",\"http\":", http_port, ",\"pid\":", getpid(), "}");
  if (!FLAGS_ready_file.empty()) {
    const std::string tmp = FLAGS_ready_file + ".tmp";
    std::ofstream(tmp) << ready;
    CHECK_EQ(std::rename(tmp.c_str(), FLAGS_ready_file.c_str()), 0);
  }
  std::fprintf(stderr, "sink_receiver: listening %s\n", ready.c_str());

  int sig = 0;
  sigwait(&stop, &sig);
  mg_stop(ctx);
  server->Shutdown();
  return 0;
}

}  // namespace
}  // namespace tracer::bench

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  return tracer::bench::Main();
}
