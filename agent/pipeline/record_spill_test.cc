#include "agent/pipeline/record_spill.h"

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "agent/capture/syscalls_abi.h"
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

// Socket-tracker records packed by hand from the layout diagram in
// bpf/sockets.h (that header is private to agent/capture): header
// type:u8 flags:u8 size:u16 nr:s32 tgid:u32 tid:u32, then per type.
constexpr uint8_t kSocketOpen = 16, kSocketData = 17, kSocketClose = 18;

template <typename T>
void Put(std::string& rec, size_t off, T v) {
  std::memcpy(rec.data() + off, &v, sizeof v);
}

std::string SocketHeader(uint8_t type, size_t size, uint32_t tgid) {
  std::string rec(size, '\0');
  Put<uint8_t>(rec, 0, type);
  Put<uint16_t>(rec, 2, static_cast<uint16_t>(size));
  Put<uint32_t>(rec, 8, tgid);
  Put<uint32_t>(rec, 12, tgid);
  return rec;
}

std::string SocketOpen(uint64_t conn, uint32_t tgid) {
  std::string r = SocketHeader(kSocketOpen, 80, tgid);
  Put<uint64_t>(r, 16, conn);
  Put<uint64_t>(r, 24, 1000);   // ts_ns
  Put<int32_t>(r, 32, 5);       // fd
  Put<uint8_t>(r, 36, 2);       // role: server
  Put<uint8_t>(r, 37, 2);       // family: AF_INET
  Put<uint16_t>(r, 40, 8080);   // local port
  Put<uint16_t>(r, 42, 40000);  // remote port
  const uint8_t lo[4] = {127, 0, 0, 1};
  std::memcpy(r.data() + 48, lo, 4);
  std::memcpy(r.data() + 64, lo, 4);
  return r;
}

std::string SocketData(uint64_t conn, uint32_t tgid, const std::string& payload, uint64_t length) {
  std::string r = SocketHeader(kSocketData, 64 + payload.size(), tgid);
  Put<uint64_t>(r, 16, conn);
  Put<uint64_t>(r, 24, 2000);  // start_ns
  Put<uint64_t>(r, 32, 2100);  // end_ns
  Put<uint64_t>(r, 40, length);
  Put<int32_t>(r, 48, 5);                                       // fd
  Put<uint8_t>(r, 52, 2);                                       // direction: ingress
  Put<uint32_t>(r, 56, static_cast<uint32_t>(payload.size()));  // captured
  std::memcpy(r.data() + 64, payload.data(), payload.size());
  return r;
}

std::string SocketClose(uint64_t conn, uint32_t tgid) {
  std::string r = SocketHeader(kSocketClose, 40, tgid);
  Put<uint64_t>(r, 16, conn);
  Put<uint64_t>(r, 24, 3000);  // ts_ns
  Put<int32_t>(r, 32, 5);      // fd
  Put<uint8_t>(r, 36, 1);      // reason: close(fd)
  return r;
}

// Records every event kind in arrival order.
class Sequence : public capture::EventSink {
 public:
  void OnSyscall(const capture::SyscallEvent& e) override { log.push_back("syscall"); }
  void OnProcess(const capture::ProcessEvent&) override { log.push_back("process"); }
  void OnSocketOpen(const capture::SocketOpenEvent& e) override {
    log.push_back(absl::StrCat("open ", e.conn.id, " ", e.local.AddressString(), ":", e.local.port,
                               " server=", e.role == capture::SocketRole::kServer));
  }
  void OnSocketData(const capture::SocketDataEvent& e) override {
    log.push_back(absl::StrCat("data ", e.conn.id, " ", e.length, " '", std::string(e.data), "'"));
  }
  void OnSocketClose(const capture::SocketCloseEvent& e) override {
    log.push_back(absl::StrCat("close ", e.conn.id));
  }
  std::vector<std::string> log;
};

TEST(RecordSpill, SocketRecordsAreDecodedAndDeliveredInOrder) {
  Sequence sink;
  RecordSpill spill(&sink);
  const std::string recs[] = {
      SocketOpen(11, 100),
      SyscallRecord(0, 100),
      SocketData(11, 100, "GET / HTTP/1.1\r\n", 5000),  // 16 bytes of 5000 copied
      SocketClose(11, 100),
  };
  for (const std::string& r : recs) spill.OnRawRecord(r.data(), r.size());
  spill.Close();
  EXPECT_EQ(sink.log, (std::vector<std::string>{
                          "open 11 127.0.0.1:8080 server=1",
                          "syscall",
                          "data 11 5000 'GET / HTTP/1.1\r\n'",
                          "close 11",
                      }));
  auto c = spill.counters();
  EXPECT_EQ(c.records_out, 4u);
  EXPECT_EQ(c.socket_records, 3u);
  EXPECT_EQ(c.records_invalid, 0u);
}

TEST(RecordSpill, InconsistentSocketRecordIsCountedInvalid) {
  Sequence sink;
  RecordSpill spill(&sink);
  std::string bad = SocketData(11, 100, "GET /", 5);
  bad.resize(bad.size() - 3);  // claims more captured bytes than it holds
  spill.OnRawRecord(bad.data(), bad.size());
  spill.Close();
  EXPECT_TRUE(sink.log.empty());
  EXPECT_EQ(spill.counters().records_invalid, 1u);
  EXPECT_EQ(spill.counters().socket_records, 0u);
}

TEST(RecordSpill, TickRunsOnTheWorkerWhileIdleAndStopsAtClose) {
  class ThreadCheck : public capture::EventSink {
   public:
    void OnSyscall(const capture::SyscallEvent&) override { id = std::this_thread::get_id(); }
    void OnProcess(const capture::ProcessEvent&) override {}
    std::thread::id id;
  } sink;
  absl::Mutex mu;
  int ticks = 0;
  std::thread::id tick_thread;
  uint64_t last_now = 0;
  absl::Notification three;
  RecordSpill spill(
      &sink, size_t{1} << 30,
      [&](uint64_t now) {
        absl::MutexLock l(&mu);
        tick_thread = std::this_thread::get_id();
        EXPECT_GE(now, last_now);
        last_now = now;
        if (++ticks == 3) three.Notify();
      },
      absl::Milliseconds(10));
  // No record at all: ticks still come.
  ASSERT_TRUE(three.WaitForNotificationWithTimeout(absl::Seconds(10)));
  std::string rec = SyscallRecord(1, 7);
  spill.OnRawRecord(rec.data(), rec.size());
  spill.Close();
  int after_close;
  {
    absl::MutexLock l(&mu);
    after_close = ticks;
    EXPECT_EQ(tick_thread, sink.id);  // the thread that delivered the record
    EXPECT_NE(tick_thread, std::this_thread::get_id());
  }
  absl::SleepFor(absl::Milliseconds(50));
  absl::MutexLock l(&mu);
  EXPECT_EQ(ticks, after_close);
}

}  // namespace
}  // namespace tracer::pipeline
