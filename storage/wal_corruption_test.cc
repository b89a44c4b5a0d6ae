// One named test per corruption mode: each invalid record is found on open
// (or on read), moved to the quarantine column family, reported, counted and
// skipped, while every valid record around it stays readable.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "storage/record_format.h"
#include "storage/rocksdb_wal.h"
#include "storage/testing/otlp_batch.h"
#include "storage/testing/temp_dir.h"

namespace tracer::storage {
namespace {

struct Reported {
  uint64_t seq;
  size_t value_bytes;
  RecordError error;
};

class RecordingReporter : public CorruptionReporter {
 public:
  void Corruption(uint64_t seq, size_t value_bytes, RecordError error) override {
    std::lock_guard<std::mutex> lock(mu_);
    reports_.push_back({seq, value_bytes, error});
  }
  std::vector<Reported> reports() {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_;
  }

 private:
  std::mutex mu_;
  std::vector<Reported> reports_;
};

// Opens the closed WAL's database directly, bypassing the WAL, to damage it.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* db = nullptr;
    s = rocksdb::DB::Open(rocksdb::DBOptions(), dir, cfs, &handles_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
    for (size_t i = 0; i < names.size(); ++i) by_name_[names[i]] = handles_[i];
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }

  std::string Get(uint64_t seq) {
    std::string v;
    EXPECT_TRUE(
        db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), EncodeSeqKey(seq), &v).ok());
    return v;
  }
  void Put(const std::string& key, const std::string& value) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    EXPECT_TRUE(db_->Put(wo, db_->DefaultColumnFamily(), key, value).ok());
  }
  void Put(uint64_t seq, const std::string& value) { Put(EncodeSeqKey(seq), value); }
  size_t Count(const std::string& cf) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), by_name_.at(cf)));
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    return n;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

class WalCorruptionTest : public ::testing::Test {
 protected:
  // Writes records 1..5 (real OTLP batches) with one consumer at the start.
  void SetUp() override {
    auto wal = Open();
    ASSERT_NE(wal, nullptr);
    ASSERT_TRUE(wal->RegisterConsumer("c", StartPosition::kOldest).ok());
    for (uint64_t i = 1; i <= 5; ++i) {
      ASSERT_TRUE(wal->Append(testing::MakeOtlpBatch(i, 32), 32).ok());
    }
  }

  std::unique_ptr<RocksDbWal> Open() {
    WalOptions options;
    options.data_dir = dir_.path();
    options.reporter = &reporter_;
    auto wal = RocksDbWal::Open(options);
    EXPECT_TRUE(wal.ok()) << wal.status();
    return wal.ok() ? std::move(*wal) : nullptr;
  }

  // Reopens after damage and checks: exactly `seq` quarantined for `error`,
  // the other four records intact and in order.
  void ExpectQuarantinedOnOpen(uint64_t seq, RecordError error) {
    auto wal = Open();
    ASSERT_NE(wal, nullptr);
    const WalStats stats = wal->Stats();
    EXPECT_EQ(stats.quarantined_by_reason[static_cast<size_t>(error)], 1u);
    uint64_t total = 0;
    for (uint64_t n : stats.quarantined_by_reason) total += n;
    EXPECT_EQ(total, 1u);
    EXPECT_EQ(stats.quarantined_stored, 1u);
    EXPECT_EQ(stats.records, 4u);
    auto records = wal->ReadFrom("c", ReadLimits{});
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_EQ(records->size(), 4u);
    for (const WalRecord& r : *records) {
      EXPECT_NE(r.seq, seq);
      EXPECT_EQ(r.payload, testing::MakeOtlpBatch(r.seq, 32));
    }
    const auto reports = reporter_.reports();
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].seq, seq);
    EXPECT_EQ(reports[0].error, error);
    EXPECT_GT(reports[0].value_bytes, 0u);
    // New appends continue after the quarantined seq, never reusing it.
    auto next = wal->Append("after", 1);
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, 6u);
    wal.reset();
    // The damaged value is kept aside, not lost; a second open finds nothing
    // new to quarantine but still reports the stored count.
    RawDb raw(dir_.path());
    EXPECT_EQ(raw.Count("quarantine"), 1u);
    EXPECT_EQ(raw.Count("default"), 5u);
  }

  testing::TempDir dir_;
  RecordingReporter reporter_;
};

TEST_F(WalCorruptionTest, ChecksumMismatchFromFlippedPayloadByte) {
  {
    RawDb raw(dir_.path());
    std::string v = raw.Get(3);
    v[kRecordHeaderSize + v.size() / 2] ^= 0x10;
    raw.Put(3, v);
  }
  ExpectQuarantinedOnOpen(3, RecordError::kChecksumMismatch);
}

TEST_F(WalCorruptionTest, ChecksumMismatchFromFlippedHeaderByte) {
  {
    RawDb raw(dir_.path());
    std::string v = raw.Get(2);
    v[9] ^= 0x01;  // span_count
    raw.Put(2, v);
  }
  ExpectQuarantinedOnOpen(2, RecordError::kChecksumMismatch);
}

TEST_F(WalCorruptionTest, UnknownFormatVersion) {
  {
    RawDb raw(dir_.path());
    std::string v = raw.Get(4);
    v[4] = 7;
    raw.Put(4, v);
  }
  ExpectQuarantinedOnOpen(4, RecordError::kUnknownVersion);
}

TEST_F(WalCorruptionTest, TruncatedRecord) {
  {
    RawDb raw(dir_.path());
    std::string v = raw.Get(5);
    v.resize(v.size() - 100);
    raw.Put(5, v);
  }
  ExpectQuarantinedOnOpen(5, RecordError::kTruncatedPayload);
}

TEST_F(WalCorruptionTest, TruncatedHeader) {
  {
    RawDb raw(dir_.path());
    raw.Put(1, raw.Get(1).substr(0, 10));
  }
  ExpectQuarantinedOnOpen(1, RecordError::kTruncatedHeader);
}

TEST_F(WalCorruptionTest, ForeignValue) {
  {
    RawDb raw(dir_.path());
    raw.Put(3, testing::MakeOtlpBatch(3, 32));  // a bare batch, no header
  }
  ExpectQuarantinedOnOpen(3, RecordError::kBadMagic);
}

TEST_F(WalCorruptionTest, ForeignKey) {
  {
    RawDb raw(dir_.path());
    raw.Put("not-a-seq-key", EncodeRecord(RecordType::kSpanBatch, 1, 0, "x"));
  }
  auto wal = Open();
  ASSERT_NE(wal, nullptr);
  const WalStats stats = wal->Stats();
  EXPECT_EQ(stats.quarantined_by_reason[static_cast<size_t>(RecordError::kBadKey)], 1u);
  EXPECT_EQ(stats.records, 5u);
  auto records = wal->ReadFrom("c", ReadLimits{});
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 5u);
}

TEST_F(WalCorruptionTest, DamageAfterOpenIsQuarantinedOnRead) {
  auto wal = Open();
  ASSERT_NE(wal, nullptr);
  rocksdb::DB* db = wal->db_for_testing();
  std::string v;
  ASSERT_TRUE(
      db->Get(rocksdb::ReadOptions(), wal->records_cf_for_testing(), EncodeSeqKey(2), &v).ok());
  v.back() ^= 0x01;
  ASSERT_TRUE(
      db->Put(rocksdb::WriteOptions(), wal->records_cf_for_testing(), EncodeSeqKey(2), v).ok());
  const size_t kChecksum = static_cast<size_t>(RecordError::kChecksumMismatch);
  EXPECT_EQ(wal->Stats().quarantined_by_reason[kChecksum], 0u);
  auto records = wal->ReadFrom("c", ReadLimits{});
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 4u);
  EXPECT_EQ((*records)[0].seq, 1u);
  EXPECT_EQ((*records)[1].seq, 3u);
  WalStats stats = wal->Stats();
  EXPECT_EQ(stats.quarantined_by_reason[kChecksum], 1u);
  EXPECT_EQ(stats.quarantined_stored, 1u);
  EXPECT_EQ(stats.records, 4u);
  ASSERT_EQ(reporter_.reports().size(), 1u);
  EXPECT_EQ(reporter_.reports()[0].seq, 2u);
  // Read again: already moved aside, so neither returned nor recounted.
  records = wal->ReadFrom("c", ReadLimits{});
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 4u);
  EXPECT_EQ(wal->Stats().quarantined_by_reason[kChecksum], 1u);
}

TEST_F(WalCorruptionTest, QuarantineSurvivesReopenWithoutRecounting) {
  {
    RawDb raw(dir_.path());
    std::string v = raw.Get(3);
    v[kRecordHeaderSize] ^= 0x01;
    raw.Put(3, v);
  }
  { ASSERT_NE(Open(), nullptr); }
  auto wal = Open();
  ASSERT_NE(wal, nullptr);
  const WalStats stats = wal->Stats();
  uint64_t since_open = 0;
  for (uint64_t n : stats.quarantined_by_reason) since_open += n;
  EXPECT_EQ(since_open, 0u);
  EXPECT_EQ(stats.quarantined_stored, 1u);
  EXPECT_EQ(stats.records, 4u);
}

}  // namespace
}  // namespace tracer::storage
