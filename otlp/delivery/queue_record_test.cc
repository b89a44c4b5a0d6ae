#include "otlp/delivery/queue_record.h"

#include "gtest/gtest.h"

namespace tracer::otlp::delivery {
namespace {

TEST(QueueRecordTest, RoundTripsAndRejectsGarbage) {
  std::string payload = EncodeQueueRecord("node-1", 0x0102030405060708, "batch");
  auto record = DecodeQueueRecord(payload);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->agent_id, "node-1");
  EXPECT_EQ(record->seq, 0x0102030405060708u);
  EXPECT_EQ(record->batch, "batch");
  EXPECT_EQ(DecodeQueueRecord("TQ1").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeQueueRecord(payload.substr(0, 10)).status().code(), absl::StatusCode::kDataLoss);
}

TEST(QueueRecordTest, SummaryRoundTripsAndOldRecordsHaveNone) {
  const std::string payload = EncodeQueueRecord("node-1", 7, std::string("s\0m", 3), "batch");
  auto record = DecodeQueueRecord(payload);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(record->agent_id, "node-1");
  EXPECT_EQ(record->seq, 7u);
  EXPECT_TRUE(record->has_summary);
  EXPECT_EQ(record->summary, std::string("s\0m", 3));
  EXPECT_EQ(record->batch, "batch");
  auto empty = DecodeQueueRecord(EncodeQueueRecord("a", 1, "", ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->has_summary);
  EXPECT_TRUE(empty->summary.empty());
  EXPECT_TRUE(empty->batch.empty());
  auto old = DecodeQueueRecord(EncodeQueueRecord("a", 1, "batch"));
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->has_summary);
  // A summary length past the end, a cut length field, an unknown magic.
  std::string cut = payload;
  cut[4 + 1 + 6 + 8 + 3] = '\x7f';
  EXPECT_EQ(DecodeQueueRecord(cut).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeQueueRecord(payload.substr(0, 4 + 1 + 6 + 8 + 2)).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeQueueRecord(std::string("TQ3\0", 4) + payload.substr(4)).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tracer::otlp::delivery
