// WalExport against a real OTLP/gRPC receiver in this process: a run's log
// delivered while it is written, kept when the backend is down, and sent
// from its cursor later (each span exactly once), with the report's
// outcome: the log's directory removed or kept.
#include "ctl/wal_export.h"

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "otlp/test_requests.h"
#include "storage/testing/temp_dir.h"
#include "storage/testing/test_wal.h"

namespace tracer::ctl {
namespace {

using ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;
using ::opentelemetry::proto::collector::trace::v1::TraceService;

// Counts the spans it receives, by span id.
class Receiver final : public TraceService::Service {
 public:
  // Every request is refused with INVALID_ARGUMENT (not retryable).
  void RefuseAll() {
    absl::MutexLock lock(&mu_);
    refuse_ = true;
  }
  grpc::Status Export(grpc::ServerContext*, const ExportTraceServiceRequest* request,
                      ExportTraceServiceResponse*) override {
    absl::MutexLock lock(&mu_);
    if (refuse_) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "span too large");
    ++requests_;
    for (const auto& rs : request->resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) {
          ++spans_;
          ids_.insert(span.span_id());
        }
      }
    }
    return grpc::Status::OK;
  }
  int spans() const {
    absl::MutexLock lock(&mu_);
    return spans_;
  }
  size_t distinct() const {
    absl::MutexLock lock(&mu_);
    return ids_.size();
  }
  int requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  mutable absl::Mutex mu_;
  bool refuse_ = false;
  int spans_ = 0;
  int requests_ = 0;
  std::set<std::string> ids_;
};

// A receiver listening on 127.0.0.1:`port` (0 = any free port).
struct Server {
  explicit Server(int port = 0) {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                       &this->port);
    b.RegisterService(&receiver);
    server = b.BuildAndStart();
  }
  ~Server() { server->Shutdown(); }
  Receiver receiver;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

class WalExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    wal_dir_ = tmp_.path() + "/run-1";
    Open();
  }

  void Open() {
    auto wal = storage::testing::OpenTestWal(wal_dir_);
    ASSERT_TRUE(wal.ok()) << wal.status();
    wal_ = *std::move(wal);
  }

  // As the run's WAL stage appends: the serialized request, its span count.
  void AppendBatches(int n, int spans_each, uint64_t first_seed) {
    for (int i = 0; i < n; ++i) {
      const std::string payload =
          otlp::testing::MakeSyscallRequest(spans_each, first_seed + i).SerializeAsString();
      ASSERT_TRUE(wal_->Append(payload, spans_each).ok());
    }
  }

  WalExportOptions Options(int port) {
    WalExportOptions o;
    o.exporter.endpoint = "http://127.0.0.1:" + std::to_string(port);
    o.exporter.timeout = absl::Seconds(2);
    o.exporter.retry.initial_interval = absl::Milliseconds(20);
    o.exporter.retry.max_interval = absl::Milliseconds(100);
    o.max_batch_spans = 10;
    o.dead_letter_dir = DeadLetterDirFor(wal_dir_);
    o.idle_budget = absl::Seconds(1);
    return o;
  }

  storage::testing::TempDir tmp_;
  std::string wal_dir_;
  std::unique_ptr<storage::RocksDbWal> wal_;
};

TEST_F(WalExportTest, DeliversEverySpanInBatchesOfAtMostMaxBatchSpans) {
  Server server;
  auto exporter = WalExport::Start(wal_.get(), Options(server.port));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  AppendBatches(6, 5, 1);  // while the worker runs, as in a run
  const WalExportResult result = (*exporter)->Finish();
  EXPECT_TRUE(result.complete());
  EXPECT_EQ(result.stats.spans_sent, 30u);
  EXPECT_EQ(server.receiver.spans(), 30);
  EXPECT_GE(server.receiver.requests(), 3);  // 10 spans per request at most
  exporter->reset();
  wal_.reset();
  EXPECT_TRUE(
      ReportWalExport("test: ", wal_dir_, Options(server.port).exporter, "otlp/grpc", result));
  EXPECT_FALSE(std::filesystem::exists(wal_dir_));
}

// Backend down: Finish gives up after the idle budget with everything
// unsent and the log kept; a later WalExport on the same log (a resend)
// delivers every span exactly once once the backend is up.
TEST_F(WalExportTest, KeepsTheLogWhenTheBackendIsDownAndResendsFromTheCursor) {
  int port = 0;
  {
    Server probe;  // a port that nothing listens on once it is gone
    port = probe.port;
  }
  AppendBatches(4, 5, 1);
  {
    auto exporter = WalExport::Start(wal_.get(), Options(port));
    ASSERT_TRUE(exporter.ok()) << exporter.status();
    const WalExportResult result = (*exporter)->Finish();
    EXPECT_FALSE(result.complete());
    EXPECT_EQ(result.unsent_records, 4u);
    EXPECT_EQ(result.unsent_spans, 20u);
    EXPECT_EQ(result.stats.spans_sent, 0u);
    EXPECT_FALSE(result.stats.last_error.empty());
    exporter->reset();
    wal_.reset();
    EXPECT_FALSE(ReportWalExport("test: ", wal_dir_, Options(port).exporter, "otlp/grpc", result));
    EXPECT_TRUE(std::filesystem::exists(wal_dir_));
  }
  Open();
  Server server(port);
  ASSERT_NE(server.server, nullptr);
  auto exporter = WalExport::Start(wal_.get(), Options(port));
  ASSERT_TRUE(exporter.ok()) << exporter.status();
  const WalExportResult result = (*exporter)->Finish();
  EXPECT_TRUE(result.complete());
  EXPECT_EQ(server.receiver.spans(), 20);
  EXPECT_EQ(server.receiver.distinct(), 20u);
}

// A resend interrupted after some batches resumes at the cursor: the
// batches acknowledged before are not sent again.
TEST_F(WalExportTest, AcknowledgedBatchesAreNotSentAgain) {
  Server server;
  AppendBatches(2, 5, 1);
  {
    auto exporter = WalExport::Start(wal_.get(), Options(server.port));
    ASSERT_TRUE(exporter.ok());
    EXPECT_TRUE((*exporter)->Finish().complete());
  }
  AppendBatches(2, 5, 100);  // what the interrupted run had not sent
  auto exporter = WalExport::Start(wal_.get(), Options(server.port));
  ASSERT_TRUE(exporter.ok());
  EXPECT_TRUE((*exporter)->Finish().complete());
  EXPECT_EQ(server.receiver.spans(), 20);
  EXPECT_EQ(server.receiver.distinct(), 20u);
}

// Refused batches are dead-lettered beside the log: nothing is left to
// resend, so the log goes, but the run failed and says where they are.
TEST_F(WalExportTest, RefusedBatchesAreDeadLetteredAndTheLogRemoved) {
  Server server;
  server.receiver.RefuseAll();
  AppendBatches(2, 5, 1);
  auto exporter = WalExport::Start(wal_.get(), Options(server.port));
  ASSERT_TRUE(exporter.ok());
  const WalExportResult result = (*exporter)->Finish();
  EXPECT_TRUE(result.complete());
  EXPECT_EQ(result.stats.spans_dead_lettered, 10u);
  EXPECT_EQ(result.stats.spans_sent, 0u);
  exporter->reset();
  wal_.reset();
  EXPECT_FALSE(
      ReportWalExport("test: ", wal_dir_, Options(server.port).exporter, "otlp/grpc", result));
  EXPECT_FALSE(std::filesystem::exists(wal_dir_));
  EXPECT_TRUE(std::filesystem::exists(DeadLetterDirFor(wal_dir_) + "/otlp.jsonl"));
}

TEST(DeadLetterDirForTest, BesideTheLog) {
  EXPECT_EQ(DeadLetterDirFor("/var/lib/tracer/runs/run-1-x"),
            "/var/lib/tracer/runs/dead_letter/run-1-x");
  EXPECT_EQ(DeadLetterDirFor("/var/lib/tracer/runs/run-1-x/"),
            "/var/lib/tracer/runs/dead_letter/run-1-x");
}

}  // namespace
}  // namespace tracer::ctl
