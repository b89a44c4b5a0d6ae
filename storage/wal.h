// Wal: the durable span write-ahead log / queue shared by the agent and the
// control plane (DESIGN.md, "Storage").
//
// Producers Append() serialized span batches; each gets a sequence number
// (u64, strictly increasing for the life of the data directory, never reused,
// starting at 1) and is on stable storage when Append returns. Named consumers
// read from their cursor and Ack() what they have handed on; records are
// trimmed once every registered consumer has acknowledged them. A size cap
// applies a declared policy (block or drop_oldest). Invalid records found on
// open or read are moved aside ("quarantined"), reported and counted.
//
// Every drop is counted in WalStats; nothing is lost silently.
#ifndef TRACER_STORAGE_WAL_H_
#define TRACER_STORAGE_WAL_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/record_format.h"

namespace tracer::storage {

// What Append does when the stored records plus the new one would exceed
// WalOptions::max_bytes.
enum class CapPolicy {
  // Append waits (up to WalOptions::block_timeout) for consumers to ack and
  // free space; on timeout it fails with RESOURCE_EXHAUSTED, the record is
  // not stored, and it is counted in WalStats::rejected_*. The caller counts
  // what it could not enqueue (back-pressure).
  kBlock,
  // The oldest records are deleted, acknowledged or not, to make room. Each
  // consumer that had not yet acked a deleted record has it counted in its
  // ConsumerStats::dropped_*; totals are in WalStats::dropped_oldest_*.
  kDropOldest,
};

// Parses "block" / "drop_oldest". INVALID_ARGUMENT otherwise.
absl::StatusOr<CapPolicy> ParseCapPolicy(std::string_view text);
std::string_view CapPolicyName(CapPolicy policy);

// Where a newly registered consumer's cursor starts.
enum class StartPosition {
  kOldest,  // at the oldest stored record: it will read everything stored
  kNext,    // after the newest record: it will read only later appends
};

struct WalOptions {
  // Directory of the RocksDB database; created if missing. Required.
  std::string data_dir;
  // Cap on stored record bytes (keys + values, i.e. payload + 36 bytes per
  // record; RocksDB's own overhead and not-yet-compacted files are reported
  // separately as WalStats::disk_bytes). Default 1 GiB.
  uint64_t max_bytes = uint64_t{1} << 30;
  CapPolicy policy = CapPolicy::kBlock;
  // Group commit: the appender that leads a synced write waits at most this
  // long for appenders that are already inside Append (still encoding their
  // record) to join its group, in the spirit of PostgreSQL's commit_delay /
  // commit_siblings. Appenders that arrive while a write is in progress join
  // the next group without any wait. Zero disables the wait.
  absl::Duration group_commit_max_wait = absl::Milliseconds(2);
  // Upper bound on the bytes of one group (one synced RocksDB write). A single
  // larger record still forms a group of its own.
  uint64_t max_group_bytes = uint64_t{8} << 20;
  // kBlock only: how long Append waits for space before failing.
  absl::Duration block_timeout = absl::Seconds(1);
  // Receives every quarantined record (optional, not owned, must outlive the
  // Wal). Quarantines are always logged and counted as well.
  CorruptionReporter* reporter = nullptr;
  // Clock for record creation times, Unix ns. Default: absl::GetCurrentTimeNanos.
  std::function<int64_t()> now_unix_nanos;
};

// One record as returned by ReadFrom. Owns its payload.
struct WalRecord {
  uint64_t seq = 0;
  uint32_t span_count = 0;
  int64_t create_unix_nanos = 0;
  std::string payload;
};

struct ReadLimits {
  // At most this many records...
  size_t max_records = 64;
  // ...and at most this many payload bytes, except that the first record is
  // always returned whatever its size (so a large record cannot stall a
  // consumer).
  size_t max_bytes = size_t{16} << 20;
  // Read records with seq > max(cursor, after_seq). Lets a consumer keep
  // several batches in flight before acking; 0 means "from the cursor".
  uint64_t after_seq = 0;
};

struct ConsumerStats {
  std::string name;
  uint64_t cursor = 0;       // highest acked seq (everything <= is acked)
  uint64_t lag_records = 0;  // stored records with seq > cursor
  uint64_t lag_bytes = 0;    // their stored bytes
  uint64_t lag_spans = 0;    // their span counts summed
  // Counters since Open():
  uint64_t acked_records = 0;    // stored records newly covered by Acks
  uint64_t dropped_records = 0;  // unacked records deleted by kDropOldest
  uint64_t dropped_spans = 0;
  uint64_t dropped_bytes = 0;
};

// A snapshot of gauges and counters. Counters count since Open() unless
// marked persistent.
struct WalStats {
  // Gauges.
  uint64_t records = 0;             // stored records
  uint64_t spans = 0;               // their span counts summed
  uint64_t stored_bytes = 0;        // their keys + values (what max_bytes caps)
  uint64_t disk_bytes = 0;          // all files in data_dir (RocksDB's view)
  uint64_t oldest_seq = 0;          // 0 when empty
  uint64_t newest_seq = 0;          // 0 when empty
  uint64_t next_seq = 0;            // what the next Append will get
  uint64_t quarantined_stored = 0;  // persistent: records in quarantine
  // Counters.
  uint64_t appended_records = 0;
  uint64_t appended_spans = 0;
  uint64_t appended_bytes = 0;
  uint64_t synced_writes = 0;           // group commits (RocksDB writes with sync)
  uint64_t acked_records = 0;           // sum over consumers
  uint64_t trimmed_records = 0;         // deleted because every consumer acked them
  uint64_t dropped_oldest_records = 0;  // deleted by kDropOldest
  uint64_t dropped_oldest_spans = 0;
  uint64_t dropped_oldest_bytes = 0;
  uint64_t rejected_records = 0;  // kBlock: Append timed out, not stored
  uint64_t rejected_spans = 0;
  // Records quarantined since Open, indexed by RecordError.
  std::array<uint64_t, static_cast<size_t>(RecordError::kNumRecordErrors)> quarantined_by_reason{};
  std::vector<ConsumerStats> consumers;  // sorted by name
};

// The WAL. All methods are thread-safe and may be called concurrently, except
// that the object must not be destroyed while calls are in progress.
// Errors from the underlying store (I/O, disk full) are sticky: after the
// first failed write every mutating call returns that error (reopen to
// recover, as RocksDB itself requires).
class Wal {
 public:
  virtual ~Wal() = default;

  // Stores one batch: `payload` (copied; at most 4 GiB - 1 and at most
  // max_bytes) holding `span_count` spans. Returns its sequence number once
  // the record is synced to disk (group commit; see WalOptions).
  // Errors: INVALID_ARGUMENT (payload too large), RESOURCE_EXHAUSTED (kBlock
  // and no space within block_timeout; counted), or the store's error.
  virtual absl::StatusOr<uint64_t> Append(std::string_view payload, uint32_t span_count) = 0;

  // Creates consumer `name` (1..128 printable ASCII bytes) with its cursor at
  // `start`. Idempotent: an existing consumer keeps its cursor. Durable when
  // it returns. Errors: INVALID_ARGUMENT (bad name), store errors.
  virtual absl::Status RegisterConsumer(std::string_view name, StartPosition start) = 0;

  // Deletes consumer `name` and its cursor, then trims what no remaining
  // consumer needs. Errors: NOT_FOUND, store errors.
  virtual absl::Status RemoveConsumer(std::string_view name) = 0;

  // The records after max(cursor, limits.after_seq) in seq order, within the
  // limits; empty when there are none. Does not move the cursor. Invalid
  // records met on the way are quarantined (reported, counted) and skipped.
  // A gap in the returned seqs means records were dropped or quarantined.
  // Errors: NOT_FOUND (unknown consumer), DATA_LOSS / INTERNAL from the store.
  virtual absl::StatusOr<std::vector<WalRecord>> ReadFrom(std::string_view consumer,
                                                          const ReadLimits& limits) = 0;

  // Moves `consumer`'s cursor to `seq` (everything <= seq is acknowledged)
  // and trims records that every consumer has acked, in one synced write.
  // Cursors never move backwards: seq <= cursor is a successful no-op.
  // Errors: NOT_FOUND (unknown consumer), INVALID_ARGUMENT (seq beyond the
  // newest appended record), store errors.
  virtual absl::Status Ack(std::string_view consumer, uint64_t seq) = 0;

  // Deletes records every registered consumer has acked (Ack and
  // RemoveConsumer already do this; exposed for callers that change
  // consumers out of band). With no consumers nothing is trimmed. Returns the
  // number of records deleted.
  virtual absl::StatusOr<uint64_t> Trim() = 0;

  // Gauges and counters; see WalStats.
  virtual WalStats Stats() const = 0;
};

}  // namespace tracer::storage

#endif  // TRACER_STORAGE_WAL_H_
