// FanOut against a real RocksDbWal queue and scripted fake backends.
#include "controlplane/fanout/fanout.h"

#include <fstream>
#include <map>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "otlp/delivery/fake_backend_testing.h"
#include "otlp/delivery/queue_record.h"
#include "otlp/http_status.h"
#include "otlp/otlp_json.h"
#include "otlp/retry_policy.h"
#include "otlp/test_requests.h"
#include "storage/rocksdb_wal.h"
#include "storage/testing/temp_dir.h"
#include "storage/testing/test_wal.h"

namespace tracer::fanout {
namespace {

using otlp::ExportResult;
using otlp::ExportTraceServiceRequest;
namespace testing = otlp::delivery::testing;
using testing::Attempt;
using ::testing::ElementsAre;
using testing::FakeBackend;
using ::testing::HasSubstr;

constexpr int kSpansPerRecord = 5;

absl::StatusOr<ExportResult> Unavailable() {
  return otlp::MarkRetryable(absl::UnavailableError("fake: UNAVAILABLE: down"));
}

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class FanOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    OpenQueue();
  }

  void OpenQueue() {
    auto wal = storage::testing::OpenTestWal(dir_.path() + "/queue");
    ASSERT_TRUE(wal.ok()) << wal.status();
    queue_ = *std::move(wal);
  }

  FakeBackend* Backend(const std::string& name) {
    auto& b = backends_[name];
    if (!b) b = std::make_unique<FakeBackend>();
    return b.get();
  }

  FanOutOptions Options() {
    FanOutOptions o;
    o.dead_letter_dir = dir_.path() + "/dead";
    o.poll = absl::Milliseconds(20);
    o.exporter_factory =
        [this](const BackendOptions& b) -> absl::StatusOr<std::unique_ptr<otlp::SpanExporter>> {
      return Backend(b.name)->MakeExporter();
    };
    return o;
  }

  // Short waits so failure paths run in milliseconds.
  static BackendOptions Fast(const std::string& name) {
    BackendOptions b;
    b.name = name;
    b.exporter.endpoint = "http://127.0.0.1:1";
    b.exporter.retry.initial_interval = absl::Milliseconds(10);
    b.exporter.retry.max_interval = absl::Milliseconds(40);
    b.exporter.retry.multiplier = 2;
    b.exporter.retry.randomization_factor = 0;
    b.breaker.failure_threshold = 3;
    b.breaker.open_for = absl::Milliseconds(150);
    return b;
  }

  // Appends one queue record of kSpansPerRecord spans; returns its span ids.
  std::set<std::string> AppendRecord(uint64_t seed) {
    ExportTraceServiceRequest req = otlp::testing::MakeSyscallRequest(kSpansPerRecord, seed);
    std::string payload =
        otlp::delivery::EncodeQueueRecord("agent-1", seed, req.SerializeAsString());
    auto seq = queue_->Append(payload, kSpansPerRecord);
    EXPECT_TRUE(seq.ok()) << seq.status();
    return testing::SpanIds(req);
  }

  std::set<std::string> AppendRecords(uint64_t first_seed, int n) {
    std::set<std::string> ids;
    for (int i = 0; i < n; ++i) {
      std::set<std::string> one = AppendRecord(first_seed + i);
      ids.insert(one.begin(), one.end());
    }
    return ids;
  }

  static BackendStats StatsOf(const FanOut& fanout, const std::string& name) {
    for (BackendStats& s : fanout.Stats()) {
      if (s.name == name) return s;
    }
    ADD_FAILURE() << "no stats for " << name;
    return {};
  }

  // Polls `pred` every 10 ms for up to `timeout`.
  template <typename Pred>
  static bool Eventually(Pred pred, absl::Duration timeout = absl::Seconds(3)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (pred()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return pred();
  }

  std::vector<std::string> ConsumerNames() const {
    std::vector<std::string> names;
    for (const auto& c : queue_->Stats().consumers) names.push_back(c.name);
    return names;
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::RocksDbWal> queue_;
  std::map<std::string, std::unique_ptr<FakeBackend>> backends_;
};

TEST_F(FanOutTest, OneDeadBackendDoesNotHoldBackTheOtherAndCatchesUpAfterRecovery) {
  std::atomic<bool> down{true};
  Backend("dead")->SetBehavior([&](const ExportTraceServiceRequest&, const Attempt&,
                                   absl::Notification*) -> absl::StatusOr<ExportResult> {
    if (down) return Unavailable();
    return ExportResult{};
  });
  FanOut fanout(queue_.get(), Options());
  std::set<std::string> want = AppendRecords(1, 10);
  ASSERT_TRUE(fanout.AddBackend(Fast("live")).ok());
  ASSERT_TRUE(fanout.AddBackend(Fast("dead")).ok());
  std::set<std::string> more = AppendRecords(11, 10);
  want.insert(more.begin(), more.end());
  fanout.Notify();

  const absl::Time start = absl::Now();
  ASSERT_TRUE(Backend("live")->WaitForSpans(want.size(), absl::Seconds(2)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_EQ(Backend("live")->accepted_span_ids(), want);
  EXPECT_TRUE(Backend("dead")->accepted_span_ids().empty());

  // The dead one keeps failing, counted by reason, and its breaker opens.
  ASSERT_TRUE(Eventually([&] { return StatsOf(fanout, "dead").circuit == CircuitState::kOpen; }));
  BackendStats dead = StatsOf(fanout, "dead");
  EXPECT_GT(dead.spans_failed_by_reason["unavailable"], 0u);
  EXPECT_EQ(dead.spans_failed, dead.spans_failed_by_reason["unavailable"]);
  EXPECT_EQ(dead.spans_sent, 0u);
  EXPECT_EQ(dead.queue_lag_spans, want.size());
  EXPECT_EQ(dead.queue_lag_records, 20u);
  EXPECT_THAT(dead.last_error, HasSubstr("UNAVAILABLE"));
  ASSERT_TRUE(Eventually([&] { return StatsOf(fanout, "live").queue_lag_records == 0; }));
  // The queue keeps what the dead backend has not had.
  EXPECT_EQ(queue_->Stats().records, 20u);

  down = false;
  ASSERT_TRUE(Backend("dead")->WaitForSpans(want.size(), absl::Seconds(3)));
  EXPECT_EQ(Backend("dead")->accepted_span_ids(), want);
  ASSERT_TRUE(Eventually([&] { return StatsOf(fanout, "dead").queue_lag_records == 0; }));
  dead = StatsOf(fanout, "dead");
  EXPECT_EQ(dead.spans_sent, want.size());
  EXPECT_GT(dead.spans_retried, 0u);
  EXPECT_EQ(dead.circuit, CircuitState::kClosed);
  EXPECT_EQ(dead.last_error, "");
  EXPECT_TRUE(Eventually([&] { return queue_->Stats().records == 0; }));
}

TEST_F(FanOutTest, NonRetryableRefusalIsDeadLetteredAndDeliveryContinues) {
  std::set<std::string> bad_ids;
  Backend("b")->SetBehavior([&](const ExportTraceServiceRequest& req, const Attempt& a,
                                absl::Notification*) -> absl::StatusOr<ExportResult> {
    if (a.span_ids == bad_ids) {
      return otlp::WithHttpStatus(absl::InvalidArgumentError("fake: HTTP 400: span name too long"),
                                  400);
    }
    return ExportResult{};
  });
  std::set<std::string> good = AppendRecords(1, 2);
  bad_ids = AppendRecord(3);
  std::set<std::string> rest = AppendRecords(4, 3);
  good.insert(rest.begin(), rest.end());

  FanOut fanout(queue_.get(), Options());
  BackendOptions b = Fast("b");
  b.max_batch_spans = kSpansPerRecord;  // one record per request
  ASSERT_TRUE(fanout.AddBackend(b).ok());

  ASSERT_TRUE(Backend("b")->WaitForSpans(good.size(), absl::Seconds(3)));
  ASSERT_TRUE(Eventually([&] { return StatsOf(fanout, "b").queue_lag_records == 0; }));
  EXPECT_EQ(Backend("b")->accepted_span_ids(), good);
  // Refused once, not retried.
  int bad_attempts = 0;
  for (const Attempt& a : Backend("b")->attempts()) bad_attempts += a.span_ids == bad_ids;
  EXPECT_EQ(bad_attempts, 1);

  BackendStats s = StatsOf(fanout, "b");
  EXPECT_EQ(s.spans_dead_lettered, bad_ids.size());
  EXPECT_EQ(s.spans_failed_by_reason["http_400"], bad_ids.size());
  EXPECT_EQ(s.spans_sent, good.size());
  EXPECT_EQ(s.spans_retried, 0u);

  std::vector<std::string> lines = ReadLines(dir_.path() + "/dead/b.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  auto decoded = otlp::FromOtlpJson(lines[0]);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(testing::SpanIds(*decoded), bad_ids);
  std::vector<std::string> errors = ReadLines(dir_.path() + "/dead/b.errors.jsonl");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("\"reason\":\"http_400\""));
  EXPECT_THAT(errors[0], HasSubstr("span name too long"));
  EXPECT_THAT(errors[0], HasSubstr("\"spans\":5,\"first_seq\":3,\"last_seq\":3"));
}

TEST_F(FanOutTest, CircuitOpensAfterThresholdStaysOpenAndHalfOpenProbeDecides) {
  FanOut* fanout_ptr = nullptr;
  std::map<int, CircuitState> circuit_at;  // attempt -> state seen during it
  absl::Mutex mu;
  Backend("b")->SetBehavior([&](const ExportTraceServiceRequest&, const Attempt& a,
                                absl::Notification*) -> absl::StatusOr<ExportResult> {
    {
      absl::MutexLock lock(&mu);
      circuit_at[a.number] = StatsOf(*fanout_ptr, "b").circuit;
    }
    if (a.number <= 4) return Unavailable();  // 1-3 trip it, 4 is a failed probe
    return ExportResult{};
  });
  AppendRecord(1);
  FanOut fanout(queue_.get(), Options());
  fanout_ptr = &fanout;
  BackendOptions b = Fast("b");
  b.breaker.failure_threshold = 3;
  b.breaker.open_for = absl::Milliseconds(300);
  b.exporter.retry.multiplier = 1;  // 10 ms between closed-circuit attempts
  ASSERT_TRUE(fanout.AddBackend(b).ok());

  ASSERT_TRUE(Backend("b")->WaitForAttempts(3, absl::Seconds(2)));
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(StatsOf(fanout, "b").circuit, CircuitState::kOpen);
  EXPECT_EQ(Backend("b")->attempts().size(), 3u);  // nothing while open

  ASSERT_TRUE(Backend("b")->WaitForSpans(kSpansPerRecord, absl::Seconds(3)));
  std::vector<Attempt> at = Backend("b")->attempts();
  ASSERT_EQ(at.size(), 5u);
  EXPECT_LT(at[1].time - at[0].time, absl::Milliseconds(150));
  EXPECT_LT(at[2].time - at[1].time, absl::Milliseconds(150));
  EXPECT_GE(at[3].time - at[2].time, absl::Milliseconds(300));  // open_for
  EXPECT_GE(at[4].time - at[3].time, absl::Milliseconds(300));  // re-opened by the probe
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(circuit_at[1], CircuitState::kClosed);
    EXPECT_EQ(circuit_at[4], CircuitState::kHalfOpen);
    EXPECT_EQ(circuit_at[5], CircuitState::kHalfOpen);
  }
  ASSERT_TRUE(Eventually([&] { return StatsOf(fanout, "b").circuit == CircuitState::kClosed; }));
  BackendStats s = StatsOf(fanout, "b");
  EXPECT_EQ(s.spans_failed_by_reason["unavailable"], 4u * kSpansPerRecord);
  EXPECT_EQ(s.spans_retried, 4u * kSpansPerRecord);
  EXPECT_EQ(s.spans_sent, 1u * kSpansPerRecord);
  EXPECT_EQ(CircuitStateName(s.circuit), "closed");
}

TEST_F(FanOutTest, RetryAfterIsTheMinimumWait) {
  Backend("b")->SetBehavior([&](const ExportTraceServiceRequest&, const Attempt& a,
                                absl::Notification*) -> absl::StatusOr<ExportResult> {
    if (a.number == 1) {
      return otlp::MarkRetryable(
          otlp::WithHttpStatus(absl::UnavailableError("fake: HTTP 503: busy"), 503),
          absl::Milliseconds(500));
    }
    return ExportResult{};
  });
  AppendRecord(1);
  FanOut fanout(queue_.get(), Options());
  ASSERT_TRUE(fanout.AddBackend(Fast("b")).ok());
  ASSERT_TRUE(Backend("b")->WaitForSpans(kSpansPerRecord, absl::Seconds(3)));
  std::vector<Attempt> at = Backend("b")->attempts();
  ASSERT_EQ(at.size(), 2u);
  EXPECT_GE(at[1].time - at[0].time, absl::Milliseconds(500));
  BackendStats s = StatsOf(fanout, "b");
  EXPECT_EQ(s.spans_failed_by_reason["http_503"], 1u * kSpansPerRecord);
  EXPECT_EQ(s.spans_retried, 1u * kSpansPerRecord);
}

TEST_F(FanOutTest, RestartResumesFromTheCursorResendingOnlyTheInFlightBatch) {
  // First run: batches 1 and 2 are accepted, batch 3 hangs until cancelled.
  Backend("first")->SetBehavior([&](const ExportTraceServiceRequest&, const Attempt& a,
                                    absl::Notification* cancel) -> absl::StatusOr<ExportResult> {
    if (a.number <= 2) return ExportResult{};
    cancel->WaitForNotificationWithTimeout(absl::Seconds(10));
    return absl::CancelledError("fake: cancelled");
  });
  std::vector<std::set<std::string>> records;
  std::set<std::string> all;
  for (int i = 1; i <= 5; ++i) {
    records.push_back(AppendRecord(i));
    all.insert(records.back().begin(), records.back().end());
  }
  FanOutOptions options = Options();
  options.exporter_factory = [this](const BackendOptions&) {
    return absl::StatusOr<std::unique_ptr<otlp::SpanExporter>>(Backend("first")->MakeExporter());
  };
  BackendOptions b = Fast("b");
  b.max_batch_spans = kSpansPerRecord;
  {
    FanOut fanout(queue_.get(), options);
    ASSERT_TRUE(fanout.AddBackend(b).ok());
    ASSERT_TRUE(Backend("first")->WaitForAttempts(3, absl::Seconds(2)));
    const absl::Time start = absl::Now();
    fanout.Stop(absl::ZeroDuration());
    EXPECT_LT(absl::Now() - start, absl::Seconds(1));  // the hung attempt was cancelled
  }
  std::set<std::string> first_two = records[0];
  first_two.insert(records[1].begin(), records[1].end());
  EXPECT_EQ(Backend("first")->accepted_span_ids(), first_two);

  // Restart: reopen the queue, add the backend again.
  queue_.reset();
  OpenQueue();
  options.exporter_factory = [this](const BackendOptions&) {
    return absl::StatusOr<std::unique_ptr<otlp::SpanExporter>>(Backend("second")->MakeExporter());
  };
  FanOut fanout(queue_.get(), options);
  ASSERT_TRUE(fanout.AddBackend(b).ok());
  std::set<std::string> rest;
  for (int i = 2; i < 5; ++i) rest.insert(records[i].begin(), records[i].end());
  ASSERT_TRUE(Backend("second")->WaitForSpans(rest.size(), absl::Seconds(3)));
  ASSERT_TRUE(Eventually([&] { return StatsOf(fanout, "b").queue_lag_records == 0; }));
  // Nothing acked was sent again; the in-flight batch was; nothing lost.
  EXPECT_EQ(Backend("second")->accepted_span_ids(), rest);
  EXPECT_EQ(Backend("second")->accepted_span_count(), rest.size());
  std::set<std::string> union_ids = Backend("first")->accepted_span_ids();
  union_ids.insert(rest.begin(), rest.end());
  EXPECT_EQ(union_ids, all);
}

TEST_F(FanOutTest, RemoveBackendCancelsItsAttemptDeletesItsCursorAndTheQueueTrims) {
  Backend("slow")->SetBehavior([&](const ExportTraceServiceRequest&, const Attempt&,
                                   absl::Notification* cancel) -> absl::StatusOr<ExportResult> {
    cancel->WaitForNotificationWithTimeout(absl::Seconds(10));
    return absl::CancelledError("fake: cancelled");
  });
  std::set<std::string> want = AppendRecords(1, 4);
  FanOut fanout(queue_.get(), Options());
  ASSERT_TRUE(fanout.AddBackend(Fast("fast")).ok());
  ASSERT_TRUE(fanout.AddBackend(Fast("slow")).ok());
  ASSERT_TRUE(Backend("fast")->WaitForSpans(want.size(), absl::Seconds(2)));
  ASSERT_TRUE(Backend("slow")->WaitForAttempts(1, absl::Seconds(2)));
  ASSERT_TRUE(Eventually([&] { return StatsOf(fanout, "fast").queue_lag_records == 0; }));
  EXPECT_EQ(queue_->Stats().records, 4u);  // still held for "slow"

  const absl::Time start = absl::Now();
  ASSERT_TRUE(fanout.RemoveBackend("slow").ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_THAT(ConsumerNames(), ElementsAre("exporter:fast"));
  EXPECT_EQ(queue_->Stats().records, 0u);
  EXPECT_EQ(fanout.Stats().size(), 1u);
  EXPECT_EQ(fanout.RemoveBackend("slow").code(), absl::StatusCode::kNotFound);
  // The cancelled attempt is not counted as the backend's failure.
  EXPECT_EQ(Backend("slow")->accepted_span_count(), 0u);
}

TEST_F(FanOutTest, RemoveStaleCursorsDeletesOnlyUnconfiguredExporterCursors) {
  ASSERT_TRUE(queue_->RegisterConsumer("exporter:old", storage::StartPosition::kOldest).ok());
  ASSERT_TRUE(queue_->RegisterConsumer("store", storage::StartPosition::kOldest).ok());
  AppendRecords(1, 2);
  FanOut fanout(queue_.get(), Options());
  ASSERT_TRUE(fanout.AddBackend(Fast("a")).ok());
  auto stale = fanout.RemoveStaleCursors();
  ASSERT_TRUE(stale.ok()) << stale.status();
  EXPECT_THAT(*stale, ElementsAre("old"));
  EXPECT_THAT(ConsumerNames(), ElementsAre("exporter:a", "store"));
}

TEST_F(FanOutTest, ConfiguredResourceAttributesAreMergedAndRecordKeysWin) {
  FanOutOptions options = Options();
  options.resource_attributes = {{"service.name", "from-env"}, {"deployment.environment", "prod"}};
  AppendRecord(1);
  FanOut fanout(queue_.get(), options);
  ASSERT_TRUE(fanout.AddBackend(Fast("b")).ok());
  ASSERT_TRUE(Backend("b")->WaitForSpans(kSpansPerRecord, absl::Seconds(2)));
  std::vector<ExportTraceServiceRequest> got = Backend("b")->accepted();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].resource_spans_size(), 1);
  std::map<std::string, std::string> attrs;
  for (const auto& kv : got[0].resource_spans(0).resource().attributes()) {
    attrs[kv.key()] = kv.value().has_string_value() ? kv.value().string_value() : "<non-string>";
  }
  EXPECT_EQ(attrs["service.name"], "dd");  // the record's own value
  EXPECT_EQ(attrs["deployment.environment"], "prod");
  EXPECT_EQ(attrs["process.pid"], "<non-string>");
}

TEST_F(FanOutTest, BatchesMergeRecordsUpToTheSpanLimitAndCountPartialSuccess) {
  Backend("b")->SetBehavior([&](const ExportTraceServiceRequest&, const Attempt&,
                                absl::Notification*) -> absl::StatusOr<ExportResult> {
    ExportResult r;
    r.rejected_spans = 1;
    r.partial_success_message = "one span too old";
    return r;
  });
  std::set<std::string> want = AppendRecords(1, 7);
  FanOut fanout(queue_.get(), Options());
  BackendOptions b = Fast("b");
  b.max_batch_spans = 3 * kSpansPerRecord;
  ASSERT_TRUE(fanout.AddBackend(b).ok());
  ASSERT_TRUE(Backend("b")->WaitForSpans(want.size(), absl::Seconds(2)));
  std::vector<ExportTraceServiceRequest> got = Backend("b")->accepted();
  ASSERT_EQ(got.size(), 3u);  // 3 + 3 + 1 records
  EXPECT_EQ(got[0].resource_spans_size(), 3);
  EXPECT_EQ(got[2].resource_spans_size(), 1);
  ASSERT_TRUE(Eventually([&] { return StatsOf(fanout, "b").requests_sent == 3; }));
  BackendStats s = StatsOf(fanout, "b");
  EXPECT_EQ(s.spans_sent, want.size());
  EXPECT_EQ(s.spans_rejected, 3u);
  EXPECT_EQ(s.endpoint, "fake");
}

TEST_F(FanOutTest, FailedDeadLetterWriteKeepsTheRecordsQueuedUntilItSucceeds) {
  // The dead-letter directory cannot be created while a file is in the way.
  const std::string blocker = dir_.path() + "/blocker";
  std::ofstream(blocker) << "x";
  FanOutOptions options = Options();
  options.dead_letter_dir = blocker + "/dead";
  Backend("b")->SetBehavior([&](const ExportTraceServiceRequest&, const Attempt&,
                                absl::Notification*) -> absl::StatusOr<ExportResult> {
    return absl::PermissionDeniedError("fake: PERMISSION_DENIED: bad token");
  });
  std::set<std::string> want = AppendRecord(1);
  FanOut fanout(queue_.get(), options);
  ASSERT_TRUE(fanout.AddBackend(Fast("b")).ok());
  ASSERT_TRUE(Eventually(
      [&] { return absl::StrContains(StatsOf(fanout, "b").last_error, "dead letter"); }));
  absl::SleepFor(absl::Milliseconds(100));
  BackendStats s = StatsOf(fanout, "b");
  EXPECT_EQ(s.queue_lag_records, 1u);
  EXPECT_EQ(s.spans_dead_lettered, 0u);
  EXPECT_EQ(Backend("b")->attempts().size(), 1u);  // refused once, then only the file is retried

  std::remove(blocker.c_str());
  ASSERT_TRUE(Eventually([&] { return StatsOf(fanout, "b").queue_lag_records == 0; }));
  s = StatsOf(fanout, "b");
  EXPECT_EQ(s.spans_dead_lettered, want.size());
  EXPECT_EQ(s.spans_failed_by_reason["permission_denied"], want.size());
  std::vector<std::string> lines = ReadLines(options.dead_letter_dir + "/b.jsonl");
  ASSERT_EQ(lines.size(), 1u);
  auto decoded = otlp::FromOtlpJson(lines[0]);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(testing::SpanIds(*decoded), want);
}

TEST_F(FanOutTest, ReplacingABackendKeepsItsCursorAndCounters) {
  std::set<std::string> first = AppendRecords(1, 2);
  FanOut fanout(queue_.get(), Options());
  ASSERT_TRUE(fanout.AddBackend(Fast("b")).ok());
  ASSERT_TRUE(Backend("b")->WaitForSpans(first.size(), absl::Seconds(2)));
  ASSERT_TRUE(Eventually([&] { return StatsOf(fanout, "b").spans_sent == first.size(); }));
  BackendOptions replaced = Fast("b");
  replaced.max_batch_spans = 1;
  ASSERT_TRUE(fanout.AddBackend(replaced).ok());
  std::set<std::string> second = AppendRecords(3, 2);
  fanout.Notify();
  ASSERT_TRUE(Backend("b")->WaitForSpans(first.size() + second.size(), absl::Seconds(2)));
  ASSERT_TRUE(
      Eventually([&] { return StatsOf(fanout, "b").spans_sent == first.size() + second.size(); }));
  EXPECT_EQ(Backend("b")->accepted_span_count(), first.size() + second.size());  // no resend
}

TEST_F(FanOutTest, StopDrainsWhatIsQueued) {
  FanOut fanout(queue_.get(), Options());
  ASSERT_TRUE(fanout.AddBackend(Fast("b")).ok());
  std::set<std::string> want = AppendRecords(1, 5);  // no Notify: the drain must find them
  fanout.Stop(absl::Seconds(2));
  EXPECT_EQ(Backend("b")->accepted_span_ids(), want);
  EXPECT_EQ(fanout.AddBackend(Fast("c")).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(FanOutTest, AddBackendValidates) {
  FanOut fanout(queue_.get(), Options());
  for (const std::string& name : {std::string(), std::string("Upper"), std::string("a/b"),
                                  std::string(".."), std::string(65, 'a')}) {
    absl::Status s = fanout.AddBackend(Fast(name));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(std::string(s.message()), HasSubstr("name")) << name;
  }
  BackendOptions b = Fast("ok");
  b.max_batch_spans = 0;
  EXPECT_THAT(std::string(fanout.AddBackend(b).message()), HasSubstr("max_batch_spans"));
  b = Fast("ok");
  b.breaker.failure_threshold = 0;
  EXPECT_THAT(std::string(fanout.AddBackend(b).message()), HasSubstr("failure_threshold"));
  FanOutOptions no_dir = Options();
  no_dir.dead_letter_dir.clear();
  FanOut bad(queue_.get(), no_dir);
  EXPECT_THAT(std::string(bad.AddBackend(Fast("ok")).message()), HasSubstr("dead_letter_dir"));
  EXPECT_TRUE(ConsumerNames().empty());  // nothing registered for refused backends
}

TEST_F(FanOutTest, RealTransportRejectsABadEndpoint) {
  FanOutOptions options = Options();
  options.exporter_factory = nullptr;  // the real OTLP transports
  FanOut fanout(queue_.get(), options);
  BackendOptions b = Fast("http");
  b.exporter.protocol = otlp::Protocol::kHttpProtobuf;
  b.exporter.endpoint = "not a url";
  absl::Status s = fanout.AddBackend(b);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("backend http"));
}

TEST_F(FanOutTest, RealTransportFailuresStayRetryableAndAreCountedByReason) {
  // Nothing listens on loopback port 1: both transports fail to connect,
  // which the OTLP specification makes retryable; the records stay queued.
  FanOutOptions options = Options();
  options.exporter_factory = nullptr;
  AppendRecord(1);
  FanOut fanout(queue_.get(), options);
  BackendOptions grpc = Fast("grpc");
  grpc.exporter.protocol = otlp::Protocol::kGrpc;
  grpc.exporter.endpoint = "http://127.0.0.1:1";
  grpc.exporter.timeout = absl::Milliseconds(500);
  BackendOptions http = Fast("http");
  http.exporter.protocol = otlp::Protocol::kHttpProtobuf;
  http.exporter.endpoint = "http://127.0.0.1:1/v1/traces";
  http.exporter.timeout = absl::Milliseconds(500);
  ASSERT_TRUE(fanout.AddBackend(grpc).ok());
  ASSERT_TRUE(fanout.AddBackend(http).ok());
  ASSERT_TRUE(Eventually([&] {
    for (const BackendStats& s : fanout.Stats()) {
      if (s.spans_failed < 2u * kSpansPerRecord) return false;
    }
    return true;
  }));
  for (BackendStats& s : fanout.Stats()) {
    // Retried (not dead-lettered): the retryable mark survived the transport.
    EXPECT_EQ(s.spans_dead_lettered, 0u) << s.name;
    EXPECT_GT(s.spans_retried, 0u) << s.name;
    EXPECT_EQ(s.spans_failed_by_reason["unavailable"], s.spans_failed) << s.name;
    EXPECT_EQ(s.queue_lag_records, 1u) << s.name;
    EXPECT_THAT(s.endpoint, HasSubstr("127.0.0.1:1")) << s.name;
  }
  const absl::Time start = absl::Now();
  fanout.Stop(absl::ZeroDuration());
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
}

}  // namespace
}  // namespace tracer::fanout
