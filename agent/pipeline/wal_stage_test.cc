#include "agent/pipeline/wal_stage.h"

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_wal.h"
#include "storage/testing/temp_dir.h"

namespace tracer::pipeline {
namespace {

using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

std::shared_ptr<const spans::SpanBatch> MakeBatch(int spans, const std::string& name) {
  auto b = std::make_shared<spans::SpanBatch>();
  const size_t resource = b->AddResource();
  const std::string_view stored = b->arena().Copy(name);
  for (int i = 0; i < spans; ++i) b->AddSpan(resource).name = stored;
  b->Seal();
  return b;
}

// Records what reaches the next stage, and what the WAL held at that moment.
class Recorder : public spans::BatchSink {
 public:
  explicit Recorder(storage::Wal* wal) : wal_(wal) {}
  void OnBatch(std::shared_ptr<const spans::SpanBatch> batch) override {
    absl::MutexLock l(&mu_);
    names.push_back(batch->request().resource_spans(0).scope_spans(0).spans(0).name());
    durable_when_forwarded.push_back(wal_->Stats().appended_records);
  }
  absl::Mutex mu_;
  std::vector<std::string> names;
  std::vector<uint64_t> durable_when_forwarded;

 private:
  storage::Wal* wal_;
};

TEST(WalStage, EveryBatchIsDurableBeforeItIsForwardedInOrder) {
  storage::testing::TempDir dir;
  storage::WalOptions o;
  o.data_dir = dir.path();
  auto wal = storage::RocksDbWal::Open(o);
  ASSERT_TRUE(wal.ok()) << wal.status();
  ASSERT_TRUE((*wal)->RegisterConsumer("export", storage::StartPosition::kOldest).ok());
  Recorder next(wal->get());
  {
    WalStage stage(wal->get(), &next, /*max_pending_batches=*/2);
    for (int i = 0; i < 20; ++i) stage.OnBatch(MakeBatch(3, "b" + std::to_string(i)));
    ASSERT_TRUE(stage.Close().ok());
    EXPECT_EQ(stage.counters().batches_appended, 20u);
    EXPECT_EQ(stage.counters().spans_appended, 60u);
  }
  ASSERT_EQ(next.names.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(next.names[i], "b" + std::to_string(i));
    EXPECT_GE(next.durable_when_forwarded[i], static_cast<uint64_t>(i + 1));
  }
  // The log holds exactly the batches, decodable as OTLP.
  storage::ReadLimits lim;
  lim.max_records = 100;
  auto recs = (*wal)->ReadFrom("export", lim);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 20u);
  ExportTraceServiceRequest req;
  ASSERT_TRUE(req.ParseFromString((*recs)[7].payload));
  EXPECT_EQ(req.resource_spans(0).scope_spans(0).spans(0).name(), "b7");
  EXPECT_EQ((*recs)[7].span_count, 3u);
}

TEST(WalStage, FailedAppendIsCountedReportedAndNotForwarded) {
  storage::testing::TempDir dir;
  storage::WalOptions o;
  o.data_dir = dir.path();
  o.max_bytes = 1;  // nothing fits: every Append is refused
  auto wal = storage::RocksDbWal::Open(o);
  ASSERT_TRUE(wal.ok()) << wal.status();
  Recorder next(wal->get());
  WalStage stage(wal->get(), &next);
  stage.OnBatch(MakeBatch(5, "x"));
  absl::Status st = stage.Close();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("5 spans"), std::string::npos) << st;
  EXPECT_TRUE(next.names.empty());
  EXPECT_EQ(stage.counters().spans_failed, 5u);
}

}  // namespace
}  // namespace tracer::pipeline
