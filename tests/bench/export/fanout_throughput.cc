// Export throughput through the control plane's real fan-out path
// (controlplane/fanout): a storage::RocksDbWal queue in a temporary
// directory is filled with --spans agent-like spans (agent_like_spans.h) as
// the control plane's ingest writes them (one queue record per agent upload
// of --spans_per_record spans: EncodeQueueRecord(agent id, agent seq,
// serialized ExportTraceServiceRequest), Append with its span count), then a
// fanout::FanOut with --backends backends, all pointed at --endpoint, reads,
// decodes, merges (up to --max_batch_spans spans per request, the
// BackendOptions default), exports and acks them. Timed: from the first
// AddBackend until every backend's queue lag is 0 spans. Prints one JSON
// line:
//   {"impl":"fanout","protocol":..,"gzip":..,"backends":..,
//    "resource_attributes":..,"spans_per_record":..,"max_batch_spans":..,
//    "spans":..,"spans_delivered":..,"requests":..,"wall_s":..,"cpu_s":..,
//    "user_s":..,"sys_s":..,"spans_per_s":..,"spans_per_cpu_s":..,
//    "peak_rss_kb":..,"rss_before_kb":..,"fill_s":..,"parses_per_record":..}
// spans = spans queued; spans_delivered = spans x backends (what the
// receiver gets). cpu_s is this process's user+sys CPU time (getrusage, all
// threads: workers, RocksDB, gRPC, curl) over the timed part only;
// spans_per_cpu_s = spans_delivered / cpu_s ("per core"); spans_per_s =
// spans_delivered / wall_s. peak_rss_kb is the process's maximum RSS
// (ru_maxrss) at the end, rss_before_kb the RSS when timing started (the
// queue is filled by then; RocksDB's memtable holds what was appended).
// Records carry the batch summary as the ingest writes it (queue_record.h).
// parses_per_record = OTLP parses of the timed part (otlp/parse_counter.h)
// per record and backend: 0 when the backends take the wire form.
// With --resource_attributes, FanOutOptions::resource_attributes holds two
// attributes (one new key, one the records already carry), so the merge of
// configured resource attributes is exercised.
//
// Exits 1 on any error, including a failed or dead-lettered span.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "controlplane/fanout/fanout.h"
#include "gflags/gflags.h"
#include "otlp/batch_summary.h"
#include "otlp/config.h"
#include "otlp/delivery/queue_record.h"
#include "otlp/parse_counter.h"
#include "storage/rocksdb_wal.h"
#include "tests/bench/export/agent_like_spans.h"
#include "tests/bench/export/process_usage.h"

DEFINE_string(endpoint, "", "receiver: host:port (gRPC) or http://host:port/v1/traces");
DEFINE_string(protocol, "grpc", "grpc, http/protobuf or http/json");
DEFINE_bool(gzip, false, "gzip-compress requests");
DEFINE_int32(spans_per_record, 512, "spans per queued agent upload (queue record)");
DEFINE_int64(spans, 262144, "spans to queue (rounded up to whole records)");
DEFINE_int32(distinct, 16, "different agent uploads built and queued in rotation");
DEFINE_int32(backends, 1, "backends, all sending to --endpoint");
DEFINE_int64(max_batch_spans, 8192, "BackendOptions::max_batch_spans");
DEFINE_bool(resource_attributes, false, "configure resource attributes to merge");
DEFINE_string(data_dir, "", "queue directory (default: a new temporary directory, removed)");

namespace tracer::bench {
namespace {

// Current resident set size in kB (/proc/self/status VmRSS), 0 if unknown.
long CurrentRssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "fanout_throughput: %s\n", what.c_str());
  std::exit(1);
}

int Main() {
  if (FLAGS_endpoint.empty()) {
    std::fprintf(stderr, "fanout_throughput: --endpoint is required\n");
    return 2;
  }
  auto protocol = otlp::ParseProtocol(FLAGS_protocol);
  if (!protocol.ok()) Fail(protocol.status().ToString());

  std::string dir = FLAGS_data_dir;
  const bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/fanout-bench-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) Fail("mkdtemp failed");
    dir = tmpl;
  }
  storage::WalOptions wal_options;
  wal_options.data_dir = dir + "/queue";
  wal_options.max_bytes = uint64_t{8} << 30;
  auto queue = storage::RocksDbWal::Open(wal_options);
  if (!queue.ok()) Fail(queue.status().ToString());

  // Fill the queue as the ingest does: one record per agent upload.
  const int per = FLAGS_spans_per_record;
  std::vector<std::string> batches, summaries;
  const uint64_t t0 = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  for (int i = 0; i < FLAGS_distinct; ++i) {
    const otlp::ExportTraceServiceRequest request =
        MakeAgentLikeRequest(per, 1 + i, t0 + static_cast<uint64_t>(i) * per * 1000);
    batches.push_back(request.SerializeAsString());
    summaries.push_back(otlp::SummarizeBatch(request).SerializeAsString());
  }
  const int64_t records = (FLAGS_spans + per - 1) / per;
  const absl::Time fill_start = absl::Now();
  for (int64_t i = 0; i < records; ++i) {
    auto seq = (*queue)->Append(otlp::delivery::EncodeQueueRecord(
                                    "bench-agent-1", static_cast<uint64_t>(i + 1),
                                    summaries[i % summaries.size()], batches[i % batches.size()]),
                                static_cast<uint32_t>(per));
    if (!seq.ok()) Fail(absl::StrCat("append: ", seq.status().ToString()));
  }
  const double fill_s = absl::ToDoubleSeconds(absl::Now() - fill_start);
  batches.clear();
  summaries.clear();
  batches.shrink_to_fit();
  const int64_t spans = records * per;

  fanout::FanOutOptions options;
  options.dead_letter_dir = dir + "/dead-letter";
  if (FLAGS_resource_attributes) {
    options.resource_attributes = {{"deployment.environment", "bench"},
                                   {"service.name", "overridden-by-record"}};
  }
  fanout::FanOut fan_out(queue->get(), options);

  const long rss_before = CurrentRssKb();
  const uint64_t parses_before = otlp::GetParseCounts().data_path();
  const Usage before = Now();
  const absl::Time start = absl::Now();
  for (int b = 0; b < FLAGS_backends; ++b) {
    fanout::BackendOptions backend;
    backend.name = absl::StrCat("bench", b);
    backend.exporter.protocol = *protocol;
    backend.exporter.endpoint = FLAGS_endpoint;
    backend.exporter.insecure = true;
    backend.exporter.timeout = absl::Seconds(60);
    backend.exporter.compression = FLAGS_gzip ? otlp::Compression::kGzip : otlp::Compression::kNone;
    backend.max_batch_spans = static_cast<size_t>(FLAGS_max_batch_spans);
    if (absl::Status s = fan_out.AddBackend(backend); !s.ok()) Fail(s.ToString());
  }
  fan_out.Notify();
  std::vector<fanout::BackendStats> stats;
  for (;;) {
    stats = fan_out.Stats();
    bool done = true;
    for (const fanout::BackendStats& s : stats) {
      if (s.spans_failed > 0 || s.spans_dead_lettered > 0) {
        Fail(absl::StrCat("backend ", s.name, ": ", s.spans_failed, " spans failed, ",
                          s.spans_dead_lettered, " dead-lettered: ", s.last_error));
      }
      done = done && s.queue_lag_spans == 0 && s.spans_sent == static_cast<uint64_t>(spans);
    }
    if (done) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  const double wall = absl::ToDoubleSeconds(absl::Now() - start);
  const Usage after = Now();
  fan_out.Stop(absl::ZeroDuration());

  uint64_t requests = 0;
  for (const fanout::BackendStats& s : stats) requests += s.requests_sent;
  const double parses_per_record =
      static_cast<double>(otlp::GetParseCounts().data_path() - parses_before) /
      static_cast<double>(records * FLAGS_backends);
  const double user = after.user_s - before.user_s, sys = after.sys_s - before.sys_s;
  const int64_t delivered = spans * FLAGS_backends;
  std::printf(
      "{\"impl\":\"fanout\",\"protocol\":\"%s\",\"gzip\":%s,\"backends\":%d,"
      "\"resource_attributes\":%s,\"spans_per_record\":%d,\"max_batch_spans\":%ld,"
      "\"spans\":%ld,\"spans_delivered\":%ld,\"requests\":%lu,\"wall_s\":%.6f,"
      "\"cpu_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f,\"spans_per_s\":%.1f,"
      "\"spans_per_cpu_s\":%.1f,\"peak_rss_kb\":%ld,\"rss_before_kb\":%ld,\"fill_s\":%.3f,"
      "\"parses_per_record\":%.3f}\n",
      FLAGS_protocol.c_str(), FLAGS_gzip ? "true" : "false", FLAGS_backends,
      FLAGS_resource_attributes ? "true" : "false", per, static_cast<long>(FLAGS_max_batch_spans),
      static_cast<long>(spans), static_cast<long>(delivered), static_cast<unsigned long>(requests),
      wall, user + sys, user, sys, delivered / wall, delivered / std::max(1e-9, user + sys),
      after.max_rss_kb, rss_before, fill_s, parses_per_record);
  queue->reset();
  if (own_dir) {
    std::string rm = absl::StrCat("rm -rf '", dir, "'");
    if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace tracer::bench

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "OTLP export throughput through the control plane's fan-out (see the file comment)");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return tracer::bench::Main();
}
