#include "agent/upload/uploader.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/upload/testing/fake_agent_service.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_wal.h"
#include "storage/testing/temp_dir.h"

namespace tracer::upload {
namespace {

using testing::FakeControlPlane;

class UploaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    storage::WalOptions wo;
    wo.data_dir = dir_.path();
    auto wal = storage::RocksDbWal::Open(wo);
    ASSERT_TRUE(wal.ok()) << wal.status();
    wal_ = std::move(*wal);
  }

  // Appends `n` records; record i (from 1) has payload "batch-i", i spans.
  void AppendRecords(int first, int n) {
    for (int i = first; i < first + n; ++i) {
      auto seq = wal_->Append(absl::StrCat("batch-", i), static_cast<uint32_t>(i));
      ASSERT_TRUE(seq.ok()) << seq.status();
      ASSERT_EQ(*seq, static_cast<uint64_t>(i));
    }
  }

  std::unique_ptr<Uploader> MakeUploader(size_t window = 4) {
    UploaderOptions o;
    o.max_in_flight = window;
    o.initial_backoff = absl::Milliseconds(10);
    o.max_backoff = absl::Milliseconds(50);
    o.poll_interval = absl::Milliseconds(20);
    auto u = Uploader::Create(wal_.get(), cp_.NewChannel(), o);
    EXPECT_TRUE(u.ok()) << u.status();
    return std::move(*u);
  }

  uint64_t Cursor() {
    for (const auto& c : wal_->Stats().consumers)
      if (c.name == kConsumerName) return c.cursor;
    return ~uint64_t{0};
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::RocksDbWal> wal_;
  FakeControlPlane cp_;
};

TEST_F(UploaderTest, StreamsEveryRecordAndAcksMoveTheCursor) {
  AppendRecords(1, 10);
  auto up = MakeUploader();
  up->SetAgentId("a1");
  up->Start();
  ASSERT_TRUE(up->WaitForUpload(absl::Now() + absl::Seconds(10)).ok());

  auto stored = cp_.service().stored();
  ASSERT_EQ(stored.size(), 10u);
  for (size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i].agent_id, "a1");
    EXPECT_EQ(stored[i].seq, i + 1);
    EXPECT_EQ(stored[i].batch, absl::StrCat("batch-", i + 1));
    EXPECT_EQ(stored[i].span_count, i + 1);
  }
  EXPECT_EQ(Cursor(), 10u);
  UploaderCounters c = up->Counters();
  EXPECT_EQ(c.records_acked, 10u);
  EXPECT_EQ(c.spans_uploaded, 55u);
  EXPECT_EQ(c.lag_records, 0u);
  // Acked records are trimmed from the WAL (the uploader is its only consumer).
  EXPECT_EQ(wal_->Stats().records, 0u);

  // Later appends are picked up too.
  AppendRecords(11, 3);
  up->Notify();
  ASSERT_TRUE(up->WaitForUpload(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(cp_.service().stored().size(), 13u);
  EXPECT_EQ(Cursor(), 13u);
}

TEST_F(UploaderTest, NothingIsSentBeforeTheAgentIdIsKnown) {
  AppendRecords(1, 2);
  auto up = MakeUploader();
  up->Start();
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_TRUE(cp_.service().upload_streams().empty());
  up->SetAgentId("late");
  ASSERT_TRUE(up->WaitForUpload(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(cp_.service().stored().size(), 2u);
}

TEST_F(UploaderTest, BrokenStreamReconnectsAndResendsOnlyUnackedRecords) {
  AppendRecords(1, 5);
  auto up = MakeUploader(/*window=*/8);
  up->SetAgentId("a1");
  up->Start();
  ASSERT_TRUE(up->WaitForUpload(absl::Now() + absl::Seconds(10)).ok());
  ASSERT_EQ(Cursor(), 5u);

  // 6 and 7 get stored but not acked; the stream breaks at 8 (and acks
  // resume).
  cp_.service().SetWithholdAcks(true);
  cp_.service().BreakUploadAtSeq(8);
  AppendRecords(6, 2);
  up->Notify();
  ASSERT_TRUE(cp_.service().WaitFor([](const auto& s) { return s.stored().size() == 7; },
                                    absl::Seconds(10)));
  EXPECT_EQ(Cursor(), 5u);
  AppendRecords(8, 3);  // 8 breaks the stream
  up->Notify();
  ASSERT_TRUE(cp_.service().WaitFor([](const auto& s) { return s.upload_streams().size() >= 2; },
                                    absl::Seconds(10)));
  ASSERT_TRUE(up->WaitForUpload(absl::Now() + absl::Seconds(10)).ok());

  auto streams = cp_.service().upload_streams();
  ASSERT_GE(streams.size(), 2u);
  // The first stream saw 1..8; every later stream starts after the cursor (5).
  EXPECT_EQ(streams[0], (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  for (size_t i = 1; i < streams.size(); ++i) {
    ASSERT_FALSE(streams[i].empty());
    EXPECT_EQ(streams[i].front(), 6u);
  }
  // Exactly once in the store, by (agent_id, seq).
  std::set<uint64_t> seqs;
  for (const auto& s : cp_.service().stored()) EXPECT_TRUE(seqs.insert(s.seq).second);
  EXPECT_EQ(seqs.size(), 10u);
  EXPECT_EQ(Cursor(), 10u);
  UploaderCounters c = up->Counters();
  EXPECT_GE(c.duplicate_acks, 2u);  // 6 and 7 were resent
  EXPECT_GE(c.stream_failures, 1u);
  EXPECT_EQ(c.records_acked, 10u);
}

TEST_F(UploaderTest, InFlightWindowIsBounded) {
  cp_.service().SetWithholdAcks(true);
  AppendRecords(1, 20);
  auto up = MakeUploader(/*window=*/4);
  up->SetAgentId("a1");
  up->Start();
  ASSERT_TRUE(cp_.service().WaitFor([](const auto& s) { return s.stored().size() == 4; },
                                    absl::Seconds(10)));
  absl::SleepFor(absl::Milliseconds(200));
  EXPECT_EQ(cp_.service().stored().size(), 4u);
  EXPECT_EQ(up->Counters().lag_records, 20u);
  EXPECT_FALSE(up->WaitForUpload(absl::Now() + absl::Milliseconds(50)).ok());
}

TEST_F(UploaderTest, ControlPlaneDownThenUpDeliversEverything) {
  AppendRecords(1, 3);
  // A channel to a port nothing listens on: the uploader keeps retrying.
  UploaderOptions o;
  o.initial_backoff = absl::Milliseconds(5);
  o.max_backoff = absl::Milliseconds(20);
  auto bad = Uploader::Create(
      wal_.get(), grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()), o);
  ASSERT_TRUE(bad.ok());
  (*bad)->SetAgentId("a1");
  (*bad)->Start();
  // Waits for the second failed stream (a loaded machine may take more than
  // the backoffs' 25 ms to see it) instead of sleeping a fixed time.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((*bad)->Counters().stream_failures < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE((*bad)->Counters().stream_failures, 2u);
  EXPECT_EQ((*bad)->Counters().lag_records, 3u);
  (*bad)->Stop();
  bad->reset();

  auto up = MakeUploader();
  up->SetAgentId("a1");
  up->Start();
  ASSERT_TRUE(up->WaitForUpload(absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(cp_.service().stored().size(), 3u);
}

}  // namespace
}  // namespace tracer::upload
