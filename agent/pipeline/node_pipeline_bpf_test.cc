// The node pipeline end to end on the running kernel: a child making known
// syscalls, traced through BPF capture → spill → TraceBuilder → WAL stage →
// sink. Needs root; skips otherwise (fails when CI is set).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "agent/capture/event_source.h"
#include "agent/pipeline/node_pipeline.h"
#include "agent/pipeline/trace_builder.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_wal.h"
#include "storage/testing/temp_dir.h"

namespace tracer::pipeline {
namespace {

using opentelemetry::proto::trace::v1::Span;

constexpr int kOpens = 25;
constexpr int kExitCode = 3;

std::string MissingPath(int i) { return absl::StrCat("/nonexistent/node-pipeline-", i); }

// The spans that reached the sink, copied out of their batches.
class SpanCollector : public spans::BatchSink {
 public:
  void OnBatch(std::shared_ptr<const spans::SpanBatch> batch) override {
    absl::MutexLock l(&mu_);
    ++batches_;
    for (const auto& rs : batch->request().resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& s : ss.spans()) spans_.push_back(s);
      }
    }
  }
  std::vector<Span> spans() const {
    absl::MutexLock l(&mu_);
    return spans_;
  }
  uint64_t batches() const {
    absl::MutexLock l(&mu_);
    return batches_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Span> spans_;
  uint64_t batches_ = 0;
};

std::string Attr(const Span& s, const std::string& key) {
  for (const auto& kv : s.attributes()) {
    if (kv.key() != key) continue;
    if (kv.value().has_string_value()) return kv.value().string_value();
    if (kv.value().has_int_value()) return absl::StrCat(kv.value().int_value());
  }
  return "";
}

// A forked child blocked on a pipe until Release(); then it opens kOpens
// missing files and exits with kExitCode.
class Child {
 public:
  Child() {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) std::abort();
    pid_ = fork();
    if (pid_ == 0) {
      close(p[1]);
      char c;
      while (read(p[0], &c, 1) < 0 && errno == EINTR) {
      }
      for (int i = 0; i < kOpens; ++i) (void)open(MissingPath(i).c_str(), O_RDONLY);
      _exit(kExitCode);
    }
    close(p[0]);
    gate_ = p[1];
  }
  ~Child() {
    if (gate_ >= 0) close(gate_);
    if (!reaped_) (void)Wait();
  }
  pid_t pid() const { return pid_; }
  void Release() {
    close(gate_);
    gate_ = -1;
  }
  bool Exited() {
    if (reaped_) return true;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) != pid_) return false;
    reaped_ = true;
    return true;
  }
  int Wait() {
    int st = 0;
    while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    return st;
  }

 private:
  pid_t pid_ = -1;
  int gate_ = -1;
  bool reaped_ = false;
};

// Traces a Child through `node` into `trace` until it exited, drains,
// finishes the trace and closes the pipeline.
void TraceChild(capture::EventSource& source, NodePipeline& node, TraceBuilder& trace) {
  Child child;
  ASSERT_TRUE(source.AddTarget(child.pid()).ok());
  trace.span_builder().AddRootProcess(child.pid(), common::MonotonicNowNs());
  node.Attach(&source, &trace);
  child.Release();
  ASSERT_TRUE(node.RunUntil([&](int) { return child.Exited(); }).ok());
  ASSERT_TRUE(node.Detach().ok());
  trace.Finish(common::MonotonicNowNs());
  ASSERT_TRUE(node.Close().ok());
}

class NodePipelineBpfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      if (std::getenv("CI") != nullptr) FAIL() << "node_pipeline_bpf_test needs root and CI is set";
      GTEST_SKIP() << "needs root to load BPF programs (CAP_BPF, CAP_PERFMON); skipping";
    }
  }
};

TEST_F(NodePipelineBpfTest, ChildSyscallsBecomeSpansInTheSinkAndTheWalWithNothingLost) {
  storage::testing::TempDir dir;
  storage::WalOptions wo;
  wo.data_dir = dir.path();
  auto wal = storage::RocksDbWal::Open(wo);
  ASSERT_TRUE(wal.ok()) << wal.status();
  ASSERT_TRUE((*wal)->RegisterConsumer("check", storage::StartPosition::kOldest).ok());

  capture::CaptureOptions co;
  co.follow_forks = true;
  auto source = capture::OpenBpfEventSource(co);
  ASSERT_TRUE(source.ok()) << source.status();

  SpanCollector sink;
  NodePipelineOptions no;
  no.wal = wal->get();
  no.sink = &sink;
  NodePipeline node(no);
  TraceBuilderOptions to;
  to.spans.read_proc = true;
  to.spans.max_batch_spans = 8;  // several batches
  TraceBuilder trace(to, node.batch_sink());
  TraceChild(**source, node, trace);
  if (HasFatalFailure()) return;

  // Every missing file was one failed openat span, under the child's
  // process span, which carries its exit code.
  const std::vector<Span> spans = sink.spans();
  int opens = 0;
  const Span* process = nullptr;
  for (const Span& s : spans) {
    if (s.name() == "openat" && absl::StrContains(Attr(s, "syscall.args"), "/nonexistent/")) {
      EXPECT_TRUE(absl::StrContains(Attr(s, "syscall.args"), MissingPath(opens)))
          << Attr(s, "syscall.args");
      EXPECT_EQ(s.status().message(), "ENOENT");
      ++opens;
    }
    if (Attr(s, "process.exit.code") == absl::StrCat(kExitCode)) process = &s;
  }
  EXPECT_EQ(opens, kOpens);
  ASSERT_NE(process, nullptr);
  for (const Span& s : spans) {
    if (s.name() == "openat") EXPECT_EQ(s.parent_span_id(), process->span_id());
  }

  // The same spans are in the WAL, one record per batch, in order.
  const NodePipelineCounters c = node.counters();
  EXPECT_EQ(c.wal.batches_appended, sink.batches());
  EXPECT_EQ(c.wal.spans_appended, spans.size());
  EXPECT_EQ(c.wal.batches_failed, 0u);
  storage::ReadLimits limits;
  limits.max_records = 1000;
  auto records = (*wal)->ReadFrom("check", limits);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), sink.batches());
  uint64_t wal_spans = 0;
  for (const auto& r : *records) wal_spans += r.span_count;
  EXPECT_EQ(wal_spans, spans.size());
  EXPECT_EQ(trace.counters().spans_batched, spans.size());
  EXPECT_EQ(trace.counters().spans_sampled_out, 0u);

  // Nothing lost on the way.
  EXPECT_EQ(c.records_dropped, 0u);
  EXPECT_EQ(c.records_invalid, 0u);
  EXPECT_EQ(c.events, c.records_in);
  EXPECT_GE(c.events, static_cast<uint64_t>(kOpens));
  const capture::CaptureCounters cc = (*source)->Counters();
  for (uint64_t d : cc.ringbuf_drops_per_cpu) EXPECT_EQ(d, 0u);
  EXPECT_EQ(cc.missed_syscalls, 0u);
}

TEST_F(NodePipelineBpfTest, WithoutAWalBatchesGoStraightToTheSink) {
  capture::CaptureOptions co;
  auto source = capture::OpenBpfEventSource(co);
  ASSERT_TRUE(source.ok()) << source.status();
  SpanCollector sink;
  NodePipelineOptions no;
  no.sink = &sink;
  NodePipeline node(no);
  EXPECT_EQ(node.batch_sink(), &sink);
  TraceBuilder trace(TraceBuilderOptions{}, node.batch_sink());
  TraceChild(**source, node, trace);
  if (HasFatalFailure()) return;
  int opens = 0;
  for (const Span& s : sink.spans()) {
    opens += s.name() == "openat" && absl::StrContains(Attr(s, "syscall.args"), "/nonexistent/");
  }
  EXPECT_EQ(opens, kOpens);
  EXPECT_EQ(node.counters().wal.batches_appended, 0u);
}

}  // namespace
}  // namespace tracer::pipeline
