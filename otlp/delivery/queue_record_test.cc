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

}  // namespace
}  // namespace tracer::otlp::delivery
