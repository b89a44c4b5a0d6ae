#include "otlp/delivery/backend_worker.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "otlp/delivery/queue_record.h"
#include "otlp/test_requests.h"
#include "storage/testing/temp_dir.h"
#include "storage/testing/test_wal.h"

namespace tracer::otlp::delivery {
namespace {

// What an exporter was handed, by form.
struct Calls {
  absl::Mutex mu;
  std::vector<std::string> serialized ABSL_GUARDED_BY(mu);            // ExportSerialized
  std::vector<ExportTraceServiceRequest> parsed ABSL_GUARDED_BY(mu);  // Export
};

// Accepts everything and records how it was called; `form` is what it
// declares through request_form().
class RecordingExporter : public SpanExporter {
 public:
  RecordingExporter(RequestForm form, Calls* calls) : form_(form), calls_(calls) {}
  absl::StatusOr<ExportResult> Export(const ExportTraceServiceRequest& request) override {
    absl::MutexLock lock(&calls_->mu);
    calls_->parsed.push_back(request);
    return ExportResult{};
  }
  RequestForm request_form() const override { return form_; }
  absl::StatusOr<ExportResult> ExportSerialized(std::string serialized) override {
    absl::MutexLock lock(&calls_->mu);
    calls_->serialized.push_back(std::move(serialized));
    return ExportResult{};
  }
  absl::Status Shutdown() override { return absl::OkStatus(); }
  std::string Describe() const override { return "recording"; }

 private:
  const RequestForm form_;
  Calls* const calls_;
};

class BackendWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto wal = storage::testing::OpenTestWal(dir_.path() + "/queue");
    ASSERT_TRUE(wal.ok()) << wal.status();
    queue_ = *std::move(wal);
    ASSERT_TRUE(queue_->RegisterConsumer(ConsumerName("b"), storage::StartPosition::kOldest).ok());
  }

  // Queues three records of 4 spans in `format`; returns their batches, in
  // order.
  std::vector<std::string> AppendRecords(PayloadFormat format = PayloadFormat::kQueueRecord) {
    std::vector<std::string> batches;
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      batches.push_back(otlp::testing::MakeSyscallRequest(4, seed).SerializeAsString());
      const std::string payload = format == PayloadFormat::kQueueRecord
                                      ? EncodeQueueRecord("agent", seed, batches.back())
                                      : batches.back();
      EXPECT_TRUE(queue_->Append(payload, 4).ok());
    }
    return batches;
  }

  // Runs a worker with `exporter` until it has delivered everything queued.
  void Deliver(std::unique_ptr<SpanExporter> exporter,
               PayloadFormat format = PayloadFormat::kQueueRecord) {
    BackendOptions options;
    options.name = "b";
    options.payload_format = format;
    BackendWorker worker(queue_.get(), options, std::move(exporter), {}, dir_.path() + "/dead",
                         absl::Milliseconds(20), BackendStats{});
    worker.Start();
    ASSERT_TRUE(worker.Drain(absl::Now() + absl::Seconds(30)));
    worker.Stop();
    EXPECT_EQ(worker.Stats().spans_sent, 12u);
    EXPECT_EQ(worker.Stats().requests_sent, 1u);
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::RocksDbWal> queue_;
};

// A wire-form exporter is handed the merged request's bytes, which are the
// records' batches back to back (their resource_spans entries), and never a
// parsed message.
TEST_F(BackendWorkerTest, WireFormExporterGetsTheRecordsBytes) {
  const std::vector<std::string> batches = AppendRecords();
  Calls calls;
  Deliver(std::make_unique<RecordingExporter>(RequestForm::kWire, &calls));
  absl::MutexLock lock(&calls.mu);
  EXPECT_TRUE(calls.parsed.empty());
  ASSERT_EQ(calls.serialized.size(), 1u);
  EXPECT_EQ(calls.serialized[0], batches[0] + batches[1] + batches[2]);
}

// A node's log holds bare requests: the same worker delivers them, in both
// forms.
TEST_F(BackendWorkerTest, ReadsANodeLogsRequestRecords) {
  const std::vector<std::string> batches = AppendRecords(PayloadFormat::kRequest);
  Calls calls;
  Deliver(std::make_unique<RecordingExporter>(RequestForm::kWire, &calls), PayloadFormat::kRequest);
  {
    absl::MutexLock lock(&calls.mu);
    ASSERT_EQ(calls.serialized.size(), 1u);
    EXPECT_EQ(calls.serialized[0], batches[0] + batches[1] + batches[2]);
  }
  AppendRecords(PayloadFormat::kRequest);
  Calls parsed;
  Deliver(std::make_unique<RecordingExporter>(RequestForm::kParsed, &parsed),
          PayloadFormat::kRequest);
  absl::MutexLock lock(&parsed.mu);
  ASSERT_EQ(parsed.parsed.size(), 1u);
  EXPECT_EQ(CountSpans(parsed.parsed[0]), 12);
}

TEST_F(BackendWorkerTest, ParsedFormExporterGetsMessages) {
  AppendRecords();
  Calls calls;
  Deliver(std::make_unique<RecordingExporter>(RequestForm::kParsed, &calls));
  absl::MutexLock lock(&calls.mu);
  EXPECT_TRUE(calls.serialized.empty());
  ASSERT_EQ(calls.parsed.size(), 1u);
  EXPECT_EQ(calls.parsed[0].resource_spans_size(), 3);
  EXPECT_EQ(CountSpans(calls.parsed[0]), 12);
}

}  // namespace
}  // namespace tracer::otlp::delivery
