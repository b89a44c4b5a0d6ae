#include "agent/pipeline/record_spill.h"

#include <cstring>
#include <string>
#include <vector>

#include "agent/capture/syscalls_events.h"
#include "gtest/gtest.h"

namespace tracer::pipeline {
namespace {

std::string SyscallRecord(int nr, uint32_t tid, const std::string& blob = "") {
  capture::bpf_abi::SyscallRecord r{};
  r.hdr.type = SYSCALLS_REC_SYSCALL;
  r.hdr.nr = nr;
  r.hdr.tgid = 100;
  r.hdr.tid = tid;
  r.ret = 7;
  std::string out(reinterpret_cast<const char*>(&r), sizeof r);
  if (!blob.empty()) {
    capture::bpf_abi::BlobHeader b{};
    b.arg_index = 1;
    b.kind = SYSCALLS_BLOB_BYTES;
    b.len = blob.size();
    out.append(reinterpret_cast<const char*>(&b), sizeof b);
    out += blob;
  }
  auto* h = reinterpret_cast<capture::bpf_abi::RecordHeader*>(out.data());
  h->size = static_cast<uint16_t>(out.size());
  return out;
}

class Collect : public capture::EventSink {
 public:
  void OnSyscall(const capture::SyscallEvent& e) override {
    tids.push_back(e.tid);
    const capture::Blob* b = e.BlobFor(1);
    blobs.push_back(b ? std::string(b->data) : "");
  }
  void OnProcess(const capture::ProcessEvent&) override { ++processes; }
  std::vector<uint32_t> tids;
  std::vector<std::string> blobs;
  int processes = 0;
};

TEST(RecordSpill, DeliversEveryRecordInOrderAcrossChunks) {
  Collect sink;
  {
    RecordSpill spill(&sink);
    for (uint32_t i = 0; i < 200000; ++i) {
      std::string rec = SyscallRecord(1, i, i % 3 == 0 ? "data" + std::to_string(i) : "");
      spill.OnRawRecord(rec.data(), rec.size());
      if (i % 5000 == 0) spill.Publish();
    }
    spill.Close();
    auto c = spill.counters();
    EXPECT_EQ(c.records_in, 200000u);
    EXPECT_EQ(c.records_out, 200000u);
    EXPECT_EQ(c.records_dropped, 0u);
    EXPECT_EQ(c.records_invalid, 0u);
  }
  ASSERT_EQ(sink.tids.size(), 200000u);
  for (uint32_t i = 0; i < 200000; ++i) {
    ASSERT_EQ(sink.tids[i], i);
    ASSERT_EQ(sink.blobs[i], i % 3 == 0 ? "data" + std::to_string(i) : "");
  }
}

TEST(RecordSpill, MemoryBoundDropsAndCounts) {
  // A sink that is slow to start: the first event blocks until released, so
  // records pile up against a bound of two chunks.
  class Blocking : public capture::EventSink {
   public:
    void OnSyscall(const capture::SyscallEvent&) override {
      absl::MutexLock l(&mu);
      mu.Await(absl::Condition(&go));
      ++n;
    }
    void OnProcess(const capture::ProcessEvent&) override {}
    absl::Mutex mu;
    bool go = false;
    uint64_t n = 0;
  } sink;
  RecordSpill spill(&sink, /*max_bytes=*/size_t{8} << 20);
  std::string rec = SyscallRecord(0, 1);
  const uint64_t total = 400000;  // ~40 MB of records, far over the bound
  for (uint64_t i = 0; i < total; ++i) spill.OnRawRecord(rec.data(), rec.size());
  {
    absl::MutexLock l(&sink.mu);
    sink.go = true;
  }
  spill.Close();
  auto c = spill.counters();
  EXPECT_GT(c.records_dropped, 0u);
  EXPECT_EQ(c.records_in + c.records_dropped, total);
  EXPECT_EQ(c.records_out, c.records_in);
  EXPECT_EQ(sink.n, c.records_in);
  EXPECT_LE(c.peak_bytes, size_t{8} << 20);
}

TEST(RecordSpill, InvalidRecordsAreCountedNotDelivered) {
  Collect sink;
  RecordSpill spill(&sink);
  std::string junk = "definitely not a record";
  spill.OnRawRecord(junk.data(), junk.size());
  std::string ok = SyscallRecord(2, 9);
  spill.OnRawRecord(ok.data(), ok.size());
  spill.Close();
  EXPECT_EQ(spill.counters().records_invalid, 1u);
  EXPECT_EQ(sink.tids, std::vector<uint32_t>{9});
}

}  // namespace
}  // namespace tracer::pipeline
