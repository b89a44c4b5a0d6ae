// OTLP/JSON encoding throughput: our direct encoder (ToOtlpJson) against
// protobuf's generic JSON printer, on batches shaped like syscall spans.
// Reports spans/s and bytes/s. Run: bazel run -c opt //tests/bench:otlp_json_bench
#include <benchmark/benchmark.h>

#include <string>

#include "google/protobuf/util/json_util.h"
#include "otlp/otlp_json.h"
#include "otlp/test_requests.h"

namespace {

using tracer::otlp::AppendOtlpJson;
using tracer::otlp::FromOtlpJson;
using tracer::otlp::testing::MakeSyscallRequest;

void BM_ToOtlpJson(benchmark::State& state) {
  const int spans = static_cast<int>(state.range(0));
  auto req = MakeSyscallRequest(spans);
  std::string out;
  for (auto _ : state) {
    out.clear();
    AppendOtlpJson(req, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * spans);
  state.SetBytesProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_ToOtlpJson)->Arg(1)->Arg(512)->Arg(4096);

// Baseline: protobuf's reflection-based JSON printer (base64 ids, so not
// even OTLP/JSON). Shows what the direct encoder buys.
void BM_ProtobufMessageToJson(benchmark::State& state) {
  const int spans = static_cast<int>(state.range(0));
  auto req = MakeSyscallRequest(spans);
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_enums_as_ints = true;
  std::string out;
  for (auto _ : state) {
    out.clear();
    (void)google::protobuf::util::MessageToJsonString(req, &out, options);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * spans);
  state.SetBytesProcessed(state.iterations() * out.size());
}
BENCHMARK(BM_ProtobufMessageToJson)->Arg(512);

void BM_FromOtlpJson(benchmark::State& state) {
  const int spans = static_cast<int>(state.range(0));
  std::string json = tracer::otlp::ToOtlpJson(MakeSyscallRequest(spans));
  for (auto _ : state) {
    auto req = FromOtlpJson(json);
    benchmark::DoNotOptimize(req);
  }
  state.SetItemsProcessed(state.iterations() * spans);
  state.SetBytesProcessed(state.iterations() * json.size());
}
BENCHMARK(BM_FromOtlpJson)->Arg(512);

}  // namespace

BENCHMARK_MAIN();
