#include "storage/rocksdb_wal.h"

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "storage/testing/otlp_batch.h"
#include "storage/testing/temp_dir.h"

namespace tracer::storage {
namespace {

using testing::MakeOtlpBatch;
using testing::TempDir;

// Stored size of a record with `payload_bytes` of payload.
constexpr uint64_t Stored(uint64_t payload_bytes) {
  return kSeqKeySize + kRecordHeaderSize + payload_bytes;
}

class RocksDbWalTest : public ::testing::Test {
 protected:
  std::unique_ptr<RocksDbWal> OpenWal(WalOptions options = {}) {
    options.data_dir = dir_.path();
    auto wal = RocksDbWal::Open(options);
    EXPECT_TRUE(wal.ok()) << wal.status();
    return wal.ok() ? std::move(*wal) : nullptr;
  }

  const ConsumerStats& Consumer(const WalStats& stats, const std::string& name) {
    for (const ConsumerStats& c : stats.consumers) {
      if (c.name == name) return c;
    }
    ADD_FAILURE() << "no consumer " << name;
    static ConsumerStats none;
    return none;
  }

  TempDir dir_;
};

TEST_F(RocksDbWalTest, AppendsRealOtlpBatchesAndReadsThemBack) {
  auto wal = OpenWal();
  ASSERT_NE(wal, nullptr);
  ASSERT_TRUE(wal->RegisterConsumer("uploader", StartPosition::kOldest).ok());
  std::vector<std::string> batches;
  for (uint64_t i = 0; i < 5; ++i) {
    batches.push_back(MakeOtlpBatch(i, 512));
    auto seq = wal->Append(batches.back(), 512);
    ASSERT_TRUE(seq.ok()) << seq.status();
    EXPECT_EQ(*seq, i + 1);
  }
  auto records = wal->ReadFrom("uploader", ReadLimits{});
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ((*records)[i].seq, i + 1);
    EXPECT_EQ((*records)[i].span_count, 512u);
    EXPECT_EQ((*records)[i].payload, batches[i]);
    EXPECT_EQ(testing::CountOtlpSpans((*records)[i].payload), 512);
    EXPECT_GT((*records)[i].create_unix_nanos, 0);
  }
  const WalStats stats = wal->Stats();
  EXPECT_EQ(stats.records, 5u);
  EXPECT_EQ(stats.spans, 5u * 512);
  EXPECT_EQ(stats.appended_records, 5u);
  EXPECT_EQ(stats.appended_spans, 5u * 512);
  uint64_t want_bytes = 0;
  for (const auto& b : batches) want_bytes += Stored(b.size());
  EXPECT_EQ(stats.stored_bytes, want_bytes);
  EXPECT_EQ(stats.appended_bytes, want_bytes);
  EXPECT_GE(stats.disk_bytes, want_bytes);  // synced into RocksDB's log
  EXPECT_EQ(stats.oldest_seq, 1u);
  EXPECT_EQ(stats.newest_seq, 5u);
  EXPECT_EQ(Consumer(stats, "uploader").lag_records, 5u);
  EXPECT_EQ(Consumer(stats, "uploader").lag_bytes, want_bytes);
  EXPECT_EQ(Consumer(stats, "uploader").lag_spans, 5u * 512);
}

TEST_F(RocksDbWalTest, TwoConsumersAtDifferentSpeedsTrimOnlyBelowTheSlowest) {
  auto wal = OpenWal();
  ASSERT_NE(wal, nullptr);
  ASSERT_TRUE(wal->RegisterConsumer("fast", StartPosition::kOldest).ok());
  ASSERT_TRUE(wal->RegisterConsumer("slow", StartPosition::kOldest).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(wal->Append(MakeOtlpBatch(i, 8), 8).ok());

  // The fast consumer reads and acks everything: nothing may be trimmed.
  auto fast = wal->ReadFrom("fast", ReadLimits{});
  ASSERT_TRUE(fast.ok());
  ASSERT_EQ(fast->size(), 10u);
  ASSERT_TRUE(wal->Ack("fast", fast->back().seq).ok());
  WalStats stats = wal->Stats();
  EXPECT_EQ(stats.records, 10u);
  EXPECT_EQ(stats.trimmed_records, 0u);
  EXPECT_EQ(Consumer(stats, "fast").cursor, 10u);
  EXPECT_EQ(Consumer(stats, "fast").lag_records, 0u);
  EXPECT_EQ(Consumer(stats, "fast").acked_records, 10u);
  EXPECT_EQ(Consumer(stats, "slow").lag_records, 10u);

  // The slow one acks 4: exactly those go.
  auto slow = wal->ReadFrom("slow", ReadLimits{.max_records = 4});
  ASSERT_TRUE(slow.ok());
  ASSERT_EQ(slow->size(), 4u);
  EXPECT_EQ(slow->front().seq, 1u);
  ASSERT_TRUE(wal->Ack("slow", slow->back().seq).ok());
  stats = wal->Stats();
  EXPECT_EQ(stats.records, 6u);
  EXPECT_EQ(stats.oldest_seq, 5u);
  EXPECT_EQ(stats.trimmed_records, 4u);
  EXPECT_EQ(Consumer(stats, "slow").lag_records, 6u);
  EXPECT_EQ(stats.acked_records, 14u);

  // It continues from its cursor.
  slow = wal->ReadFrom("slow", ReadLimits{.max_records = 2});
  ASSERT_TRUE(slow.ok());
  ASSERT_EQ(slow->size(), 2u);
  EXPECT_EQ(slow->front().seq, 5u);

  // Cursors never move backwards; acks beyond the newest record are refused.
  EXPECT_TRUE(wal->Ack("fast", 3).ok());
  EXPECT_EQ(Consumer(wal->Stats(), "fast").cursor, 10u);
  EXPECT_EQ(wal->Ack("slow", 11).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->Ack("nobody", 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(wal->ReadFrom("nobody", ReadLimits{}).status().code(), absl::StatusCode::kNotFound);

  // Removing the slow consumer trims down to the fast one's cursor.
  ASSERT_TRUE(wal->RemoveConsumer("slow").ok());
  stats = wal->Stats();
  EXPECT_EQ(stats.records, 0u);
  EXPECT_EQ(stats.trimmed_records, 10u);
  EXPECT_EQ(wal->RemoveConsumer("slow").code(), absl::StatusCode::kNotFound);
}

TEST_F(RocksDbWalTest, ReadLimitsAndPipelinedReads) {
  auto wal = OpenWal();
  ASSERT_NE(wal, nullptr);
  ASSERT_TRUE(wal->RegisterConsumer("c", StartPosition::kOldest).ok());
  const std::string payload(1000, 'p');
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(wal->Append(payload, 1).ok());

  auto r = wal->ReadFrom("c", ReadLimits{.max_records = 100, .max_bytes = 2500});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 2u);  // a third would exceed 2500 payload bytes
  // A record larger than max_bytes still comes alone.
  r = wal->ReadFrom("c", ReadLimits{.max_records = 100, .max_bytes = 10});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  // after_seq lets the consumer read ahead of its cursor.
  r = wal->ReadFrom("c", ReadLimits{.max_records = 3, .after_seq = 6});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].seq, 7u);
  EXPECT_EQ((*r)[2].seq, 9u);
  r = wal->ReadFrom("c", ReadLimits{.after_seq = 10});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST_F(RocksDbWalTest, RegisterAtNextSeesOnlyLaterRecordsAndIsIdempotent) {
  auto wal = OpenWal();
  ASSERT_NE(wal, nullptr);
  ASSERT_TRUE(wal->RegisterConsumer("early", StartPosition::kOldest).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(wal->Append("old", 1).ok());
  ASSERT_TRUE(wal->RegisterConsumer("late", StartPosition::kNext).ok());
  ASSERT_TRUE(wal->Append("new", 1).ok());
  auto r = wal->ReadFrom("late", ReadLimits{});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].seq, 4u);
  EXPECT_EQ((*r)[0].payload, "new");

  ASSERT_TRUE(wal->Ack("early", 2).ok());
  ASSERT_TRUE(wal->RegisterConsumer("early", StartPosition::kNext).ok());
  EXPECT_EQ(Consumer(wal->Stats(), "early").cursor, 2u);
  EXPECT_EQ(wal->RegisterConsumer("", StartPosition::kNext).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->RegisterConsumer("has space", StartPosition::kNext).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksDbWalTest, DropOldestDeletesUnackedRecordsAndCountsPerConsumer) {
  WalOptions options;
  options.policy = CapPolicy::kDropOldest;
  options.max_bytes = 10 * Stored(100);  // room for exactly 10 records
  auto wal = OpenWal(options);
  ASSERT_NE(wal, nullptr);
  ASSERT_TRUE(wal->RegisterConsumer("a", StartPosition::kOldest).ok());
  ASSERT_TRUE(wal->RegisterConsumer("b", StartPosition::kOldest).ok());
  const std::string payload(100, 'x');
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(wal->Append(payload, 7).ok());
  ASSERT_TRUE(wal->Ack("a", 3).ok());  // b acks nothing: nothing trimmed
  for (int i = 3; i < 15; ++i) ASSERT_TRUE(wal->Append(payload, 7).ok());

  const WalStats stats = wal->Stats();
  EXPECT_EQ(stats.records, 10u);
  EXPECT_EQ(stats.stored_bytes, options.max_bytes);
  EXPECT_EQ(stats.oldest_seq, 6u);
  EXPECT_EQ(stats.newest_seq, 15u);
  EXPECT_EQ(stats.trimmed_records, 0u);
  EXPECT_EQ(stats.dropped_oldest_records, 5u);
  EXPECT_EQ(stats.dropped_oldest_spans, 35u);
  EXPECT_EQ(stats.dropped_oldest_bytes, 5 * Stored(100));
  // a had acked 1..3, so only 4 and 5 were lost to it; b lost all five.
  EXPECT_EQ(Consumer(stats, "a").dropped_records, 2u);
  EXPECT_EQ(Consumer(stats, "a").dropped_spans, 14u);
  EXPECT_EQ(Consumer(stats, "b").dropped_records, 5u);
  EXPECT_EQ(Consumer(stats, "b").dropped_bytes, 5 * Stored(100));
  EXPECT_EQ(stats.rejected_records, 0u);

  // The consumer sees the gap: its next record is the oldest kept.
  auto r = wal->ReadFrom("b", ReadLimits{.max_records = 1});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].seq, 6u);
  // A record larger than the cap can never be stored.
  EXPECT_EQ(wal->Append(std::string(options.max_bytes, 'x'), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RocksDbWalTest, BlockWaitsForSpaceThenFailsAndCounts) {
  WalOptions options;
  options.policy = CapPolicy::kBlock;
  options.max_bytes = 4 * Stored(100);
  options.block_timeout = absl::Milliseconds(200);
  auto wal = OpenWal(options);
  ASSERT_NE(wal, nullptr);
  ASSERT_TRUE(wal->RegisterConsumer("c", StartPosition::kOldest).ok());
  const std::string payload(100, 'x');
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(wal->Append(payload, 5).ok());

  // Full, nobody acks: Append waits block_timeout, then fails; counted.
  absl::Time start = absl::Now();
  auto seq = wal->Append(payload, 5);
  EXPECT_EQ(seq.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(190));
  WalStats stats = wal->Stats();
  EXPECT_EQ(stats.rejected_records, 1u);
  EXPECT_EQ(stats.rejected_spans, 5u);
  EXPECT_EQ(stats.records, 4u);
  EXPECT_EQ(stats.dropped_oldest_records, 0u);

  // Full, the consumer acks while Append waits: it gets the next seq.
  std::atomic<bool> returned{false};
  absl::StatusOr<uint64_t> blocked;
  std::thread appender([&] {
    blocked = wal->Append(payload, 5);
    returned = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(returned.load());  // still waiting for space
  ASSERT_TRUE(wal->Ack("c", 1).ok());
  appender.join();
  ASSERT_TRUE(blocked.ok()) << blocked.status();
  EXPECT_EQ(*blocked, 5u);
  stats = wal->Stats();
  EXPECT_EQ(stats.rejected_records, 1u);
  EXPECT_EQ(stats.records, 4u);
  EXPECT_EQ(stats.oldest_seq, 2u);
}

TEST_F(RocksDbWalTest, ReopenAfterCleanShutdownKeepsRecordsCursorsAndSeqs) {
  {
    auto wal = OpenWal();
    ASSERT_NE(wal, nullptr);
    ASSERT_TRUE(wal->RegisterConsumer("a", StartPosition::kOldest).ok());
    ASSERT_TRUE(wal->RegisterConsumer("b", StartPosition::kOldest).ok());
    for (int i = 0; i < 6; ++i) {
      ASSERT_TRUE(wal->Append(MakeOtlpBatch(i, 16), 16).ok());
    }
    ASSERT_TRUE(wal->Ack("a", 6).ok());
    ASSERT_TRUE(wal->Ack("b", 2).ok());
  }
  {
    auto wal = OpenWal();
    ASSERT_NE(wal, nullptr);
    const WalStats stats = wal->Stats();
    EXPECT_EQ(stats.records, 4u);
    EXPECT_EQ(stats.oldest_seq, 3u);
    EXPECT_EQ(stats.next_seq, 7u);
    EXPECT_EQ(Consumer(stats, "a").cursor, 6u);
    EXPECT_EQ(Consumer(stats, "b").cursor, 2u);
    auto r = wal->ReadFrom("b", ReadLimits{});
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 4u);
    EXPECT_EQ((*r)[0].payload, MakeOtlpBatch(2, 16));
    // Everything acked and trimmed...
    ASSERT_TRUE(wal->Ack("b", 6).ok());
    EXPECT_EQ(wal->Stats().records, 0u);
  }
  {
    // ...still never reuses a sequence number.
    auto wal = OpenWal();
    ASSERT_NE(wal, nullptr);
    auto seq = wal->Append("after", 1);
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, 7u);
  }
}

TEST_F(RocksDbWalTest, SecondOpenOfTheSameDirectoryIsRefused) {
  auto wal = OpenWal();
  ASSERT_NE(wal, nullptr);
  WalOptions options;
  options.data_dir = dir_.path();
  auto second = RocksDbWal::Open(options);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

TEST_F(RocksDbWalTest, ConcurrentAppendersShareSyncedWrites) {
  auto wal = OpenWal();
  ASSERT_NE(wal, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto seq = wal->Append(MakeOtlpBatch(t * 1000 + i, 64), 64);
        ASSERT_TRUE(seq.ok()) << seq.status();
        seqs[t].push_back(*seq);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<uint64_t> all;
  for (const auto& per_thread : seqs) {
    for (size_t i = 1; i < per_thread.size(); ++i) {
      EXPECT_LT(per_thread[i - 1], per_thread[i]);  // increasing per caller
    }
    all.insert(per_thread.begin(), per_thread.end());
  }
  ASSERT_EQ(all.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), uint64_t{kThreads * kPerThread});
  const WalStats stats = wal->Stats();
  EXPECT_EQ(stats.appended_records, uint64_t{kThreads * kPerThread});
  // Group commit: fewer synced writes than appends.
  EXPECT_LT(stats.synced_writes, stats.appended_records);
  EXPECT_GT(stats.synced_writes, 0u);
}

TEST_F(RocksDbWalTest, TrimWithoutConsumersKeepsEverything) {
  auto wal = OpenWal();
  ASSERT_NE(wal, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(wal->Append("x", 1).ok());
  auto trimmed = wal->Trim();
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, 0u);
  EXPECT_EQ(wal->Stats().records, 3u);
  ASSERT_TRUE(wal->RegisterConsumer("c", StartPosition::kNext).ok());
  trimmed = wal->Trim();
  ASSERT_TRUE(trimmed.ok());
  EXPECT_EQ(*trimmed, 3u);  // the only consumer starts after them
  EXPECT_EQ(wal->Stats().records, 0u);
}

}  // namespace
}  // namespace tracer::storage
