#include "agent/pipeline/trace_builder.h"

#include <memory>
#include <vector>

#include "common/clock.h"
#include "gtest/gtest.h"

namespace tracer::pipeline {
namespace {

class Batches : public spans::BatchSink {
 public:
  void OnBatch(std::shared_ptr<const spans::SpanBatch> batch) override {
    spans += batch->span_count();
    ++batches;
  }
  size_t spans = 0;
  int batches = 0;
};

TraceBuilderOptions Synthetic() {
  TraceBuilderOptions o;
  o.spans.read_proc = false;
  o.spans.max_batch_spans = 4;
  return o;
}

capture::SyscallEvent Getpid(uint32_t tgid) {
  capture::SyscallEvent e;
  e.tgid = e.tid = tgid;
  e.nr = 39;  // getpid
  e.start_ns = common::MonotonicNowNs();
  e.duration_ns = 1000;
  return e;
}

TEST(TraceBuilder, SampledBatchesPassOnAndAreCounted) {
  Batches sink;
  std::vector<bool> seen;
  TraceBuilderOptions o = Synthetic();
  o.on_batch = [&seen](const spans::SpanBatch&, bool passed) { seen.push_back(passed); };
  TraceBuilder t(o, &sink);
  EXPECT_TRUE(t.sampled());
  EXPECT_FALSE(t.has_http());
  t.span_builder().AddRootProcess(100, common::MonotonicNowNs());
  for (int i = 0; i < 10; ++i) t.OnSyscall(Getpid(100));
  t.Finish(common::MonotonicNowNs());
  EXPECT_EQ(sink.spans, 11u);  // 10 syscalls + the process span
  EXPECT_EQ(t.counters().spans_batched, 11u);
  EXPECT_EQ(t.counters().spans_sampled_out, 0u);
  ASSERT_EQ(seen.size(), static_cast<size_t>(sink.batches));
  for (bool passed : seen) EXPECT_TRUE(passed);
}

TEST(TraceBuilder, TheSamplerHookDecidesOncePerTraceId) {
  Batches sink;
  spans::TraceId asked{};
  int calls = 0;
  TraceBuilderOptions o = Synthetic();
  o.sampler = [&](const spans::TraceId& id) {
    asked = id;
    ++calls;
    return false;
  };
  TraceBuilder t(o, &sink);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(asked, t.span_builder().trace_id());
  EXPECT_FALSE(t.sampled());
  t.span_builder().AddRootProcess(100, common::MonotonicNowNs());
  for (int i = 0; i < 5; ++i) t.OnSyscall(Getpid(100));
  t.Finish(common::MonotonicNowNs());
  EXPECT_EQ(sink.spans, 0u);
  EXPECT_EQ(t.counters().spans_batched, 6u);
  EXPECT_EQ(t.counters().spans_sampled_out, 6u);
}

TEST(TraceBuilder, WithoutSpansEventsAreIgnored) {
  Batches sink;
  TraceBuilderOptions o = Synthetic();
  o.build_spans = false;
  TraceBuilder t(o, &sink);
  for (int i = 0; i < 5; ++i) t.OnSyscall(Getpid(100));
  t.Finish(common::MonotonicNowNs());
  EXPECT_EQ(sink.spans, 0u);
  EXPECT_EQ(t.counters().spans_batched, 0u);
}

TEST(TraceBuilder, NoDownstreamCountsBatchesAsSampledOut) {
  TraceBuilder t(Synthetic(), nullptr);
  t.span_builder().AddRootProcess(100, common::MonotonicNowNs());
  t.OnSyscall(Getpid(100));
  t.Finish(common::MonotonicNowNs());
  EXPECT_EQ(t.counters().spans_batched, 2u);
  EXPECT_EQ(t.counters().spans_sampled_out, 2u);
}

}  // namespace
}  // namespace tracer::pipeline
