// The control plane's span path from upload to query, in one process, on
// real RocksDB directories: UploadIngest (validate, deduplicate, append to
// the durable queue) -> StoreConsumer (queue -> embedded trace store) ->
// TraceStore::GetTrace / ListTraces, with the process-wide OTLP parse
// counter (otlp/parse_counter.h) read around each phase.
//
// Workload: --batches uploads of --spans_per_batch agent-like spans
// (tests/bench/export/agent_like_spans.h), one agent, seq 1..N. Trace ids
// are rewritten so that every trace is spread over --batches_per_trace
// consecutive uploads: upload b, span i belongs to trace
// (b / batches_per_trace, i % --traces_per_batch), whose first span (in its
// first upload) is its root and every other span a child of it.
//
// Baselines, measured in the same repeat: the durable queue's Append of the
// same batch bytes without any parse (the floor under ingest and the store
// consumer, both of which do one synced write per batch), and one
// ExportTraceServiceRequest parse of one upload's bytes (the floor under a
// GetTrace that has to read any OTLP at all).
//
// Prints a Markdown table of medians over --repeats (each repeat on fresh
// directories) and the parse counts per batch.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "controlplane/ingest/store_consumer.h"
#include "controlplane/ingest/upload_ingest.h"
#include "controlplane/store/trace_store.h"
#include "gflags/gflags.h"
#include "otlp/batch_summary.h"
#include "otlp/parse_counter.h"
#include "storage/rocksdb_wal.h"
#include "storage/testing/temp_dir.h"
#include "tests/bench/export/agent_like_spans.h"

DEFINE_int32(repeats, 5, "repeats (fresh directories each)");
DEFINE_int32(batches, 256, "uploads per repeat");
DEFINE_int32(spans_per_batch, 512, "spans per upload");
DEFINE_int32(batches_per_trace, 4, "consecutive uploads each trace is spread over");
DEFINE_int32(traces_per_batch, 64, "traces each upload holds spans of");
DEFINE_int32(queries, 200, "GetTrace calls per repeat (traces in rotation)");

namespace tracer::bench {
namespace {

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "ingest_store_bench: %s\n", what.c_str());
  std::exit(1);
}

std::string TraceId(uint64_t n) {
  std::string id(8, '\x42');
  for (int i = 7; i >= 0; --i) id.push_back(static_cast<char>(n >> (8 * i)));
  return id;
}

// The uploads of one run (see the file comment).
std::vector<v1::UploadRequest> MakeUploads() {
  std::vector<v1::UploadRequest> uploads;
  const uint64_t t0 = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  std::vector<std::string> roots;  // root span id per trace number
  for (int b = 0; b < FLAGS_batches; ++b) {
    otlp::ExportTraceServiceRequest request = MakeAgentLikeRequest(
        FLAGS_spans_per_batch, 1 + b, t0 + static_cast<uint64_t>(b) * FLAGS_spans_per_batch * 1000);
    int i = 0;
    for (auto& rs : *request.mutable_resource_spans()) {
      for (auto& ss : *rs.mutable_scope_spans()) {
        for (auto& span : *ss.mutable_spans()) {
          const uint64_t trace =
              static_cast<uint64_t>(b / FLAGS_batches_per_trace) * FLAGS_traces_per_batch +
              static_cast<uint64_t>(i % FLAGS_traces_per_batch);
          ++i;
          span.set_trace_id(TraceId(trace));
          if (roots.size() <= trace) roots.resize(trace + 1);
          if (roots[trace].empty()) {
            roots[trace] = span.span_id();
            span.clear_parent_span_id();
          } else {
            span.set_parent_span_id(roots[trace]);
          }
        }
      }
    }
    v1::UploadRequest upload;
    upload.set_agent_id("bench-agent-1");
    upload.set_seq(static_cast<uint64_t>(b + 1));
    upload.set_batch(request.SerializeAsString());
    upload.set_span_count(static_cast<uint32_t>(FLAGS_spans_per_batch));
    uploads.push_back(std::move(upload));
  }
  return uploads;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::unique_ptr<storage::RocksDbWal> OpenQueue(const std::string& dir) {
  storage::WalOptions options;
  options.data_dir = dir;
  options.max_bytes = uint64_t{8} << 30;
  auto queue = storage::RocksDbWal::Open(options);
  if (!queue.ok()) Fail(queue.status().ToString());
  return std::move(*queue);
}

struct Repeat {
  double append_spans_per_s = 0;  // baseline
  double ingest_spans_per_s = 0;
  double drain_spans_per_s = 0;
  double parse_batch_us = 0;  // baseline
  double summarize_us = 0;    // SummarizeBatch + serialize, one upload
  uint64_t summary_bytes = 0;
  double get_trace_us = 0;  // median over queries
  double list_traces_us = 0;
  double data_path_parses_per_batch = 0;
  double ingest_parses_per_batch = 0;
  double store_parses_per_batch = 0;
  double query_parses_per_get = 0;
  uint64_t spans_per_trace = 0;
};

Repeat RunOnce(const std::vector<v1::UploadRequest>& uploads) {
  Repeat r;
  const double spans = static_cast<double>(uploads.size()) * FLAGS_spans_per_batch;
  {  // Baseline: the durable queue alone.
    storage::testing::TempDir dir;
    auto queue = OpenQueue(dir.path() + "/queue");
    const absl::Time start = absl::Now();
    for (const v1::UploadRequest& u : uploads) {
      auto seq = queue->Append(u.batch(), u.span_count());
      if (!seq.ok()) Fail(seq.status().ToString());
    }
    r.append_spans_per_s = spans / absl::ToDoubleSeconds(absl::Now() - start);
  }
  storage::testing::TempDir dir;
  auto queue = OpenQueue(dir.path() + "/queue");
  if (absl::Status s =
          queue->RegisterConsumer(controlplane::kStoreConsumer, storage::StartPosition::kOldest);
      !s.ok()) {
    Fail(s.ToString());
  }
  controlplane::TraceStoreOptions store_options;
  store_options.path = dir.path() + "/traces";
  store_options.max_age = absl::ZeroDuration();
  store_options.max_bytes = 0;
  auto store = controlplane::TraceStore::Open(store_options);
  if (!store.ok()) Fail(store.status().ToString());
  auto ingest = controlplane::UploadIngest::Open(queue.get(), (*store)->HighWaterMarks(), nullptr);
  if (!ingest.ok()) Fail(ingest.status().ToString());
  controlplane::StoreConsumer consumer(queue.get(), store->get());

  const otlp::ParseCounts before = otlp::GetParseCounts();
  absl::Time start = absl::Now();
  for (const v1::UploadRequest& u : uploads) {
    auto ack = (*ingest)->Ingest(u);
    if (!ack.ok() || ack->duplicate()) Fail(absl::StrCat("ingest: ", ack.status().ToString()));
  }
  r.ingest_spans_per_s = spans / absl::ToDoubleSeconds(absl::Now() - start);
  start = absl::Now();
  auto moved = consumer.DrainOnce();
  if (!moved.ok() || *moved != uploads.size()) Fail("drain did not move every record");
  r.drain_spans_per_s = spans / absl::ToDoubleSeconds(absl::Now() - start);
  const otlp::ParseCounts after = otlp::GetParseCounts();
  const double batches = static_cast<double>(uploads.size());
  r.data_path_parses_per_batch = (after.data_path() - before.data_path()) / batches;
  r.ingest_parses_per_batch =
      (after.at(otlp::ParseSite::kIngest) - before.at(otlp::ParseSite::kIngest)) / batches;
  r.store_parses_per_batch =
      (after.at(otlp::ParseSite::kStore) - before.at(otlp::ParseSite::kStore)) / batches;
  if ((*store)->Stats().spans != static_cast<uint64_t>(spans)) Fail("store lost spans");

  {  // Baseline: parse one upload.
    std::vector<double> us;
    for (int q = 0; q < FLAGS_queries; ++q) {
      otlp::ExportTraceServiceRequest parsed;
      const std::string& bytes = uploads[q % uploads.size()].batch();
      const absl::Time t = absl::Now();
      if (!parsed.ParseFromString(bytes)) Fail("parse");
      us.push_back(absl::ToDoubleMicroseconds(absl::Now() - t));
    }
    r.parse_batch_us = Median(us);
    us.clear();
    otlp::ExportTraceServiceRequest parsed;
    if (!parsed.ParseFromString(uploads[0].batch())) Fail("parse");
    for (int q = 0; q < FLAGS_queries; ++q) {
      const absl::Time t = absl::Now();
      const std::string summary = otlp::SummarizeBatch(parsed).SerializeAsString();
      us.push_back(absl::ToDoubleMicroseconds(absl::Now() - t));
      r.summary_bytes = summary.size();
    }
    r.summarize_us = Median(us);
  }
  const uint64_t traces = static_cast<uint64_t>(FLAGS_batches / FLAGS_batches_per_trace) *
                          static_cast<uint64_t>(FLAGS_traces_per_batch);
  std::vector<double> us;
  const uint64_t query_before = otlp::GetParseCounts().at(otlp::ParseSite::kQuery);
  for (int q = 0; q < FLAGS_queries; ++q) {
    const std::string id = TraceId((static_cast<uint64_t>(q) * 7919) % traces);
    const absl::Time t = absl::Now();
    auto trace = (*store)->GetTrace(id);
    us.push_back(absl::ToDoubleMicroseconds(absl::Now() - t));
    if (!trace.ok()) Fail(trace.status().ToString());
    uint64_t n = 0;
    for (const auto& rs : *trace) {
      for (const auto& ss : rs.scope_spans()) n += static_cast<uint64_t>(ss.spans_size());
    }
    r.spans_per_trace = n;
  }
  r.query_parses_per_get =
      static_cast<double>(otlp::GetParseCounts().at(otlp::ParseSite::kQuery) - query_before) /
      FLAGS_queries;
  r.get_trace_us = Median(us);
  us.clear();
  for (int q = 0; q < 5; ++q) {
    const absl::Time t = absl::Now();
    auto list = (*store)->ListTraces(0, "", 100);
    us.push_back(absl::ToDoubleMicroseconds(absl::Now() - t));
    if (!list.ok() || list->size() != 100) Fail("list traces");
  }
  r.list_traces_us = Median(us);
  return r;
}

int Main() {
  if (FLAGS_batches_per_trace < 1 || FLAGS_traces_per_batch < 1 ||
      FLAGS_batches % FLAGS_batches_per_trace != 0) {
    Fail("--batches must be a multiple of --batches_per_trace (both >= 1)");
  }
  const std::vector<v1::UploadRequest> uploads = MakeUploads();
  std::vector<Repeat> runs;
  for (int i = 0; i < FLAGS_repeats; ++i) runs.push_back(RunOnce(uploads));
  auto med = [&](double Repeat::*field) {
    std::vector<double> v;
    for (const Repeat& r : runs) v.push_back(r.*field);
    return Median(v);
  };
  const double append = med(&Repeat::append_spans_per_s);
  const double parse_us = med(&Repeat::parse_batch_us);
  std::printf(
      "%d repeats; %d uploads x %d spans (%zu bytes each); each trace %d spans over %d "
      "uploads\n\n",
      FLAGS_repeats, FLAGS_batches, FLAGS_spans_per_batch, uploads[0].batch().size(),
      static_cast<int>(runs.back().spans_per_trace), FLAGS_batches_per_trace);
  std::printf("| case | median | vs baseline |\n|---|---:|---:|\n");
  std::printf("| queue Append alone (baseline), spans/s | %s | 1.00x |\n",
              absl::StrFormat("%.0f", append).c_str());
  std::printf("| ingest (UploadIngest::Ingest), spans/s | %.0f | %.2fx |\n",
              med(&Repeat::ingest_spans_per_s), med(&Repeat::ingest_spans_per_s) / append);
  std::printf("| queue -> store (StoreConsumer::DrainOnce), spans/s | %.0f | %.2fx |\n",
              med(&Repeat::drain_spans_per_s), med(&Repeat::drain_spans_per_s) / append);
  std::printf("| parse one upload (baseline), µs | %.1f | 1.00x |\n", parse_us);
  std::printf("| summarize one parsed upload (otlp::SummarizeBatch, %lu B), µs | %.1f | %.2fx |\n",
              static_cast<unsigned long>(runs.back().summary_bytes), med(&Repeat::summarize_us),
              med(&Repeat::summarize_us) / parse_us);
  std::printf("| GetTrace, µs | %.1f | %.2fx |\n", med(&Repeat::get_trace_us),
              med(&Repeat::get_trace_us) / parse_us);
  std::printf("| ListTraces (limit 100), µs | %.1f | %.2fx |\n", med(&Repeat::list_traces_us),
              med(&Repeat::list_traces_us) / parse_us);
  std::printf(
      "\nOTLP parses per batch, ingest + store (otlp/parse_counter.h): %.2f "
      "(ingest %.2f, store %.2f); parses per GetTrace: %.1f\n",
      med(&Repeat::data_path_parses_per_batch), med(&Repeat::ingest_parses_per_batch),
      med(&Repeat::store_parses_per_batch), med(&Repeat::query_parses_per_get));
  return 0;
}

}  // namespace
}  // namespace tracer::bench

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "The control plane's ingest -> store -> GetTrace path (see the file "
      "comment)");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  return tracer::bench::Main();
}
