// NodePipeline without root: a source with raw records (delivered on the
// spill's worker) and one without (a replay, delivered on the polling
// thread), drained by Detach().
#include "agent/pipeline/node_pipeline.h"

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/capture/syscalls_abi.h"
#include "gtest/gtest.h"

namespace tracer::pipeline {
namespace {

std::string SyscallRecord(uint32_t tid) {
  capture::bpf_abi::SyscallRecord r{};
  r.hdr.type = SYSCALLS_REC_SYSCALL;
  r.hdr.nr = 39;
  r.hdr.tgid = 100;
  r.hdr.tid = tid;
  r.hdr.size = sizeof r;
  return std::string(reinterpret_cast<const char*>(&r), sizeof r);
}

// Hands out `per_poll` queued syscalls per poll, raw or decoded.
class ScriptedSource : public capture::EventSource {
 public:
  ScriptedSource(int records, int per_poll, bool raw) : per_poll_(per_poll), raw_(raw) {
    for (int i = 0; i < records; ++i) tids_.push_back(static_cast<uint32_t>(i));
  }
  absl::Status AddTarget(uint32_t) override { return absl::OkStatus(); }
  absl::StatusOr<int> Poll(capture::EventSink& sink, int) override {
    int n = 0;
    for (; n < per_poll_ && !tids_.empty(); ++n) {
      capture::SyscallEvent e;
      e.tgid = 100;
      e.tid = tids_.front();
      tids_.pop_front();
      sink.OnSyscall(e);
    }
    return n;
  }
  absl::StatusOr<int> PollRaw(capture::RawRecordSink& sink, int timeout_ms) override {
    if (!raw_) return EventSource::PollRaw(sink, timeout_ms);
    int n = 0;
    for (; n < per_poll_ && !tids_.empty(); ++n) {
      const std::string rec = SyscallRecord(tids_.front());
      tids_.pop_front();
      sink.OnRawRecord(rec.data(), rec.size());
    }
    return n;
  }
  capture::CaptureCounters Counters() const override { return {}; }
  absl::StatusOr<std::vector<capture::SyscallTotals>> Totals() const override {
    return std::vector<capture::SyscallTotals>{};
  }

 private:
  std::deque<uint32_t> tids_;
  const int per_poll_;
  const bool raw_;
};

class Recorder : public capture::EventSink {
 public:
  void OnSyscall(const capture::SyscallEvent& e) override {
    absl::MutexLock l(&mu);
    tids.push_back(e.tid);
    threads.push_back(std::this_thread::get_id());
  }
  void OnProcess(const capture::ProcessEvent&) override {}
  absl::Mutex mu;
  std::vector<uint32_t> tids;
  std::vector<std::thread::id> threads;
};

void ExpectInOrder(const Recorder& r, int n) {
  ASSERT_EQ(r.tids.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) EXPECT_EQ(r.tids[i], static_cast<uint32_t>(i));
}

TEST(NodePipeline, RawRecordsAreDecodedOnTheWorkerAndDrainedByDetach) {
  ScriptedSource source(1000, 20, /*raw=*/true);
  Recorder events;
  NodePipeline node(NodePipelineOptions{});
  EXPECT_EQ(node.batch_sink(), nullptr);
  node.Attach(&source, &events);
  EXPECT_TRUE(node.attached());
  int polls = 0;
  ASSERT_TRUE(node.RunUntil([&](int) { return ++polls == 10; }).ok());
  ASSERT_TRUE(node.Detach().ok());  // the other 800 records
  EXPECT_FALSE(node.attached());
  ExpectInOrder(events, 1000);
  for (const auto& t : events.threads) EXPECT_NE(t, std::this_thread::get_id());
  const NodePipelineCounters c = node.counters();
  EXPECT_EQ(c.records_in, 1000u);
  EXPECT_EQ(c.events, 1000u);
  EXPECT_EQ(c.records_dropped, 0u);
  EXPECT_EQ(c.records_invalid, 0u);
  EXPECT_TRUE(node.Close().ok());
}

TEST(NodePipeline, ASourceWithoutRawRecordsIsDeliveredOnThePollingThread) {
  ScriptedSource source(50, 4, /*raw=*/false);
  Recorder events;
  NodePipeline node(NodePipelineOptions{});
  int ticks = 0;
  node.Attach(&source, &events, [&ticks](uint64_t) { ++ticks; });
  ASSERT_TRUE(node.PollOnce(0).ok());
  ASSERT_TRUE(node.Detach().ok());
  ExpectInOrder(events, 50);
  for (const auto& t : events.threads) EXPECT_EQ(t, std::this_thread::get_id());
  EXPECT_GT(ticks, 0);
  EXPECT_EQ(node.counters().events, 50u);
}

TEST(NodePipeline, DetachGivesUpAfterTheDrainBound) {
  // A source that never runs dry (a workload still running).
  ScriptedSource source(1 << 20, 1, /*raw=*/true);
  Recorder events;
  NodePipelineOptions o;
  o.drain_max_polls = 20;
  NodePipeline node(o);
  node.Attach(&source, &events);
  ASSERT_TRUE(node.Detach().ok());
  EXPECT_EQ(events.tids.size(), 20u);
}

TEST(NodePipeline, ReattachingKeepsCountingAcrossSources) {
  Recorder events;
  NodePipeline node(NodePipelineOptions{});
  ScriptedSource first(10, 10, /*raw=*/true), second(5, 10, /*raw=*/true);
  node.Attach(&first, &events);
  node.Attach(&second, &events);  // detaches (drains) the first
  ASSERT_TRUE(node.Close().ok());
  EXPECT_EQ(events.tids.size(), 15u);
  EXPECT_EQ(node.counters().events, 15u);
}

}  // namespace
}  // namespace tracer::pipeline
