// Export throughput of our OTLP exporters (otlp/, built with CreateExporter
// exactly as the control plane's fan-out builds them): sends
// --spans spans in requests of --spans_per_request agent-like spans
// (agent_like_spans.h) to --endpoint, one request at a time as one fan-out
// backend does, and prints one JSON line:
//   {"impl":"ours","protocol":..,"gzip":..,"spans_per_request":..,
//    "requests":..,"spans":..,"wall_s":..,"cpu_s":..,"user_s":..,"sys_s":..,
//    "spans_per_s":..,"spans_per_cpu_s":..,"peak_rss_kb":..,
//    "serialize_cpu_s":..,"request_bytes":..,"gzip_1":{"cpu_s":..,"bytes":..},..}
// cpu_s is this process's user+sys CPU time (getrusage, all threads: gRPC's
// and curl's included) over the timed loop only; spans_per_cpu_s = spans /
// cpu_s ("per core"). peak_rss_kb is the process's maximum RSS (ru_maxrss),
// which includes the pre-built requests. With --breakdown, serialize_cpu_s
// is the CPU time of serializing the same requests without sending them,
// request_bytes their mean size, and with --gzip each gzip_L the CPU time
// and mean compressed size of gzipping them at zlib level L
// (--gzip_levels), all measured after the timed loop.
//
// Requests are built before timing (--distinct different ones, sent in
// rotation), so what is timed is Export(): serialization, compression,
// transport and waiting for the receiver's answer. Exits 1 on any export
// error.
#include <sys/resource.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gflags/gflags.h"
#include "otlp/config.h"
#include "otlp/create_exporter.h"
#include "otlp/otlp_http_exporter.h"
#include "tests/bench/export/agent_like_spans.h"
#include "tests/bench/export/process_usage.h"

DEFINE_string(endpoint, "", "receiver: host:port (gRPC) or http://host:port/v1/traces");
DEFINE_string(protocol, "grpc", "grpc, http/protobuf or http/json");
DEFINE_bool(gzip, false, "gzip-compress requests");
DEFINE_int32(spans_per_request, 512, "spans per ExportTraceServiceRequest");
DEFINE_int64(spans, 262144, "spans to send in the timed loop (rounded up to whole requests)");
DEFINE_int32(distinct, 4, "different requests built and sent in rotation");
DEFINE_int32(warmup_requests, 2, "requests sent before timing (connection set-up)");
DEFINE_bool(breakdown, false, "also time serialization and gzip alone");
DEFINE_string(gzip_levels, "1,6",
              "with --breakdown --gzip: zlib levels whose CPU and size are reported");

namespace tracer::bench {
namespace {

int Main() {
  if (FLAGS_endpoint.empty()) {
    std::fprintf(stderr, "export_throughput: --endpoint is required\n");
    return 2;
  }
  auto protocol = otlp::ParseProtocol(FLAGS_protocol);
  if (!protocol.ok()) {
    std::fprintf(stderr, "export_throughput: %s\n", protocol.status().ToString().c_str());
    return 2;
  }
  otlp::ExporterConfig config;
  config.protocol = *protocol;
  config.endpoint = FLAGS_endpoint;
  config.insecure = true;
  config.timeout = absl::Seconds(60);
  config.compression = FLAGS_gzip ? otlp::Compression::kGzip : otlp::Compression::kNone;
  auto exporter = otlp::CreateExporter(config);
  if (!exporter.ok()) {
    std::fprintf(stderr, "export_throughput: %s\n", exporter.status().ToString().c_str());
    return 1;
  }

  const int per = FLAGS_spans_per_request;
  std::vector<otlp::ExportTraceServiceRequest> requests;
  const uint64_t t0 = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  for (int i = 0; i < FLAGS_distinct; ++i) {
    requests.push_back(
        MakeAgentLikeRequest(per, 1 + i, t0 + static_cast<uint64_t>(i) * per * 1000));
  }
  auto send = [&](int64_t i) {
    auto res = (*exporter)->Export(requests[i % requests.size()]);
    if (!res.ok()) {
      std::fprintf(stderr, "export_throughput: request %ld: %s\n", static_cast<long>(i),
                   res.status().ToString().c_str());
      std::exit(1);
    }
  };
  for (int i = 0; i < FLAGS_warmup_requests; ++i) send(i);

  const int64_t n = (FLAGS_spans + per - 1) / per;
  const Usage before = Now();
  const absl::Time start = absl::Now();
  for (int64_t i = 0; i < n; ++i) send(i);
  const double wall = absl::ToDoubleSeconds(absl::Now() - start);
  const Usage after = Now();
  (void)(*exporter)->Shutdown();

  const double user = after.user_s - before.user_s, sys = after.sys_s - before.sys_s;
  const int64_t spans = n * per;
  std::string breakdown;
  if (FLAGS_breakdown) {
    Usage b0 = Now();
    size_t bytes = 0;
    std::vector<std::string> wires;
    for (int64_t i = 0; i < n; ++i) {
      std::string wire = requests[i % requests.size()].SerializeAsString();
      bytes += wire.size();
      if (i < static_cast<int64_t>(requests.size())) wires.push_back(std::move(wire));
    }
    Usage b1 = Now();
    breakdown =
        absl::StrCat(",\"serialize_cpu_s\":", (b1.user_s + b1.sys_s) - (b0.user_s + b0.sys_s),
                     ",\"request_bytes\":", bytes / n);
    // One entry per level: "gzip_L":{"cpu_s":..,"bytes":..} (bytes per request).
    for (absl::string_view l : absl::StrSplit(FLAGS_gzip_levels, ',', absl::SkipEmpty())) {
      int level = 0;
      if (!FLAGS_gzip || !absl::SimpleAtoi(l, &level)) continue;
      Usage g0 = Now();
      size_t gz_bytes = 0;
      for (int64_t i = 0; i < n; ++i) {
        auto gz = otlp::GzipCompress(wires[i % wires.size()], level);
        if (!gz.ok()) return 1;
        gz_bytes += gz->size();
      }
      Usage g1 = Now();
      absl::StrAppend(&breakdown, ",\"gzip_", level,
                      "\":{\"cpu_s\":", (g1.user_s + g1.sys_s) - (g0.user_s + g0.sys_s),
                      ",\"bytes\":", gz_bytes / n, "}");
    }
  }
  std::printf(
      "{\"impl\":\"ours\",\"protocol\":\"%s\",\"gzip\":%s,\"spans_per_request\":%d,"
      "\"requests\":%ld,\"spans\":%ld,\"wall_s\":%.6f,\"cpu_s\":%.6f,\"user_s\":%.6f,"
      "\"sys_s\":%.6f,\"spans_per_s\":%.1f,\"spans_per_cpu_s\":%.1f,\"peak_rss_kb\":%ld%s}\n",
      FLAGS_protocol.c_str(), FLAGS_gzip ? "true" : "false", per, static_cast<long>(n),
      static_cast<long>(spans), wall, user + sys, user, sys, spans / wall,
      spans / std::max(1e-9, user + sys), after.max_rss_kb, breakdown.c_str());
  return 0;
}

}  // namespace
}  // namespace tracer::bench

int main(int argc, char** argv) {
  gflags::SetUsageMessage("OTLP export throughput of our exporters (see the file comment)");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return tracer::bench::Main();
}
