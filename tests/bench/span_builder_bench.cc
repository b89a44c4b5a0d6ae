// Throughput of SpanBuilder::OnSyscall -> batch: events/s turned into OTLP
// spans and handed to a sink, including batch destruction (the sink drops
// each batch as an exporter would after sending it).
//
//   bazel run -c opt //tests/bench:span_builder_bench
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "agent/capture/events.h"
#include "agent/spans/span_builder.h"
#include "benchmark/benchmark.h"

namespace tracer::spans {
namespace {

class DroppingSink : public BatchSink {
 public:
  void OnBatch(std::shared_ptr<const SpanBatch> batch) override { spans += batch->span_count(); }
  uint64_t spans = 0;
};

// A mix like `dd bs=1`'s steady state plus some file activity: reads and
// writes with small buffers, openat with a path, an occasional failure.
std::vector<capture::SyscallEvent> MakeEvents(size_t n) {
  static const char kPath[] = "/etc/ld.so.cache";
  static const char kData[] = "\0";
  std::vector<capture::SyscallEvent> events(n);
  for (size_t i = 0; i < n; ++i) {
    capture::SyscallEvent& e = events[i];
    e.tgid = 4242;
    e.tid = 4242;
    e.start_ns = 1'000'000'000 + i * 500;
    e.duration_ns = 300;
    switch (i % 8) {
      case 7:  // openat(AT_FDCWD, path, O_RDONLY|O_CLOEXEC), sometimes ENOENT
        e.nr = 257;
        e.args[0] = static_cast<uint64_t>(-100);
        e.args[2] = 02000000;
        e.ret = (i % 16 == 7) ? -2 : 3;
        e.blobs.push_back(
            {1, capture::BlobKind::kString, false, std::string_view(kPath, sizeof kPath - 1)});
        break;
      default:  // read(0, "\0", 1) / write(1, "\0", 1)
        e.nr = i % 2;
        e.args[0] = i % 2;
        e.args[2] = 1;
        e.ret = 1;
        e.blobs.push_back({1, capture::BlobKind::kBytes, false, std::string_view(kData, 1)});
    }
  }
  return events;
}

void BM_OnSyscallToBatch(benchmark::State& state) {
  const auto events = MakeEvents(4096);
  DroppingSink sink;
  SpanBuilderOptions options;
  options.read_proc = false;
  options.host_name = "bench-host";
  options.max_batch_spans = static_cast<size_t>(state.range(0));
  SpanBuilder builder(options, &sink);
  builder.AddRootProcess(4242, 1'000'000'000);
  size_t i = 0;
  for (auto _ : state) {
    builder.OnSyscall(events[i]);
    if (++i == events.size()) i = 0;
  }
  builder.Flush();
  state.SetItemsProcessed(state.iterations());
  state.counters["batches"] = static_cast<double>(builder.counters().batches);
}
BENCHMARK(BM_OnSyscallToBatch)->Arg(512)->Arg(8192);

}  // namespace
}  // namespace tracer::spans

BENCHMARK_MAIN();
