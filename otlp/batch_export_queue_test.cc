#include "otlp/batch_export_queue.h"

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "otlp/retry_policy.h"
#include "otlp/test_requests.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::otlp {
namespace {

using ::testing::HasSubstr;

// An in-process exporter whose behaviour the test controls.
class ControlledExporter : public SpanExporter {
 public:
  struct State {
    absl::Mutex mu;
    bool hold = false;  // Export waits while true
    absl::Status fail;  // returned when not OK
    int64_t rejected = 0;
    int calls = 0;
    int64_t spans = 0;
    std::atomic<bool> cancelled{false};
    std::atomic<bool> shut_down{false};
  };
  explicit ControlledExporter(std::shared_ptr<State> s) : s_(std::move(s)) {}
  absl::StatusOr<ExportResult> Export(const ExportTraceServiceRequest& r) override {
    absl::MutexLock lock(&s_->mu);
    s_->mu.Await(absl::Condition(
        +[](State* s) { return !s->hold || s->cancelled.load(); }, s_.get()));
    ++s_->calls;
    if (s_->cancelled) return absl::CancelledError("cancelled");
    if (!s_->fail.ok()) return s_->fail;
    s_->spans += CountSpans(r);
    return ExportResult{s_->rejected, "", 0};
  }
  absl::Status Shutdown() override {
    s_->shut_down = true;
    return absl::OkStatus();
  }
  void Cancel() override {
    absl::MutexLock lock(&s_->mu);  // so Await re-evaluates its condition
    s_->cancelled = true;
  }
  std::string Describe() const override { return "test-backend"; }

 private:
  std::shared_ptr<State> s_;
};

std::shared_ptr<const ExportTraceServiceRequest> Req(int spans) {
  return std::make_shared<const ExportTraceServiceRequest>(testing::MakeSyscallRequest(spans));
}

absl::Time Soon() { return absl::Now() + absl::Seconds(10); }

TEST(BatchExportQueue, ExportsEverythingInOrderAndCounts) {
  auto st = std::make_shared<ControlledExporter::State>();
  st->rejected = 1;
  BatchExportQueue q(std::make_unique<ControlledExporter>(st));
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(q.Enqueue(Req(i), i).ok());
  ASSERT_TRUE(q.Flush(Soon()).ok());
  ExportCounters c = q.counters();
  EXPECT_EQ(c.spans_enqueued, 15);
  EXPECT_EQ(c.spans_exported, 15);
  EXPECT_EQ(c.requests_exported, 5);
  EXPECT_EQ(c.spans_rejected, 5);
  EXPECT_EQ(c.spans_dropped, 0);
  EXPECT_EQ(st->spans, 15);
  ASSERT_TRUE(q.Shutdown(Soon()).ok());
  EXPECT_TRUE(st->shut_down);
}

TEST(BatchExportQueue, DropPolicyCountsAndReports) {
  auto st = std::make_shared<ControlledExporter::State>();
  st->hold = true;
  QueueOptions o;
  o.max_queue_spans = 10;
  BatchExportQueue q(std::make_unique<ControlledExporter>(st), o);
  ASSERT_TRUE(q.Enqueue(Req(4), 4).ok());  // taken by the worker, held
  // Wait until the worker holds it, so the queue is empty.
  while (q.counters().spans_enqueued != 4) absl::SleepFor(absl::Milliseconds(1));
  absl::SleepFor(absl::Milliseconds(20));
  ASSERT_TRUE(q.Enqueue(Req(6), 6).ok());
  ASSERT_TRUE(q.Enqueue(Req(4), 4).ok());
  absl::Status full = q.Enqueue(Req(3), 3);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(full.message(), HasSubstr("is full (10 of 10 spans); 3 spans dropped"));
  EXPECT_EQ(q.counters().spans_dropped, 3);
  {
    absl::MutexLock lock(&st->mu);
    st->hold = false;
  }
  absl::Status flushed = q.Flush(Soon());
  EXPECT_THAT(flushed.message(), HasSubstr("3 spans dropped"));
  EXPECT_EQ(q.counters().spans_exported, 14);
  EXPECT_TRUE(q.Flush(Soon()).ok());  // the report was taken
}

TEST(BatchExportQueue, OversizedRequestFitsAnEmptyQueue) {
  auto st = std::make_shared<ControlledExporter::State>();
  QueueOptions o;
  o.max_queue_spans = 2;
  BatchExportQueue q(std::make_unique<ControlledExporter>(st), o);
  ASSERT_TRUE(q.Enqueue(Req(5), 5).ok());
  ASSERT_TRUE(q.Flush(Soon()).ok());
  EXPECT_EQ(q.counters().spans_exported, 5);
}

TEST(BatchExportQueue, BlockPolicyWaitsForRoom) {
  auto st = std::make_shared<ControlledExporter::State>();
  st->hold = true;
  QueueOptions o;
  o.max_queue_spans = 2;
  o.full_policy = QueueFullPolicy::kBlock;
  BatchExportQueue q(std::make_unique<ControlledExporter>(st), o);
  ASSERT_TRUE(q.Enqueue(Req(2), 2).ok());  // in flight, held
  while (q.counters().spans_enqueued != 2) absl::SleepFor(absl::Milliseconds(1));
  absl::SleepFor(absl::Milliseconds(20));
  ASSERT_TRUE(q.Enqueue(Req(2), 2).ok());  // queued: now full
  absl::Notification done;
  std::thread producer([&] {
    EXPECT_TRUE(q.Enqueue(Req(1), 1).ok());
    done.Notify();
  });
  EXPECT_FALSE(done.WaitForNotificationWithTimeout(absl::Milliseconds(100)));
  {
    absl::MutexLock lock(&st->mu);
    st->hold = false;
  }
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  producer.join();
  ASSERT_TRUE(q.Flush(Soon()).ok());
  EXPECT_EQ(q.counters().spans_exported, 5);
  EXPECT_EQ(q.counters().spans_dropped, 0);
}

TEST(BatchExportQueue, FailuresAreReportedWithBackendAndLastError) {
  auto st = std::make_shared<ControlledExporter::State>();
  st->fail = absl::InvalidArgumentError("HTTP 400: span name too long");
  BatchExportQueue q(std::make_unique<ControlledExporter>(st));
  ASSERT_TRUE(q.Enqueue(Req(3), 3).ok());
  ASSERT_TRUE(q.Enqueue(Req(2), 2).ok());
  absl::Status s = q.Flush(Soon());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("export to test-backend"));
  EXPECT_THAT(s.message(), HasSubstr("2 request(s) with 5 spans failed"));
  EXPECT_THAT(s.message(), HasSubstr("last error: HTTP 400: span name too long"));
  EXPECT_EQ(q.counters().spans_failed, 5);
  EXPECT_EQ(q.counters().requests_failed, 2);
}

TEST(BatchExportQueue, FlushDeadlineAndShutdownNeverHang) {
  auto st = std::make_shared<ControlledExporter::State>();
  st->hold = true;  // a backend that never answers
  BatchExportQueue q(std::make_unique<ControlledExporter>(st));
  ASSERT_TRUE(q.Enqueue(Req(3), 3).ok());
  ASSERT_TRUE(q.Enqueue(Req(4), 4).ok());
  const absl::Time start = absl::Now();
  absl::Status f = q.Flush(absl::Now() + absl::Milliseconds(100));
  EXPECT_EQ(f.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(f.message(), HasSubstr("flush timed out"));
  absl::Status s = q.Shutdown(absl::Now() + absl::Milliseconds(100));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(s.message(), HasSubstr("4 spans still queued (dropped)"));
  EXPECT_THAT(s.message(), HasSubstr("last error: cancelled"));
  ExportCounters c = q.counters();
  EXPECT_EQ(c.spans_dropped, 4);
  EXPECT_EQ(c.spans_failed, 3);
  EXPECT_TRUE(st->cancelled);
  EXPECT_EQ(q.Enqueue(Req(1), 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(q.counters().spans_dropped, 5);
}

// With the real RetryingExporter: retries are counted.
TEST(BatchExportQueue, CountsRetriesFromRetryingExporter) {
  class FlakyOnce : public SpanExporter {
   public:
    absl::StatusOr<ExportResult> Export(const ExportTraceServiceRequest&) override {
      if (calls_++ < 2) return MarkRetryable(absl::UnavailableError("down"));
      return ExportResult{};
    }
    absl::Status Shutdown() override { return absl::OkStatus(); }
    std::string Describe() const override { return "flaky"; }
    int calls_ = 0;
  };
  RetryPolicy p;
  p.initial_interval = absl::Milliseconds(1);
  p.max_interval = absl::Milliseconds(2);
  BatchExportQueue q(std::make_unique<RetryingExporter>(std::make_unique<FlakyOnce>(), p));
  ASSERT_TRUE(q.Enqueue(Req(2), 2).ok());
  ASSERT_TRUE(q.Flush(Soon()).ok());
  EXPECT_EQ(q.counters().retries, 2);
  EXPECT_EQ(q.counters().spans_exported, 2);
}

}  // namespace
}  // namespace tracer::otlp
