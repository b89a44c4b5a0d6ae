#include "otlp/retry_policy.h"

#include <deque>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::otlp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Advances virtual time on every sleep and records the waits.
class FakeClock : public RetryClock {
 public:
  absl::Time Now() override { return now_; }
  bool SleepFor(absl::Duration d, absl::Notification* cancel) override {
    sleeps.push_back(d);
    now_ += d;
    return !cancel->HasBeenNotified();
  }
  void Advance(absl::Duration d) { now_ += d; }
  std::vector<absl::Duration> sleeps;

 private:
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
};

// Returns scripted results, one per Export call; each attempt takes
// `attempt_time` of virtual time.
class ScriptedExporter : public SpanExporter {
 public:
  ScriptedExporter(FakeClock* clock, std::deque<absl::StatusOr<ExportResult>> script,
                   absl::Duration attempt_time = absl::ZeroDuration())
      : clock_(clock), script_(std::move(script)), attempt_time_(attempt_time) {}
  absl::StatusOr<ExportResult> Export(const ExportTraceServiceRequest&) override {
    ++*calls_;
    clock_->Advance(attempt_time_);
    if (script_.empty()) return absl::InternalError("script exhausted");
    auto r = script_.front();
    script_.pop_front();
    return r;
  }
  absl::Status Shutdown() override { return absl::OkStatus(); }
  std::string Describe() const override { return "scripted"; }
  std::shared_ptr<int> calls_ = std::make_shared<int>(0);

 private:
  FakeClock* clock_;
  std::deque<absl::StatusOr<ExportResult>> script_;
  absl::Duration attempt_time_;
};

absl::Status Unavailable(std::optional<absl::Duration> after = std::nullopt) {
  return MarkRetryable(absl::UnavailableError("backend says: overloaded"), after);
}

TEST(RetryClassification, GrpcCodesPerSpec) {
  for (auto c : {absl::StatusCode::kCancelled, absl::StatusCode::kDeadlineExceeded,
                 absl::StatusCode::kAborted, absl::StatusCode::kOutOfRange,
                 absl::StatusCode::kUnavailable, absl::StatusCode::kDataLoss}) {
    EXPECT_TRUE(IsRetryableGrpcCode(c, false)) << c;
  }
  EXPECT_FALSE(IsRetryableGrpcCode(absl::StatusCode::kResourceExhausted, false));
  EXPECT_TRUE(IsRetryableGrpcCode(absl::StatusCode::kResourceExhausted, true));
  for (auto c :
       {absl::StatusCode::kUnknown, absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
        absl::StatusCode::kAlreadyExists, absl::StatusCode::kPermissionDenied,
        absl::StatusCode::kFailedPrecondition, absl::StatusCode::kUnimplemented,
        absl::StatusCode::kInternal, absl::StatusCode::kUnauthenticated}) {
    EXPECT_FALSE(IsRetryableGrpcCode(c, true)) << c;
  }
}

TEST(RetryClassification, HttpStatusesPerSpec) {
  std::vector<int> retryable;
  for (int s = 100; s < 600; ++s) {
    if (IsRetryableHttpStatus(s)) retryable.push_back(s);
  }
  EXPECT_THAT(retryable, ElementsAre(429, 502, 503, 504));
}

TEST(RetryAfter, SecondsAndHttpDate) {
  absl::Time now = absl::FromUnixSeconds(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now), absl::Seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-5", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
}

TEST(RetryMarks, PayloadRoundTrip) {
  absl::Status s = MarkRetryable(absl::UnavailableError("x"), absl::Milliseconds(1500));
  EXPECT_TRUE(IsMarkedRetryable(s));
  EXPECT_EQ(RetryAfterOf(s), absl::Milliseconds(1500));
  EXPECT_FALSE(IsMarkedRetryable(absl::UnavailableError("x")));
  EXPECT_EQ(RetryAfterOf(MarkRetryable(absl::UnavailableError("x"))), std::nullopt);
}

TEST(RetryingExporter, RetriesRetryableThenSucceeds) {
  FakeClock clock;
  auto inner = std::make_unique<ScriptedExporter>(
      &clock, std::deque<absl::StatusOr<ExportResult>>{Unavailable(), Unavailable(),
                                                       ExportResult{3, "three bad", 0}});
  auto calls = inner->calls_;
  RetryingExporter ex(std::move(inner), RetryPolicy{}, &clock, [] { return 0.5; });
  auto r = ex.Export(ExportTraceServiceRequest());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->retries, 2);
  EXPECT_EQ(r->rejected_spans, 3);
  EXPECT_EQ(*calls, 3);
  EXPECT_THAT(clock.sleeps, ElementsAre(absl::Seconds(5), absl::Milliseconds(7500)));
}

TEST(RetryingExporter, NonRetryableReturnsAtOnceWithBackendMessage) {
  FakeClock clock;
  auto inner = std::make_unique<ScriptedExporter>(
      &clock,
      std::deque<absl::StatusOr<ExportResult>>{absl::InvalidArgumentError("HTTP 400: bad span")});
  auto calls = inner->calls_;
  RetryingExporter ex(std::move(inner), RetryPolicy{}, &clock);
  auto r = ex.Export(ExportTraceServiceRequest());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "HTTP 400: bad span");
  EXPECT_EQ(*calls, 1);
  EXPECT_TRUE(clock.sleeps.empty());
  EXPECT_EQ(RetriesOf(r.status()), 0);
}

TEST(RetryingExporter, HonoursRetryAfterWhenLongerThanBackoff) {
  FakeClock clock;
  auto inner = std::make_unique<ScriptedExporter>(
      &clock, std::deque<absl::StatusOr<ExportResult>>{
                  Unavailable(absl::Seconds(42)), Unavailable(absl::Seconds(1)), ExportResult{}});
  RetryingExporter ex(std::move(inner), RetryPolicy{}, &clock, [] { return 0.5; });
  ASSERT_TRUE(ex.Export(ExportTraceServiceRequest()).ok());
  // 42 s asked > 5 s backoff; then 7.5 s backoff > 1 s asked.
  EXPECT_THAT(clock.sleeps, ElementsAre(absl::Seconds(42), absl::Milliseconds(7500)));
}

TEST(RetryingExporter, GivesUpWithinMaxElapsedTime) {
  FakeClock clock;
  std::deque<absl::StatusOr<ExportResult>> script(100, Unavailable());
  auto inner = std::make_unique<ScriptedExporter>(&clock, script, absl::Seconds(1));
  auto calls = inner->calls_;
  RetryingExporter ex(std::move(inner), RetryPolicy{}, &clock, [] { return 0.5; });
  const absl::Time start = clock.Now();
  auto r = ex.Export(ExportTraceServiceRequest());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("gave up (retry budget 5m)"));
  EXPECT_THAT(r.status().message(), HasSubstr("backend says: overloaded"));
  EXPECT_LE(clock.Now() - start, absl::Seconds(300));
  // Waits 5, 7.5, 11.25, 16.875, 25.3125, then 30 s (capped), 1 s per
  // attempt: the 13th attempt ends at 288.9 s and another 30 s wait would
  // pass the 300 s budget.
  EXPECT_EQ(*calls, 13);
  EXPECT_EQ(RetriesOf(r.status()), 12);
  EXPECT_THAT(r.status().message(), HasSubstr("after 13 attempts in 4m48.9375s"));
}

TEST(RetryingExporter, RetryAfterBeyondBudgetGivesUpImmediately) {
  FakeClock clock;
  auto inner = std::make_unique<ScriptedExporter>(
      &clock, std::deque<absl::StatusOr<ExportResult>>{Unavailable(absl::Seconds(3600))});
  RetryingExporter ex(std::move(inner), RetryPolicy{}, &clock);
  auto r = ex.Export(ExportTraceServiceRequest());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(clock.sleeps.empty());
}

TEST(RetryingExporter, DisabledPolicyMakesOneAttempt) {
  FakeClock clock;
  auto inner = std::make_unique<ScriptedExporter>(
      &clock, std::deque<absl::StatusOr<ExportResult>>{Unavailable(), ExportResult{}});
  auto calls = inner->calls_;
  RetryPolicy p;
  p.enabled = false;
  RetryingExporter ex(std::move(inner), p, &clock);
  const absl::Status st = ex.Export(ExportTraceServiceRequest()).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(*calls, 1);
  // The transport's marks survive, so a caller with its own retry loop (the
  // control plane's fan-out) still sees a retryable failure.
  EXPECT_TRUE(IsMarkedRetryable(st));
}

TEST(RetryingExporter, CancelStopsWaitingWithRealClock) {
  FakeClock script_clock;
  std::deque<absl::StatusOr<ExportResult>> script(10, Unavailable());
  RetryPolicy p;
  p.initial_interval = absl::Seconds(60);
  RetryingExporter ex(std::make_unique<ScriptedExporter>(&script_clock, script), p);
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(100));
    ex.Cancel();
  });
  const absl::Time start = absl::Now();
  auto r = ex.Export(ExportTraceServiceRequest());
  canceller.join();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_THAT(r.status().message(), HasSubstr("backend says: overloaded"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

}  // namespace
}  // namespace tracer::otlp
