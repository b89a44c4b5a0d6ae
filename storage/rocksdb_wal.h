// RocksDbWal: the Wal (storage/wal.h) on one RocksDB database.
//
// Layout (record value format: storage/record_format.h):
//   column family "default"    big-endian u64 seq -> record (header + batch)
//   column family "cursors"    consumer name      -> big-endian u64 acked seq
//   column family "meta"       "next_seq_floor"   -> big-endian u64; written
//                              with every delete so sequence numbers are
//                              never reused after the newest records go
//   column family "quarantine" original key       -> original value of every
//                              invalid record found (kept for inspection)
//
// Durability: every mutation is one RocksDB WriteBatch written with
// WriteOptions::sync (fdatasync of RocksDB's log) before the call returns;
// RocksDB recovers with kPointInTimeRecovery, so a write torn by a crash is
// discarded whole and an acknowledged one is never lost. Concurrent callers
// share synced writes (leader/follower group commit as in LevelDB's
// DBImpl::Write, plus a bounded wait, WalOptions::group_commit_max_wait).
//
// Memory: an index of 24 bytes per stored record (seq, size, spans) for the
// cap, lag and trim bookkeeping; records themselves stay on disk.
#ifndef TRACER_STORAGE_ROCKSDB_WAL_H_
#define TRACER_STORAGE_ROCKSDB_WAL_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/wal.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace tracer::storage {

class RocksDbWal final : public Wal {
 public:
  // Opens or creates the WAL in options.data_dir (creating the directory),
  // verifies every stored record end to end and quarantines invalid ones
  // (logged at ERROR, reported, counted), loads the cursors. Opening reads
  // all stored records once (about a second per GiB here).
  // Errors: INVALID_ARGUMENT (empty data_dir, zero max_bytes), the store's
  // errors (e.g. UNAVAILABLE when another process holds the database lock),
  // DATA_LOSS when a cursor or meta value is malformed.
  static absl::StatusOr<std::unique_ptr<RocksDbWal>> Open(WalOptions options);

  // Closes the database. No call may be in progress.
  ~RocksDbWal() override;

  absl::StatusOr<uint64_t> Append(std::string_view payload, uint32_t span_count) override;
  absl::Status RegisterConsumer(std::string_view name, StartPosition start) override;
  absl::Status RemoveConsumer(std::string_view name) override;
  absl::StatusOr<std::vector<WalRecord>> ReadFrom(std::string_view consumer,
                                                  const ReadLimits& limits) override;
  absl::Status Ack(std::string_view consumer, uint64_t seq) override;
  absl::StatusOr<uint64_t> Trim() override;
  WalStats Stats() const override;

  // The underlying database and the records column family, for tests that
  // damage records behind the WAL's back. Owned by this object.
  rocksdb::DB* db_for_testing() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* records_cf_for_testing() const { return records_cf_; }

 private:
  struct Op;
  struct Plan;
  struct IndexEntry {
    uint64_t seq;
    uint64_t bytes;  // key + value
    uint32_t spans;
  };
  struct Consumer {
    uint64_t cursor = 0;
    uint64_t acked_records = 0;
    uint64_t dropped_records = 0;
    uint64_t dropped_spans = 0;
    uint64_t dropped_bytes = 0;
  };

  RocksDbWal(WalOptions options, std::unique_ptr<rocksdb::DB> db,
             std::vector<rocksdb::ColumnFamilyHandle*> handles);

  absl::Status Load();
  // Queues `op` and returns once it is committed (or failed), leading the
  // group write if it reaches the front of the queue first.
  absl::Status Commit(Op* op);
  void PlanGroup(Plan* plan) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteGroup(const Plan& plan);
  void ApplyGroup(const Plan& plan) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves an invalid record to the quarantine column family (synced),
  // removes it from the index, counts, logs and reports it.
  absl::Status Quarantine(std::string_view key, std::string_view value, RecordError error);
  void CountQuarantine(uint64_t seq, std::string_view key, size_t value_bytes, RecordError error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const WalOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned, closed in dtor
  rocksdb::ColumnFamilyHandle* records_cf_;
  rocksdb::ColumnFamilyHandle* cursors_cf_;
  rocksdb::ColumnFamilyHandle* meta_cf_;
  rocksdb::ColumnFamilyHandle* quarantine_cf_;

  // Appenders between entering Append and joining the queue (the group
  // leader waits for them, bounded by group_commit_max_wait).
  std::atomic<int> encoding_appenders_{0};

  mutable absl::Mutex mu_;
  absl::CondVar linger_cv_;  // leader waiting for encoding appenders
  absl::CondVar space_cv_;   // kBlock appenders waiting for space
  std::deque<Op*> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t reserved_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status bg_error_ ABSL_GUARDED_BY(mu_);

  std::deque<IndexEntry> index_ ABSL_GUARDED_BY(mu_);  // sorted by seq
  uint64_t stored_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t stored_spans_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, Consumer, std::less<>> consumers_ ABSL_GUARDED_BY(mu_);
  uint64_t quarantined_stored_ ABSL_GUARDED_BY(mu_) = 0;
  WalStats counters_ ABSL_GUARDED_BY(mu_);  // only the counter fields
};

}  // namespace tracer::storage

#endif  // TRACER_STORAGE_ROCKSDB_WAL_H_
