#include "controlplane/ingest/upload_ingest.h"

#include <functional>

#include "controlplane/ingest/store_consumer.h"
#include "controlplane/store/testing/test_spans.h"
#include "controlplane/store/trace_store.h"
#include "gtest/gtest.h"
#include "otlp/delivery/queue_record.h"
#include "otlp/parse_counter.h"
#include "storage/rocksdb_wal.h"
#include "storage/testing/temp_dir.h"

namespace tracer::controlplane {
namespace {

using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;

// The control plane's durable parts on one data directory.
struct Node {
  std::unique_ptr<storage::RocksDbWal> queue;
  std::unique_ptr<TraceStore> store;
  std::unique_ptr<UploadIngest> ingest;
  std::unique_ptr<StoreConsumer> consumer;
};

Node OpenNode(const std::string& dir) {
  Node node;
  storage::WalOptions wal_options;
  wal_options.data_dir = dir + "/queue";
  wal_options.group_commit_max_wait = absl::ZeroDuration();
  auto queue = storage::RocksDbWal::Open(wal_options);
  EXPECT_TRUE(queue.ok()) << queue.status();
  node.queue = std::move(*queue);
  EXPECT_TRUE(node.queue->RegisterConsumer(kStoreConsumer, storage::StartPosition::kOldest).ok());
  TraceStoreOptions store_options;
  store_options.path = dir + "/traces";
  auto store = TraceStore::Open(store_options);
  EXPECT_TRUE(store.ok()) << store.status();
  node.store = std::move(*store);
  auto ingest = UploadIngest::Open(node.queue.get(), node.store->HighWaterMarks(), nullptr);
  EXPECT_TRUE(ingest.ok()) << ingest.status();
  node.ingest = std::move(*ingest);
  node.consumer = std::make_unique<StoreConsumer>(node.queue.get(), node.store.get());
  return node;
}

v1::UploadRequest Upload(const std::string& agent, uint64_t seq, int spans) {
  ExportTraceServiceRequest batch;
  // Distinct agents get distinct trace ids.
  const uint64_t trace = (std::hash<std::string>()(agent) << 20) ^ seq;
  for (int i = 0; i < spans; ++i) {
    testing::AddSpan(&batch, agent, trace, seq * 100 + i, 0, 1000 + seq, "s");
  }
  v1::UploadRequest request;
  request.set_agent_id(agent);
  request.set_seq(seq);
  request.set_batch(batch.SerializeAsString());
  request.set_span_count(static_cast<uint32_t>(spans));
  return request;
}

TEST(UploadIngestTest, RejectsInvalidUploadsAndStoresNothing) {
  storage::testing::TempDir dir;
  Node node = OpenNode(dir.path());
  auto code = [&](const v1::UploadRequest& r) { return node.ingest->Ingest(r).status(); };
  v1::UploadRequest r = Upload("a", 1, 2);
  r.set_span_count(3);
  EXPECT_EQ(code(r).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(code(r).message()).rfind("upload.span_count", 0), 0u);
  r = Upload("a", 1, 2);
  r.set_batch("\xff\xff\xff");
  EXPECT_EQ(std::string(code(r).message()).rfind("upload.batch", 0), 0u);
  r = Upload("a", 1, 0);
  r.set_batch(std::string(kMaxUploadBatchBytes + 1, '\0'));
  EXPECT_EQ(std::string(code(r).message()).rfind("upload.batch", 0), 0u);
  r = Upload("a", 0, 1);
  EXPECT_EQ(std::string(code(r).message()).rfind("upload.seq", 0), 0u);
  r = Upload("", 1, 1);
  EXPECT_EQ(std::string(code(r).message()).rfind("upload.agent_id", 0), 0u);
  r = Upload(std::string(129, 'a'), 1, 1);
  EXPECT_EQ(std::string(code(r).message()).rfind("upload.agent_id", 0), 0u);
  EXPECT_EQ(node.queue->Stats().records, 0u);
  EXPECT_EQ(node.ingest->LastStoredSeq("a"), 0u);
}

TEST(UploadIngestTest, DuplicatesAreAckedNotStoredTwice) {
  storage::testing::TempDir dir;
  Node node = OpenNode(dir.path());
  auto first = node.ingest->Ingest(Upload("a", 1, 3));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->seq(), 1u);
  EXPECT_FALSE(first->duplicate());
  auto again = node.ingest->Ingest(Upload("a", 1, 3));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate());
  EXPECT_FALSE(node.ingest->Ingest(Upload("b", 1, 1))->duplicate());  // other agent
  EXPECT_FALSE(node.ingest->Ingest(Upload("a", 5, 1))->duplicate());
  EXPECT_TRUE(node.ingest->Ingest(Upload("a", 4, 1))->duplicate());  // below mark
  EXPECT_EQ(node.queue->Stats().records, 3u);
  EXPECT_EQ(*node.consumer->DrainOnce(), 3u);
  EXPECT_EQ(node.store->Stats().spans, 5u);
  EXPECT_EQ(node.ingest->duplicates(), 2u);
}

// A crash (objects destroyed, no flush) with records still queued, and one
// after the store consumed them: re-sent seqs are duplicates either way and
// the stored span count does not change.
TEST(UploadIngestTest, DeduplicationSurvivesCrashes) {
  storage::testing::TempDir dir;
  {
    Node node = OpenNode(dir.path());
    for (uint64_t seq = 1; seq <= 3; ++seq) {
      ASSERT_FALSE(node.ingest->Ingest(Upload("a", seq, 2))->duplicate());
    }
  }  // "crash": nothing drained into the store
  {
    Node node = OpenNode(dir.path());
    EXPECT_EQ(node.ingest->LastStoredSeq("a"), 3u);
    for (uint64_t seq = 1; seq <= 3; ++seq) {
      EXPECT_TRUE(node.ingest->Ingest(Upload("a", seq, 2))->duplicate()) << seq;
    }
    EXPECT_FALSE(node.ingest->Ingest(Upload("a", 4, 2))->duplicate());
    EXPECT_EQ(*node.consumer->DrainOnce(), 4u);
    EXPECT_EQ(node.store->Stats().spans, 8u);
    EXPECT_EQ(node.queue->Stats().records, 0u);  // trimmed: marks in the store
  }
  {
    Node node = OpenNode(dir.path());
    EXPECT_EQ(node.ingest->LastStoredSeq("a"), 4u);
    for (uint64_t seq = 1; seq <= 4; ++seq) {
      EXPECT_TRUE(node.ingest->Ingest(Upload("a", seq, 2))->duplicate()) << seq;
    }
    EXPECT_EQ(*node.consumer->DrainOnce(), 0u);
    EXPECT_EQ(node.store->Stats().spans, 8u);
  }
}

// N uploads through the real ingest path and the store consumer: one OTLP
// parse per batch in all (ingest's), and GetTrace returns exactly the spans
// of a trace spread over several uploads.
TEST(UploadIngestTest, ParsesEachBatchOnceAndGetTraceSpansUploads) {
  storage::testing::TempDir dir;
  Node node = OpenNode(dir.path());
  constexpr uint64_t kUploads = 6;
  for (uint64_t seq = 1; seq <= kUploads; ++seq) {
    ExportTraceServiceRequest batch;
    // Trace 1 gets one span from every upload; trace 100 + seq one of its own.
    testing::AddSpan(&batch, "api", 1, seq, seq == 1 ? 0 : 1, 1000 + seq, "t1");
    testing::AddSpan(&batch, "db", 100 + seq, 1000 + seq, 0, 1000 + seq, "own");
    testing::AddSpan(&batch, "db", 100 + seq, 2000 + seq, 1000 + seq, 1000 + seq, "own child");
    v1::UploadRequest request;
    request.set_agent_id("a");
    request.set_seq(seq);
    request.set_batch(batch.SerializeAsString());
    request.set_span_count(3);
    const otlp::ParseCounts before = otlp::GetParseCounts();
    ASSERT_FALSE(node.ingest->Ingest(request)->duplicate());
    ASSERT_EQ(*node.consumer->DrainOnce(), 1u);
    const otlp::ParseCounts after = otlp::GetParseCounts();
    EXPECT_EQ(after.data_path() - before.data_path(), 1u) << "upload " << seq;
    EXPECT_EQ(after.at(otlp::ParseSite::kIngest) - before.at(otlp::ParseSite::kIngest), 1u);
    EXPECT_EQ(after.batches_accepted - before.batches_accepted, 1u);
  }
  EXPECT_EQ(node.store->Stats().spans, 3 * kUploads);
  auto trace = node.store->GetTrace(testing::TraceId(1));
  ASSERT_TRUE(trace.ok()) << trace.status();
  std::vector<std::string> span_ids;
  for (const auto& rs : *trace) {
    for (const auto& span : rs.scope_spans(0).spans()) {
      EXPECT_EQ(span.trace_id(), testing::TraceId(1));
      span_ids.push_back(span.span_id());
    }
  }
  std::vector<std::string> want;
  for (uint64_t seq = 1; seq <= kUploads; ++seq) want.push_back(testing::SpanId(seq));
  EXPECT_EQ(span_ids, want);
  auto own = node.store->GetTrace(testing::TraceId(103));
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->size(), 1u);
  EXPECT_EQ((*own)[0].scope_spans(0).spans_size(), 2);
}

// A record queued by an earlier version (no summary) is still stored: the
// store consumer parses it.
TEST(UploadIngestTest, StoresRecordsWithoutSummary) {
  storage::testing::TempDir dir;
  Node node = OpenNode(dir.path());
  const v1::UploadRequest upload = Upload("a", 1, 2);
  ASSERT_TRUE(
      node.queue
          ->Append(otlp::delivery::EncodeQueueRecord("a", 1, upload.batch()), upload.span_count())
          .ok());
  const uint64_t before = otlp::GetParseCounts().at(otlp::ParseSite::kStore);
  EXPECT_EQ(*node.consumer->DrainOnce(), 1u);
  EXPECT_EQ(otlp::GetParseCounts().at(otlp::ParseSite::kStore) - before, 1u);
  EXPECT_EQ(node.store->Stats().spans, 2u);
  EXPECT_EQ(node.store->HighWaterMarks().at("a"), 1u);
  EXPECT_EQ(node.consumer->bad_records(), 0u);
}

}  // namespace
}  // namespace tracer::controlplane
