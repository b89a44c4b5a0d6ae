// OTLP encoding cost per span, on batches of agent-like spans held as
// compact records (otlp/wire/span_record.h):
//   * today's path: build the ExportTraceServiceRequest messages on an
//     arena (as the span builder does), then SerializeToString (OTLP
//     protobuf) or the OTLP/JSON writer (otlp_json.h);
//   * the direct encoders (otlp/wire): AppendProtobuf and AppendJson from
//     the records into one reused buffer.
// The counter ns_per_span is the wall time of one batch over its spans.
//
//   bazel run -c opt //tests/bench:otlp_encoding_bench --
//     --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <string>

#include "google/protobuf/arena.h"
#include "otlp/otlp_json.h"
#include "otlp/wire/json_encoder.h"
#include "otlp/wire/protobuf_encoder.h"
#include "otlp/wire/test_records.h"
#include "otlp/wire/to_message.h"

namespace tracer::otlp::wire {
namespace {

constexpr int kSpans = 512;

void PerSpan(benchmark::State& state, size_t bytes) {
  state.counters["ns_per_span"] = benchmark::Counter(
      static_cast<double>(kSpans),
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["bytes_per_span"] = static_cast<double>(bytes) / kSpans;
}

// Building the messages alone (arena reused across batches).
void BM_Today_BuildMessages(benchmark::State& state) {
  testing::RecordStore store;
  testing::MakeAgentLikeBatch(kSpans, 1, &store);
  const SpanBatch batch = store.batch();
  google::protobuf::Arena arena;
  for (auto _ : state) {
    ExportTraceServiceRequest* req = ToMessage(batch, &arena);
    benchmark::DoNotOptimize(req);
    arena.Reset();
  }
  PerSpan(state, 0);
}
BENCHMARK(BM_Today_BuildMessages);

void BM_Today_Protobuf(benchmark::State& state) {
  testing::RecordStore store;
  testing::MakeAgentLikeBatch(kSpans, 1, &store);
  const SpanBatch batch = store.batch();
  google::protobuf::Arena arena;
  std::string out;
  for (auto _ : state) {
    ExportTraceServiceRequest* req = ToMessage(batch, &arena);
    out.clear();
    req->SerializeToString(&out);
    benchmark::DoNotOptimize(out.data());
    arena.Reset();
  }
  PerSpan(state, out.size());
}
BENCHMARK(BM_Today_Protobuf);

void BM_Today_Json(benchmark::State& state) {
  testing::RecordStore store;
  testing::MakeAgentLikeBatch(kSpans, 1, &store);
  const SpanBatch batch = store.batch();
  google::protobuf::Arena arena;
  std::string out;
  for (auto _ : state) {
    ExportTraceServiceRequest* req = ToMessage(batch, &arena);
    out.clear();
    AppendOtlpJson(*req, &out);
    benchmark::DoNotOptimize(out.data());
    arena.Reset();
  }
  PerSpan(state, out.size());
}
BENCHMARK(BM_Today_Json);

void BM_Direct_Protobuf(benchmark::State& state) {
  testing::RecordStore store;
  testing::MakeAgentLikeBatch(kSpans, 1, &store);
  const SpanBatch batch = store.batch();
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendProtobuf(batch, &out);
    benchmark::DoNotOptimize(out.data());
  }
  PerSpan(state, out.size());
}
BENCHMARK(BM_Direct_Protobuf);

void BM_Direct_Json(benchmark::State& state) {
  testing::RecordStore store;
  testing::MakeAgentLikeBatch(kSpans, 1, &store);
  const SpanBatch batch = store.batch();
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendJson(batch, &out);
    benchmark::DoNotOptimize(out.data());
  }
  PerSpan(state, out.size());
}
BENCHMARK(BM_Direct_Json);

}  // namespace
}  // namespace tracer::otlp::wire

BENCHMARK_MAIN();
