// Helper process for wal_crash_test: opens the WAL in --data_dir and appends
// real OTLP batches from --threads threads as fast as it can, forever (or
// --exit_after appends, then _exit without closing anything). After every
// Append that returned it writes "A <seq> <id>\n" to stdout, and after every
// Ack of consumer "fast" that returned "K <seq>\n", each line with a single
// write(2) (atomic on a pipe). Consumer "slow" never acks, so nothing is ever
// trimmed and every reported record must survive. The batch for id has
// CrashBatchSpans(id) spans: testing::MakeOtlpBatch(id, CrashBatchSpans(id)).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "storage/rocksdb_wal.h"
#include "storage/testing/crash_protocol.h"
#include "storage/testing/otlp_batch.h"

namespace {

void WriteLine(const std::string& line) {
  // One write per line: lines from different threads never interleave.
  const ssize_t n = write(STDOUT_FILENO, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) _exit(3);
}

bool Flag(const char* arg, const char* name, std::string* value) {
  const size_t len = std::strlen(name);
  if (std::strncmp(arg, name, len) != 0 || arg[len] != '=') return false;
  *value = arg + len + 1;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir;
  std::string value;
  uint64_t threads = 2;
  uint64_t round = 0;
  uint64_t exit_after = 0;
  for (int i = 1; i < argc; ++i) {
    if (Flag(argv[i], "--data_dir", &value)) {
      data_dir = value;
    } else if (Flag(argv[i], "--threads", &value)) {
      if (!absl::SimpleAtoi(value, &threads)) return 2;
    } else if (Flag(argv[i], "--round", &value)) {
      if (!absl::SimpleAtoi(value, &round)) return 2;
    } else if (Flag(argv[i], "--exit_after", &value)) {
      if (!absl::SimpleAtoi(value, &exit_after)) return 2;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  tracer::storage::WalOptions options;
  options.data_dir = data_dir;
  auto wal = tracer::storage::RocksDbWal::Open(options);
  if (!wal.ok()) {
    std::fprintf(stderr, "open: %s\n", wal.status().ToString().c_str());
    return 1;
  }
  for (const char* name : {"fast", "slow"}) {
    if (!(*wal)->RegisterConsumer(name, tracer::storage::StartPosition::kOldest).ok()) {
      return 1;
    }
  }
  WriteLine("ready\n");

  std::atomic<uint64_t> appended{0};
  auto appender = [&](uint64_t t) {
    for (uint64_t i = 0;; ++i) {
      const uint64_t id = tracer::storage::testing::CrashBatchId(round, t, i);
      const uint32_t spans = tracer::storage::testing::CrashBatchSpans(id);
      auto seq = (*wal)->Append(tracer::storage::testing::MakeOtlpBatch(id, spans), spans);
      if (!seq.ok()) {
        std::fprintf(stderr, "append: %s\n", seq.status().ToString().c_str());
        _exit(1);
      }
      WriteLine("A " + std::to_string(*seq) + " " + std::to_string(id) + "\n");
      if (t == 0 && i % 4 == 3) {
        // Ack what this thread has seen returned, a little behind.
        const uint64_t ack = *seq - 1;
        if (!(*wal)->Ack("fast", ack).ok()) _exit(1);
        WriteLine("K " + std::to_string(ack) + "\n");
      }
      if (exit_after > 0 && appended.fetch_add(1) + 1 >= exit_after) {
        _exit(0);  // no destructors: the database is never closed cleanly
      }
    }
  };
  std::vector<std::thread> workers;
  for (uint64_t t = 0; t < threads; ++t) workers.emplace_back(appender, t);
  for (auto& w : workers) w.join();
  return 0;
}
