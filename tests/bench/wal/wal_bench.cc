// Durable append and replay throughput of the span WAL (storage/) against a
// plain write()+fdatasync()-per-batch file measured in the same run.
//
// Each repeat runs, for 1 and for --threads appender threads, a fixed time
// (--seconds) of back-to-back appends of real serialized OTLP batches
// (--spans spans of ~150 B each):
//   fsync_file  one file, each batch write()n then fdatasync()ed under a mutex
//   wal         RocksDbWal::Append (group commit, synced before returning)
// and then replays everything the multi-threaded WAL case appended through
// ReadFrom. Prints every repeat and a table of medians with each figure's
// ratio to the baseline of the same thread count.
//
//   bazel build -c opt //tests/bench/wal:wal_bench
//   bazel-out/k8-opt/bin/tests/bench/wal/wal_bench --repeats=5 --seconds=2
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gflags/gflags.h"
#include "storage/rocksdb_wal.h"
#include "storage/testing/otlp_batch.h"

DEFINE_string(dir, "", "Directory for the files (default: $TMPDIR or /tmp)");
DEFINE_int32(seconds, 3, "Duration of each append case, s");
DEFINE_int32(repeats, 3, "Repeats; the table shows medians");
DEFINE_int32(threads, 4, "Appender threads of the concurrent cases");
DEFINE_int32(spans, 512, "Spans per batch");
DEFINE_uint64(group_commit_max_wait_us, 2000, "WalOptions::group_commit_max_wait");

namespace {

using tracer::storage::ReadLimits;
using tracer::storage::RocksDbWal;
using tracer::storage::StartPosition;
using tracer::storage::WalOptions;

struct Result {
  double spans_per_s = 0;
  double mb_per_s = 0;  // payload MB (1e6 B) per s
  double p50_us = 0;
  double p99_us = 0;
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

double Median(std::vector<double> v) { return Percentile(std::move(v), 0.5); }

// Runs `append(thread, batch)` from `threads` threads for --seconds.
template <typename AppendFn>
Result RunAppenders(int threads, const std::vector<std::string>& batches, AppendFn append) {
  std::vector<std::vector<double>> lat(threads);
  std::vector<uint64_t> bytes(threads, 0);
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  const absl::Time start = absl::Now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (size_t i = t; !stop.load(std::memory_order_relaxed); i += threads) {
        const std::string& b = batches[i % batches.size()];
        const absl::Time t0 = absl::Now();
        append(b);
        lat[t].push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
        bytes[t] += b.size();
      }
    });
  }
  absl::SleepFor(absl::Seconds(FLAGS_seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  std::vector<double> all;
  uint64_t total_bytes = 0;
  for (int t = 0; t < threads; ++t) {
    all.insert(all.end(), lat[t].begin(), lat[t].end());
    total_bytes += bytes[t];
  }
  Result r;
  r.spans_per_s = static_cast<double>(all.size()) * FLAGS_spans / secs;
  r.mb_per_s = total_bytes / secs / 1e6;
  r.p50_us = Percentile(all, 0.5);
  r.p99_us = Percentile(all, 0.99);
  return r;
}

Result RunFsyncFile(const std::string& path, int threads, const std::vector<std::string>& batches) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (fd < 0) {
    std::perror("open baseline file");
    std::exit(1);
  }
  std::mutex mu;
  Result r = RunAppenders(threads, batches, [&](const std::string& b) {
    std::lock_guard<std::mutex> lock(mu);
    if (write(fd, b.data(), b.size()) != static_cast<ssize_t>(b.size()) || fdatasync(fd) != 0) {
      std::perror("baseline write");
      std::exit(1);
    }
  });
  close(fd);
  std::filesystem::remove(path);
  return r;
}

std::unique_ptr<RocksDbWal> OpenWal(const std::string& dir) {
  WalOptions options;
  options.data_dir = dir;
  options.max_bytes = uint64_t{64} << 30;  // the cap is not what is measured
  options.group_commit_max_wait =
      absl::Microseconds(static_cast<int64_t>(FLAGS_group_commit_max_wait_us));
  auto wal = RocksDbWal::Open(options);
  if (!wal.ok()) {
    std::fprintf(stderr, "open WAL: %s\n", wal.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*wal);
}

Result RunWal(RocksDbWal& wal, int threads, const std::vector<std::string>& batches) {
  return RunAppenders(threads, batches, [&](const std::string& b) {
    auto seq = wal.Append(b, static_cast<uint32_t>(FLAGS_spans));
    if (!seq.ok()) {
      std::fprintf(stderr, "append: %s\n", seq.status().ToString().c_str());
      std::exit(1);
    }
  });
}

// Reads every record from the start through one consumer.
Result RunReplay(RocksDbWal& wal) {
  if (!wal.RegisterConsumer("replay", StartPosition::kOldest).ok()) std::exit(1);
  const absl::Time start = absl::Now();
  uint64_t spans = 0, bytes = 0, after = 0;
  for (;;) {
    auto records = wal.ReadFrom(
        "replay",
        ReadLimits{.max_records = 256, .max_bytes = size_t{64} << 20, .after_seq = after});
    if (!records.ok()) {
      std::fprintf(stderr, "read: %s\n", records.status().ToString().c_str());
      std::exit(1);
    }
    if (records->empty()) break;
    for (const auto& r : *records) {
      spans += r.span_count;
      bytes += r.payload.size();
    }
    after = records->back().seq;
  }
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  Result r;
  r.spans_per_s = spans / secs;
  r.mb_per_s = bytes / secs / 1e6;
  return r;
}

void PrintRow(const char* name, const Result& r, double baseline_spans) {
  std::printf("%-22s %12.0f %9.1f %10.0f %10.0f %9.2fx\n", name, r.spans_per_s, r.mb_per_s,
              r.p50_us, r.p99_us, baseline_spans > 0 ? r.spans_per_s / baseline_spans : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  std::string base = FLAGS_dir;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr ? tmp : "/tmp";
  }
  base += "/wal_bench." + std::to_string(getpid());
  std::filesystem::create_directories(base);

  std::vector<std::string> batches;
  size_t batch_bytes = 0;
  for (uint64_t i = 0; i < 64; ++i) {
    batches.push_back(
        tracer::storage::testing::MakeOtlpBatch(i, static_cast<uint32_t>(FLAGS_spans)));
    batch_bytes += batches.back().size();
  }
  std::printf(
      "batch: %d spans, %.0f B/batch (%.0f B/span), %d s per case, "
      "%d repeats, %u cores\n",
      FLAGS_spans, static_cast<double>(batch_bytes) / batches.size(),
      static_cast<double>(batch_bytes) / batches.size() / FLAGS_spans, FLAGS_seconds, FLAGS_repeats,
      std::thread::hardware_concurrency());

  const int n = FLAGS_threads;
  std::vector<std::vector<Result>> runs(5);  // fsync1, fsyncN, wal1, walN, replay
  for (int rep = 0; rep < FLAGS_repeats; ++rep) {
    runs[0].push_back(RunFsyncFile(base + "/fsync.dat", 1, batches));
    runs[1].push_back(RunFsyncFile(base + "/fsync.dat", n, batches));
    {
      const std::string dir = base + "/wal1";
      auto wal = OpenWal(dir);
      runs[2].push_back(RunWal(*wal, 1, batches));
      wal.reset();
      std::filesystem::remove_all(dir);
    }
    {
      const std::string dir = base + "/walN";
      auto wal = OpenWal(dir);
      runs[3].push_back(RunWal(*wal, n, batches));
      runs[4].push_back(RunReplay(*wal));
      wal.reset();
      std::filesystem::remove_all(dir);
    }
    std::printf(
        "repeat %d: fsync1 %.0f  fsync%d %.0f  wal1 %.0f  wal%d %.0f  "
        "replay %.0f spans/s\n",
        rep + 1, runs[0].back().spans_per_s, n, runs[1].back().spans_per_s,
        runs[2].back().spans_per_s, n, runs[3].back().spans_per_s, runs[4].back().spans_per_s);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(base);

  auto median = [&](int i) {
    std::vector<double> s, m, p50, p99;
    for (const Result& r : runs[i]) {
      s.push_back(r.spans_per_s);
      m.push_back(r.mb_per_s);
      p50.push_back(r.p50_us);
      p99.push_back(r.p99_us);
    }
    return Result{Median(s), Median(m), Median(p50), Median(p99)};
  };
  const Result f1 = median(0), fn = median(1), w1 = median(2), wn = median(3), rp = median(4);
  std::printf("\nmedians of %d repeats\n", FLAGS_repeats);
  std::printf("%-22s %12s %9s %10s %10s %10s\n", "case", "spans/s", "MB/s", "p50 us", "p99 us",
              "vs fsync");
  const std::string fn_name = "fsync_file " + std::to_string(n) + " thr";
  const std::string wn_name = "wal append " + std::to_string(n) + " thr";
  PrintRow("fsync_file 1 thr", f1, f1.spans_per_s);
  PrintRow(fn_name.c_str(), fn, fn.spans_per_s);
  PrintRow("wal append 1 thr", w1, f1.spans_per_s);
  PrintRow(wn_name.c_str(), wn, fn.spans_per_s);
  PrintRow("wal replay (ReadFrom)", rp, fn.spans_per_s);
  std::printf("replay / best append: %.2fx\n",
              rp.spans_per_s / std::max(w1.spans_per_s, wn.spans_per_s));
  return 0;
}
