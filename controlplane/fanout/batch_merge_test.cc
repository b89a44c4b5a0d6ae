#include "controlplane/fanout/batch_merge.h"

#include "controlplane/export/test_requests.h"
#include "controlplane/ingest/queue_record.h"
#include "gtest/gtest.h"

namespace tracer::fanout {
namespace {

storage::WalRecord Record(uint64_t seq, int spans) {
  storage::WalRecord r;
  r.seq = seq;
  r.span_count = static_cast<uint32_t>(spans);
  r.payload = controlplane::EncodeQueueRecord(
      "agent", seq, exporting::testing::MakeSyscallRequest(spans, seq).SerializeAsString());
  return r;
}

TEST(BatchMergeTest, ConcatenatesResourceSpansInSeqOrderWithinTheSpanLimit) {
  std::vector<storage::WalRecord> records = {Record(4, 2), Record(5, 3), Record(7, 4)};
  MergedBatch b = MergeRecords(records, /*max_spans=*/5, /*max_bytes=*/1 << 20, {});
  EXPECT_EQ(b.records, 2u);
  EXPECT_EQ(b.first_seq, 4u);
  EXPECT_EQ(b.last_seq, 5u);
  EXPECT_EQ(b.spans, 5u);
  ASSERT_EQ(b.request.resource_spans_size(), 2);
  EXPECT_EQ(b.request.resource_spans(0).scope_spans(0).spans_size(), 2);
  EXPECT_EQ(b.request.resource_spans(1).scope_spans(0).spans_size(), 3);
  EXPECT_TRUE(b.bad.empty());
}

TEST(BatchMergeTest, FirstRecordIsTakenWhateverItsSize) {
  MergedBatch b = MergeRecords({Record(1, 10), Record(2, 1)}, 4, 10, {});
  EXPECT_EQ(b.records, 1u);
  EXPECT_EQ(b.spans, 10u);
  EXPECT_EQ(b.last_seq, 1u);
}

TEST(BatchMergeTest, ByteLimit) {
  std::vector<storage::WalRecord> records = {Record(1, 1), Record(2, 1), Record(3, 1)};
  MergedBatch b = MergeRecords(records, 100, records[0].payload.size() * 2, {});
  EXPECT_EQ(b.records, 2u);
}

TEST(BatchMergeTest, UndecodableRecordsAreReportedAndSkipped) {
  storage::WalRecord garbage;
  garbage.seq = 2;
  garbage.span_count = 6;
  garbage.payload = "not a queue record";
  storage::WalRecord bad_batch = Record(3, 1);
  bad_batch.payload = controlplane::EncodeQueueRecord("agent", 3, "\xff\xff\xff");
  MergedBatch b = MergeRecords({Record(1, 1), garbage, bad_batch, Record(4, 2)}, 100, 1 << 20, {});
  EXPECT_EQ(b.records, 4u);
  EXPECT_EQ(b.last_seq, 4u);
  EXPECT_EQ(b.spans, 3u);
  ASSERT_EQ(b.bad.size(), 2u);
  EXPECT_EQ(b.bad[0].seq, 2u);
  EXPECT_EQ(b.bad[0].span_count, 6u);
  EXPECT_EQ(b.bad[1].seq, 3u);
}

TEST(BatchMergeTest, ResourceAttributesMergedIntoEveryResource) {
  MergedBatch b = MergeRecords({Record(1, 1), Record(2, 1)}, 100, 1 << 20,
                               {{"service.name", "x"}, {"k8s.cluster.name", "c1"}});
  for (const auto& rs : b.request.resource_spans()) {
    std::string service, cluster;
    for (const auto& kv : rs.resource().attributes()) {
      if (kv.key() == "service.name") service = kv.value().string_value();
      if (kv.key() == "k8s.cluster.name") cluster = kv.value().string_value();
    }
    EXPECT_EQ(service, "dd");
    EXPECT_EQ(cluster, "c1");
  }
}

TEST(BatchMergeTest, ReadLimits) {
  storage::ReadLimits l = BatchReadLimits(8192, 4 << 20);
  EXPECT_EQ(l.max_records, 8192u);
  EXPECT_EQ(l.max_bytes, size_t{4} << 20);
  EXPECT_EQ(BatchReadLimits(1000000, 1).max_records, 10000u);
}

}  // namespace
}  // namespace tracer::fanout
