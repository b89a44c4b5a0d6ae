// User space per syscall span, without the kernel: recorded ring-buffer
// records (laid out byte for byte as bpf/syscalls.bpf.c writes them) ->
// DecodeSyscallRecord -> SpanBuilder (compact span records) -> batch of 512
// -> WAL append of the batch's OTLP protobuf bytes (storage::RocksDbWal,
// group-commit sync, in a temporary directory) and, for the JSON case, the
// OTLP/JSON line `tracectl run --output FILE` writes (to /dev/null). One
// iteration is one syscall; the time is per span. The terminal tree's cost
// per syscall (TreePrinter to /dev/null) is measured on the same events.
//
// Workloads: `dd bs=1` (read/write of one byte, the dd run) and a
// mix with openat paths and failures. The _NoWal cases leave the WAL append
// out (the breakdown).
//
//   bazel run -c opt //tests/bench:span_path_bench -- --benchmark_repetitions=5
// The allocator keeps freed memory for reuse, as in tracectl run
// (common/memory_reuse.h).
//   (TEST_TMPDIR or /dev/shm holds the WAL; set SPAN_PATH_BENCH_DIR to choose)
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/capture/record_decoder.h"
#include "agent/capture/syscalls_abi.h"
#include "agent/spans/span_builder.h"
#include "benchmark/benchmark.h"
#include "common/memory_reuse.h"
#include "ctl/tree_printer.h"
#include "storage/rocksdb_wal.h"

namespace tracer {
namespace {

// One recorded ring-buffer record.
std::vector<uint8_t> Record(int nr, uint32_t tgid, uint64_t start_ns, int64_t ret,
                            std::vector<uint64_t> args, uint8_t blob_arg, uint8_t blob_kind,
                            std::string_view blob) {
  capture::bpf_abi::SyscallRecord r = {};
  r.hdr.type = SYSCALLS_REC_SYSCALL;
  r.hdr.nr = nr;
  r.hdr.tgid = tgid;
  r.hdr.tid = tgid;
  r.start_ns = start_ns;
  r.duration_ns = 350;
  r.ret = ret;
  for (size_t i = 0; i < args.size() && i < 6; ++i) r.args[i] = args[i];
  std::vector<uint8_t> out(sizeof r);
  std::memcpy(out.data(), &r, sizeof r);
  if (blob_kind != 0) {
    capture::bpf_abi::BlobHeader h = {};
    h.arg_index = blob_arg;
    h.kind = blob_kind;
    h.len = static_cast<uint32_t>(blob.size());
    const auto* hb = reinterpret_cast<const uint8_t*>(&h);
    out.insert(out.end(), hb, hb + sizeof h);
    out.insert(out.end(), blob.begin(), blob.end());
  }
  const uint16_t size = static_cast<uint16_t>(out.size());
  std::memcpy(out.data() + 2, &size, sizeof size);
  return out;
}

constexpr uint32_t kPid = 4242;

// `dd if=/dev/zero of=/dev/null bs=1`'s steady state: read(0, "\0", 1) = 1,
// write(1, "\0", 1) = 1.
std::vector<std::vector<uint8_t>> DdRecords(size_t n) {
  std::vector<std::vector<uint8_t>> out;
  for (size_t i = 0; i < n; ++i) {
    const bool write = i % 2 == 1;
    out.push_back(Record(write ? 1 : 0, kPid, 1'000'000'000 + i * 500, 1,
                         {write ? 1u : 0u, 0x55d4c0a01000, 1}, 1, SYSCALLS_BLOB_BYTES,
                         std::string_view("\0", 1)));
  }
  return out;
}

// Reads and writes of 64 bytes, and every 8th call an openat of a path, one
// in 16 failing with ENOENT.
std::vector<std::vector<uint8_t>> MixedRecords(size_t n) {
  static const std::string kData(64, 'x');
  std::vector<std::vector<uint8_t>> out;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t t = 1'000'000'000 + i * 500;
    if (i % 8 == 7) {
      out.push_back(Record(257, kPid, t, (i % 16 == 7) ? -2 : 3,
                           {static_cast<uint64_t>(-100), 0x7ffd0000, 02000000}, 1,
                           SYSCALLS_BLOB_STRING, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
    } else {
      const bool write = i % 2 == 1;
      out.push_back(Record(write ? 1 : 0, kPid, t, 64, {3, 0x55d4c0a01000, 64}, 1,
                           SYSCALLS_BLOB_BYTES, kData));
    }
  }
  return out;
}

std::string BenchDir() {
  if (const char* d = std::getenv("SPAN_PATH_BENCH_DIR")) return d;
  if (std::filesystem::is_directory("/dev/shm")) return "/dev/shm";
  if (const char* d = std::getenv("TEST_TMPDIR")) return d;
  return "/tmp";
}

// What the run's pipeline does with each batch: the WAL append of its OTLP
// protobuf bytes, then (json) the --output line.
// With no WAL (nullptr), the protobuf bytes are encoded and dropped: the
// breakdown's "without the WAL append" rows.
class WalSink : public spans::BatchSink {
 public:
  WalSink(storage::Wal* wal, bool json) : wal_(wal), json_(json) {}
  void OnBatch(std::shared_ptr<const spans::SpanBatch> batch) override {
    if (wal_ != nullptr) {
      auto seq = wal_->Append(batch->protobuf(), static_cast<uint32_t>(batch->span_count()));
      if (!seq.ok()) std::abort();
    }
    bytes += batch->protobuf().size();
    if (json_) {
      line_.clear();
      batch->AppendJson(&line_);
      line_.push_back('\n');
      if (std::fwrite(line_.data(), 1, line_.size(), devnull_) != line_.size()) std::abort();
      bytes += line_.size();
    }
  }
  ~WalSink() override { std::fclose(devnull_); }
  uint64_t bytes = 0;

 private:
  storage::Wal* wal_;
  bool json_;
  std::string line_;
  FILE* devnull_ = std::fopen("/dev/null", "we");
};

void RunSpanPath(benchmark::State& state, const std::vector<std::vector<uint8_t>>& records,
                 bool json, bool with_wal = true) {
  const std::string dir =
      BenchDir() + "/span_path_bench." + std::to_string(getpid()) + "." + std::to_string(json);
  std::filesystem::remove_all(dir);
  std::unique_ptr<storage::RocksDbWal> wal;
  if (with_wal) {
    storage::WalOptions wo;
    wo.data_dir = dir;
    wo.policy = storage::CapPolicy::kDropOldest;  // the benchmark never trims
    auto opened = storage::RocksDbWal::Open(wo);
    if (!opened.ok()) {
      state.SkipWithError(std::string(opened.status().message()).c_str());
      return;
    }
    wal = *std::move(opened);
  }
  {
    WalSink sink(wal.get(), json);
    spans::SpanBuilderOptions options;
    options.read_proc = false;
    options.host_name = "bench-host";
    options.max_batch_spans = 512;
    spans::SpanBuilder builder(options, &sink);
    builder.AddRootProcess(kPid, 1'000'000'000);
    capture::SyscallEvent event;
    capture::ProcessEvent process;
    size_t i = 0;
    for (auto _ : state) {
      const std::vector<uint8_t>& r = records[i];
      if (capture::DecodeSyscallRecord(r.data(), r.size(), &event, &process) ==
          capture::DecodeResult::kSyscall) {
        builder.OnSyscall(event);
      }
      if (++i == records.size()) i = 0;
    }
    builder.Flush();
    state.SetItemsProcessed(state.iterations());
    state.counters["bytes_per_span"] =
        static_cast<double>(sink.bytes) / static_cast<double>(state.iterations());
  }
  wal.reset();
  std::filesystem::remove_all(dir);
}

void BM_SpanPath_Protobuf_Dd(benchmark::State& state) {
  static const auto records = DdRecords(4096);
  RunSpanPath(state, records, /*json=*/false);
}
void BM_SpanPath_Json_Dd(benchmark::State& state) {
  static const auto records = DdRecords(4096);
  RunSpanPath(state, records, /*json=*/true);
}
void BM_SpanPath_Protobuf_Mixed(benchmark::State& state) {
  static const auto records = MixedRecords(4096);
  RunSpanPath(state, records, /*json=*/false);
}
void BM_SpanPath_Json_Mixed(benchmark::State& state) {
  static const auto records = MixedRecords(4096);
  RunSpanPath(state, records, /*json=*/true);
}

void BM_SpanPath_Protobuf_Dd_NoWal(benchmark::State& state) {
  static const auto records = DdRecords(4096);
  RunSpanPath(state, records, /*json=*/false, /*with_wal=*/false);
}
void BM_SpanPath_Json_Dd_NoWal(benchmark::State& state) {
  static const auto records = DdRecords(4096);
  RunSpanPath(state, records, /*json=*/true, /*with_wal=*/false);
}

// The terminal tree (tracectl run without --output): one line per syscall,
// written to /dev/null.
void BM_TreePerSyscall_Dd(benchmark::State& state) {
  static const auto records = DdRecords(4096);
  FILE* out = std::fopen("/dev/null", "we");
  {
    ctl::TreePrinter tree(out);
    tree.AddRoot(kPid, "dd");
    capture::SyscallEvent event;
    capture::ProcessEvent process;
    size_t i = 0;
    for (auto _ : state) {
      const std::vector<uint8_t>& r = records[i];
      if (capture::DecodeSyscallRecord(r.data(), r.size(), &event, &process) ==
          capture::DecodeResult::kSyscall) {
        tree.OnSyscall(event);
      }
      if (++i == records.size()) i = 0;
    }
    state.SetItemsProcessed(state.iterations());
  }
  std::fclose(out);
}

BENCHMARK(BM_SpanPath_Protobuf_Dd)->MinTime(1.0);
BENCHMARK(BM_SpanPath_Json_Dd)->MinTime(1.0);
BENCHMARK(BM_SpanPath_Protobuf_Mixed)->MinTime(1.0);
BENCHMARK(BM_SpanPath_Json_Mixed)->MinTime(1.0);
BENCHMARK(BM_SpanPath_Protobuf_Dd_NoWal)->MinTime(1.0);
BENCHMARK(BM_SpanPath_Json_Dd_NoWal)->MinTime(1.0);
BENCHMARK(BM_TreePerSyscall_Dd)->MinTime(1.0);

}  // namespace
}  // namespace tracer

int main(int argc, char** argv) {
  tracer::common::KeepFreedMemoryForReuse();  // as tracectl run does
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
