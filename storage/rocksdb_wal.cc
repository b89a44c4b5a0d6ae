#include "storage/rocksdb_wal.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/write_batch.h"

namespace tracer::storage {
namespace {

constexpr char kCursorsCf[] = "cursors";
constexpr char kMetaCf[] = "meta";
constexpr char kQuarantineCf[] = "quarantine";
constexpr char kNextSeqFloorKey[] = "next_seq_floor";
constexpr size_t kMaxConsumerName = 128;
constexpr uint64_t kMaxPayload = 0xFFFFFFFFull;

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat("rocksdb ", std::string(what), ": ", s.ToString());
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(msg);
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(msg);
  }
  // A second process holding the LOCK file surfaces as an IOError.
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

absl::Status ValidateConsumerName(std::string_view name) {
  if (name.empty() || name.size() > kMaxConsumerName) {
    return absl::InvalidArgumentError(
        absl::StrCat("consumer name must be 1..", kMaxConsumerName, " bytes"));
  }
  for (char c : name) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError("consumer name must be printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

rocksdb::ColumnFamilyOptions RecordsCfOptions() {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = 64 << 20;
  o.max_write_buffer_number = 4;
  // Values stay inline in the SSTs. Blob files (enable_blob_files) were
  // measured too (BENCHMARKS.md): they cut compaction rewrites, but every
  // ReadFrom then costs one pread per record and replay ran 3x slower.
  // Serialized spans are already dense; compression costs more CPU than
  // the disk time it saves on two cores.
  o.compression = rocksdb::kNoCompression;
  return o;
}

rocksdb::ColumnFamilyOptions SmallCfOptions() {
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = 4 << 20;
  return o;
}

// Sum of the sizes of the regular files under `dir`; files that vanish
// during the walk (RocksDB deletes obsolete ones concurrently) are skipped.
uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec)) {
      const uint64_t size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

}  // namespace

// One queued mutation. Lives on its caller's stack until Commit returns.
struct RocksDbWal::Op {
  enum class Kind { kAppend, kAck, kRegister, kRemove, kTrim };
  explicit Op(Kind k) : kind(k) {}

  const Kind kind;
  // kAppend.
  std::array<char, kRecordHeaderSize> header{};
  std::string_view payload;
  uint32_t span_count = 0;
  uint64_t bytes = 0;  // key + header + payload
  // Consumer operations.
  std::string consumer;
  uint64_t seq = 0;  // kAck: new cursor
  StartPosition start = StartPosition::kNext;
  // Outcome.
  absl::Status status;
  uint64_t result = 0;  // kAppend: seq; kTrim: records trimmed by the group
  bool done = false;
  absl::CondVar cv;
};

// What one group writes, decided under mu_ by the leader, written without
// it, then applied under it. Only the leader mutates state, so a plan stays
// valid between PlanGroup and ApplyGroup.
struct RocksDbWal::Plan {
  std::vector<Op*> group;
  std::vector<Op*> appends;  // members of `group` that append, in seq order
  uint64_t first_seq = 0;    // appends get first_seq, first_seq + 1, ...
  uint64_t append_bytes = 0;
  uint64_t append_spans = 0;
  // Consumers whose cursor changes: value, or nullopt for a removal.
  std::map<std::string, std::optional<uint64_t>, std::less<>> cursor_writes;
  std::map<std::string, uint64_t, std::less<>> registered;  // new consumers
  // Index entries deleted: the first `trim_count` because every consumer
  // acked them, the next `drop_count` by kDropOldest.
  std::vector<uint64_t> deleted_seqs;
  size_t trim_count = 0;
  size_t drop_count = 0;
  bool has_writes = false;
};

RocksDbWal::RocksDbWal(WalOptions options, std::unique_ptr<rocksdb::DB> db,
                       std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : options_(std::move(options)),
      db_(std::move(db)),
      handles_(std::move(handles)),
      records_cf_(handles_[0]),
      cursors_cf_(handles_[1]),
      meta_cf_(handles_[2]),
      quarantine_cf_(handles_[3]) {}

RocksDbWal::~RocksDbWal() {
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h);
  }
  db_->Close();
}

absl::StatusOr<std::unique_ptr<RocksDbWal>> RocksDbWal::Open(WalOptions options) {
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError("WalOptions.data_dir is required");
  }
  if (options.max_bytes == 0) {
    return absl::InvalidArgumentError("WalOptions.max_bytes must be > 0");
  }
  if (!options.now_unix_nanos) options.now_unix_nanos = absl::GetCurrentTimeNanos;
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("create ", options.data_dir, ": ", ec.message()));
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  // With synced writes a torn tail can only hold unacknowledged writes:
  // recover up to the last complete write and drop the rest.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.max_background_jobs = 2;
  // The small column families would otherwise pin old log files forever.
  db_options.max_total_wal_size = 256 << 20;
  db_options.bytes_per_sync = 1 << 20;
  db_options.keep_log_file_num = 4;

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, RecordsCfOptions()},
      {kCursorsCf, SmallCfOptions()},
      {kMetaCf, SmallCfOptions()},
      {kQuarantineCf, SmallCfOptions()},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  absl::Status s = FromRocks(rocksdb::DB::Open(db_options, options.data_dir, cfs, &handles, &raw),
                             absl::StrCat("open ", options.data_dir));
  if (!s.ok()) return s;
  std::unique_ptr<RocksDbWal> wal(
      new RocksDbWal(std::move(options), std::unique_ptr<rocksdb::DB>(raw), std::move(handles)));
  s = wal->Load();
  if (!s.ok()) return s;
  return wal;
}

absl::Status RocksDbWal::Load() {
  absl::MutexLock lock(&mu_);
  uint64_t next = 1;

  std::string floor_value;
  rocksdb::Status rs = db_->Get(rocksdb::ReadOptions(), meta_cf_, kNextSeqFloorKey, &floor_value);
  if (rs.ok()) {
    uint64_t floor = 0;
    if (!DecodeSeqKey(floor_value, &floor)) {
      return absl::DataLossError("WAL meta next_seq_floor is malformed");
    }
    next = std::max(next, floor);
  } else if (!rs.IsNotFound()) {
    return FromRocks(rs, "read meta");
  }

  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cursors_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint64_t cursor = 0;
      if (!DecodeSeqKey(it->value().ToStringView(), &cursor)) {
        return absl::DataLossError(
            absl::StrCat("WAL cursor of consumer '", it->key().ToString(), "' is malformed"));
      }
      consumers_[it->key().ToString()].cursor = cursor;
      next = std::max(next, cursor + 1);
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan cursors"));
  }

  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), quarantine_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++quarantined_stored_;
      uint64_t seq = 0;
      if (DecodeSeqKey(it->key().ToStringView(), &seq)) {
        next = std::max(next, seq + 1);
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan quarantine"));
  }

  // Verify every record; move invalid ones aside in one synced batch.
  rocksdb::WriteBatch quarantine;
  struct Bad {
    uint64_t seq;
    size_t value_bytes;
    RecordError error;
  };
  std::vector<Bad> bad;
  {
    rocksdb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, records_cf_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key = it->key().ToStringView();
      const std::string_view value = it->value().ToStringView();
      uint64_t seq = 0;
      RecordError error = RecordError::kBadKey;
      RecordView view;
      if (DecodeSeqKey(key, &seq)) {
        next = std::max(next, seq + 1);
        error = DecodeRecord(value, &view);
      } else {
        seq = 0;
      }
      if (error == RecordError::kOk) {
        const uint64_t bytes = key.size() + value.size();
        index_.push_back({seq, bytes, view.span_count});
        stored_bytes_ += bytes;
        stored_spans_ += view.span_count;
        continue;
      }
      quarantine.Put(quarantine_cf_, it->key(), it->value());
      quarantine.Delete(records_cf_, it->key());
      bad.push_back({seq, value.size(), error});
      CountQuarantine(seq, key, value.size(), error);
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "scan records"));
  }
  if (quarantine.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    RETURN_IF_ERROR(FromRocks(db_->Write(wo, &quarantine), "quarantine"));
    quarantined_stored_ += bad.size();
  }
  next_seq_ = next;
  LOG(INFO) << "WAL " << options_.data_dir << " open: " << index_.size() << " records ("
            << stored_bytes_ << " bytes), " << consumers_.size() << " consumers, next seq "
            << next_seq_ << ", " << bad.size() << " quarantined now, " << quarantined_stored_
            << " in quarantine; cap " << options_.max_bytes << " bytes, policy "
            << CapPolicyName(options_.policy);
  if (options_.reporter != nullptr) {
    mu_.Unlock();
    for (const Bad& b : bad) {
      options_.reporter->Corruption(b.seq, b.value_bytes, b.error);
    }
    mu_.Lock();
  }
  return absl::OkStatus();
}

void RocksDbWal::CountQuarantine(uint64_t seq, std::string_view key, size_t value_bytes,
                                 RecordError error) {
  ++counters_.quarantined_by_reason[static_cast<size_t>(error)];
  LOG(ERROR) << "WAL " << options_.data_dir << ": record "
             << (error == RecordError::kBadKey
                     ? absl::StrCat("with bad key of ", key.size(), " bytes")
                     : absl::StrCat("seq ", seq))
             << " (" << value_bytes << " bytes) is invalid (" << RecordErrorName(error)
             << "); moved to column family 'quarantine', consumers skip it";
}

absl::StatusOr<uint64_t> RocksDbWal::Append(std::string_view payload, uint32_t span_count) {
  Op op(Op::Kind::kAppend);
  op.bytes = kSeqKeySize + kRecordHeaderSize + payload.size();
  if (payload.size() > kMaxPayload || op.bytes > options_.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("WAL record of ", payload.size(),
                                                   " bytes exceeds the cap (", options_.max_bytes,
                                                   " bytes) or 4 GiB"));
  }
  if (options_.policy == CapPolicy::kBlock) {
    absl::MutexLock lock(&mu_);
    const absl::Time deadline = absl::Now() + options_.block_timeout;
    while (bg_error_.ok() && stored_bytes_ + reserved_bytes_ + op.bytes > options_.max_bytes) {
      if (space_cv_.WaitWithDeadline(&mu_, deadline) &&
          stored_bytes_ + reserved_bytes_ + op.bytes > options_.max_bytes) {
        ++counters_.rejected_records;
        counters_.rejected_spans += span_count;
        return absl::ResourceExhaustedError(
            absl::StrCat("WAL full: ", stored_bytes_, " of ", options_.max_bytes,
                         " bytes stored and no consumer freed space within ",
                         absl::FormatDuration(options_.block_timeout)));
      }
    }
    if (!bg_error_.ok()) return bg_error_;
    reserved_bytes_ += op.bytes;
  }
  encoding_appenders_.fetch_add(1, std::memory_order_relaxed);
  op.payload = payload;
  op.span_count = span_count;
  op.header =
      EncodeRecordHeader(RecordType::kSpanBatch, span_count, options_.now_unix_nanos(), payload);
  absl::Status s = Commit(&op);
  if (!s.ok()) return s;
  return op.result;
}

absl::Status RocksDbWal::RegisterConsumer(std::string_view name, StartPosition start) {
  RETURN_IF_ERROR(ValidateConsumerName(name));
  Op op(Op::Kind::kRegister);
  op.consumer = std::string(name);
  op.start = start;
  return Commit(&op);
}

absl::Status RocksDbWal::RemoveConsumer(std::string_view name) {
  Op op(Op::Kind::kRemove);
  op.consumer = std::string(name);
  return Commit(&op);
}

absl::Status RocksDbWal::Ack(std::string_view consumer, uint64_t seq) {
  {
    // Fast path: acking what is already acked needs no write.
    absl::MutexLock lock(&mu_);
    auto it = consumers_.find(consumer);
    if (it == consumers_.end()) {
      return absl::NotFoundError(
          absl::StrCat("unknown WAL consumer '", std::string(consumer), "'"));
    }
    if (seq <= it->second.cursor) return absl::OkStatus();
  }
  Op op(Op::Kind::kAck);
  op.consumer = std::string(consumer);
  op.seq = seq;
  return Commit(&op);
}

absl::StatusOr<uint64_t> RocksDbWal::Trim() {
  Op op(Op::Kind::kTrim);
  absl::Status s = Commit(&op);
  if (!s.ok()) return s;
  return op.result;
}

absl::Status RocksDbWal::Commit(Op* op) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(op);
  if (op->kind == Op::Kind::kAppend) {
    queued_bytes_ += op->bytes;
    encoding_appenders_.fetch_sub(1, std::memory_order_relaxed);
    linger_cv_.Signal();
  }
  while (!op->done && op != queue_.front()) op->cv.Wait(&mu_);
  if (op->done) return op->status;

  // This op leads the next group.
  const uint64_t group_cap = std::min(options_.max_group_bytes, options_.max_bytes);
  if (options_.group_commit_max_wait > absl::ZeroDuration()) {
    const absl::Time deadline = absl::Now() + options_.group_commit_max_wait;
    while (encoding_appenders_.load(std::memory_order_relaxed) > 0 && queued_bytes_ < group_cap) {
      if (linger_cv_.WaitWithDeadline(&mu_, deadline)) break;
    }
  }

  Plan plan;
  absl::Status status = bg_error_;
  if (status.ok()) {
    PlanGroup(&plan);
    if (plan.has_writes) {
      mu_.Unlock();
      status = WriteGroup(plan);
      mu_.Lock();
    }
    if (status.ok()) {
      ApplyGroup(plan);
    } else {
      bg_error_ = status;
      LOG(ERROR) << "WAL " << options_.data_dir
                 << ": write failed, the WAL is now read-only: " << status;
    }
  } else {
    plan.group.push_back(op);  // fail only this op; others fail as they lead
    if (op->kind == Op::Kind::kAppend) queued_bytes_ -= op->bytes;
  }
  if (options_.policy == CapPolicy::kBlock) {
    for (Op* a : plan.group) {
      if (a->kind == Op::Kind::kAppend) reserved_bytes_ -= a->bytes;
    }
    space_cv_.SignalAll();
  }

  for (Op* member : plan.group) {
    if (!status.ok()) member->status = status;
    queue_.pop_front();
    member->done = true;
    if (member != op) member->cv.Signal();
  }
  if (!queue_.empty()) queue_.front()->cv.Signal();
  return op->status;
}

void RocksDbWal::PlanGroup(Plan* plan) {
  const uint64_t group_cap = std::min(options_.max_group_bytes, options_.max_bytes);
  uint64_t bytes = 0;
  for (Op* op : queue_) {
    if (op->kind == Op::Kind::kAppend) {
      if (!plan->group.empty() && bytes + op->bytes > group_cap) break;
      bytes += op->bytes;
      queued_bytes_ -= op->bytes;
    }
    plan->group.push_back(op);
  }

  const uint64_t committed = next_seq_ - 1;
  uint64_t seq = next_seq_;
  plan->first_seq = next_seq_;
  // Cursors as they stand after each op of the group (nullopt: removed).
  auto cursor_of = [&](const std::string& name) -> std::optional<uint64_t> {
    if (auto w = plan->cursor_writes.find(name); w != plan->cursor_writes.end()) {
      return w->second;
    }
    if (auto c = consumers_.find(name); c != consumers_.end()) {
      return c->second.cursor;
    }
    return std::nullopt;
  };
  bool consumers_changed = false;
  for (Op* op : plan->group) {
    switch (op->kind) {
      case Op::Kind::kAppend:
        op->result = seq++;
        plan->appends.push_back(op);
        plan->append_bytes += op->bytes;
        plan->append_spans += op->span_count;
        break;
      case Op::Kind::kRegister: {
        if (cursor_of(op->consumer).has_value()) break;  // idempotent
        uint64_t cursor = seq - 1;
        if (op->start == StartPosition::kOldest && !index_.empty()) {
          cursor = index_.front().seq - 1;
        }
        plan->cursor_writes[op->consumer] = cursor;
        plan->registered[op->consumer] = cursor;
        break;  // registering alone deletes nothing
      }
      case Op::Kind::kRemove:
        if (!cursor_of(op->consumer).has_value()) {
          op->status =
              absl::NotFoundError(absl::StrCat("unknown WAL consumer '", op->consumer, "'"));
          break;
        }
        plan->cursor_writes[op->consumer] = std::nullopt;
        plan->registered.erase(op->consumer);
        consumers_changed = true;
        break;
      case Op::Kind::kAck: {
        const std::optional<uint64_t> cursor = cursor_of(op->consumer);
        if (!cursor.has_value()) {
          op->status =
              absl::NotFoundError(absl::StrCat("unknown WAL consumer '", op->consumer, "'"));
        } else if (op->seq > committed) {
          op->status = absl::InvalidArgumentError(
              absl::StrCat("ack of seq ", op->seq, " beyond the newest record ", committed));
        } else if (op->seq > *cursor) {
          plan->cursor_writes[op->consumer] = op->seq;
          consumers_changed = true;
        }
        break;
      }
      case Op::Kind::kTrim:
        consumers_changed = true;
        break;
    }
  }

  // Trim what every remaining consumer has acked.
  size_t pos = 0;
  uint64_t remaining_bytes = stored_bytes_;
  if (consumers_changed) {
    std::optional<uint64_t> min_cursor;
    auto consider = [&](const std::string& name) {
      const std::optional<uint64_t> c = cursor_of(name);
      if (c.has_value()) min_cursor = std::min(min_cursor.value_or(*c), *c);
    };
    for (const auto& [name, unused] : consumers_) consider(name);
    for (const auto& [name, unused] : plan->cursor_writes) consider(name);
    if (min_cursor.has_value()) {
      while (pos < index_.size() && index_[pos].seq <= *min_cursor) {
        plan->deleted_seqs.push_back(index_[pos].seq);
        remaining_bytes -= index_[pos].bytes;
        ++pos;
      }
    }
    plan->trim_count = pos;
  }
  // Make room under the cap.
  if (options_.policy == CapPolicy::kDropOldest) {
    while (pos < index_.size() && remaining_bytes + plan->append_bytes > options_.max_bytes) {
      plan->deleted_seqs.push_back(index_[pos].seq);
      remaining_bytes -= index_[pos].bytes;
      ++pos;
      ++plan->drop_count;
    }
  }
  plan->has_writes =
      !plan->appends.empty() || !plan->cursor_writes.empty() || !plan->deleted_seqs.empty();
}

absl::Status RocksDbWal::WriteGroup(const Plan& plan) {
  rocksdb::WriteBatch batch;
  for (Op* op : plan.appends) {
    const std::string key = EncodeSeqKey(op->result);
    const rocksdb::Slice key_slice(key);
    const rocksdb::Slice parts[2] = {rocksdb::Slice(op->header.data(), op->header.size()),
                                     rocksdb::Slice(op->payload.data(), op->payload.size())};
    rocksdb::Status s =
        batch.Put(records_cf_, rocksdb::SliceParts(&key_slice, 1), rocksdb::SliceParts(parts, 2));
    if (!s.ok()) return FromRocks(s, "batch put");
  }
  for (const auto& [name, cursor] : plan.cursor_writes) {
    if (cursor.has_value()) {
      batch.Put(cursors_cf_, name, EncodeSeqKey(*cursor));
    } else {
      batch.Delete(cursors_cf_, name);
    }
  }
  if (!plan.deleted_seqs.empty()) {
    for (uint64_t seq : plan.deleted_seqs) {
      batch.Delete(records_cf_, EncodeSeqKey(seq));
    }
    // Sequence numbers must never be reused, even if every record is gone.
    const uint64_t next = plan.first_seq + plan.appends.size();
    batch.Put(meta_cf_, kNextSeqFloorKey, EncodeSeqKey(next));
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &batch), "synced write");
}

void RocksDbWal::ApplyGroup(const Plan& plan) {
  if (!plan.has_writes) {
    for (Op* op : plan.group) {
      if (op->kind == Op::Kind::kTrim) op->result = 0;
    }
    return;
  }
  ++counters_.synced_writes;

  // Register first so that drops below are counted for new consumers too.
  for (const auto& [name, cursor] : plan.registered) {
    consumers_[name].cursor = cursor;
  }
  // Acks: count stored records newly covered, then move cursors.
  for (const auto& [name, cursor] : plan.cursor_writes) {
    auto it = consumers_.find(name);
    if (it == consumers_.end()) continue;
    if (!cursor.has_value()) {
      consumers_.erase(it);
      continue;
    }
    if (*cursor <= it->second.cursor) continue;
    auto lo = std::upper_bound(index_.begin(), index_.end(), it->second.cursor,
                               [](uint64_t s, const IndexEntry& e) { return s < e.seq; });
    auto hi = std::upper_bound(index_.begin(), index_.end(), *cursor,
                               [](uint64_t s, const IndexEntry& e) { return s < e.seq; });
    const uint64_t n = static_cast<uint64_t>(hi - lo);
    it->second.acked_records += n;
    counters_.acked_records += n;
    it->second.cursor = *cursor;
  }
  // Deletions: a prefix of the index (a concurrent quarantine may already
  // have removed some entries, so match by seq).
  for (size_t i = 0; i < plan.deleted_seqs.size(); ++i) {
    const uint64_t seq = plan.deleted_seqs[i];
    while (!index_.empty() && index_.front().seq < seq) index_.pop_front();
    if (index_.empty() || index_.front().seq != seq) continue;
    const IndexEntry e = index_.front();
    index_.pop_front();
    stored_bytes_ -= e.bytes;
    stored_spans_ -= e.spans;
    if (i < plan.trim_count) {
      ++counters_.trimmed_records;
      continue;
    }
    ++counters_.dropped_oldest_records;
    counters_.dropped_oldest_spans += e.spans;
    counters_.dropped_oldest_bytes += e.bytes;
    for (auto& [name, consumer] : consumers_) {
      if (consumer.cursor < e.seq) {
        ++consumer.dropped_records;
        consumer.dropped_spans += e.spans;
        consumer.dropped_bytes += e.bytes;
      }
    }
  }
  for (Op* op : plan.group) {
    if (op->kind == Op::Kind::kTrim) op->result = plan.trim_count;
  }
  for (Op* op : plan.appends) {
    index_.push_back({op->result, op->bytes, op->span_count});
  }
  stored_bytes_ += plan.append_bytes;
  stored_spans_ += plan.append_spans;
  counters_.appended_records += plan.appends.size();
  counters_.appended_spans += plan.append_spans;
  counters_.appended_bytes += plan.append_bytes;
  next_seq_ = plan.first_seq + plan.appends.size();
}

absl::StatusOr<std::vector<WalRecord>> RocksDbWal::ReadFrom(std::string_view consumer,
                                                            const ReadLimits& limits) {
  uint64_t start = 0;
  uint64_t end = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = consumers_.find(consumer);
    if (it == consumers_.end()) {
      return absl::NotFoundError(
          absl::StrCat("unknown WAL consumer '", std::string(consumer), "'"));
    }
    start = std::max(it->second.cursor, limits.after_seq) + 1;
    end = next_seq_;  // only records whose group has been applied
  }
  std::vector<WalRecord> out;
  if (start >= end || limits.max_records == 0) return out;

  const std::string start_key = EncodeSeqKey(start);
  const std::string end_key = EncodeSeqKey(end);
  const rocksdb::Slice upper(end_key);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper;
  std::vector<std::pair<std::string, std::string>> bad;
  std::vector<RecordError> bad_errors;
  size_t bytes = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, records_cf_));
    for (it->Seek(start_key); it->Valid(); it->Next()) {
      uint64_t seq = 0;
      RecordView view;
      RecordError error = RecordError::kBadKey;
      if (DecodeSeqKey(it->key().ToStringView(), &seq)) {
        error = DecodeRecord(it->value().ToStringView(), &view);
      }
      if (error != RecordError::kOk) {
        bad.emplace_back(it->key().ToString(), it->value().ToString());
        bad_errors.push_back(error);
        continue;
      }
      if (!out.empty() && bytes + view.payload.size() > limits.max_bytes) break;
      bytes += view.payload.size();
      out.push_back(
          WalRecord{seq, view.span_count, view.create_unix_nanos, std::string(view.payload)});
      if (out.size() >= limits.max_records) break;
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "read records"));
  }
  for (size_t i = 0; i < bad.size(); ++i) {
    RETURN_IF_ERROR(Quarantine(bad[i].first, bad[i].second, bad_errors[i]));
  }
  return out;
}

absl::Status RocksDbWal::Quarantine(std::string_view key, std::string_view value,
                                    RecordError error) {
  rocksdb::WriteBatch batch;
  batch.Put(quarantine_cf_, key, value);
  batch.Delete(records_cf_, key);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  absl::Status s = FromRocks(db_->Write(wo, &batch), "quarantine");
  uint64_t seq = 0;
  const bool seq_ok = DecodeSeqKey(key, &seq);
  {
    absl::MutexLock lock(&mu_);
    if (!s.ok()) {
      if (bg_error_.ok()) bg_error_ = s;
      return s;
    }
    ++quarantined_stored_;
    CountQuarantine(seq_ok ? seq : 0, key, value.size(), error);
    if (seq_ok) {
      auto it = std::lower_bound(index_.begin(), index_.end(), seq,
                                 [](const IndexEntry& e, uint64_t s) { return e.seq < s; });
      if (it != index_.end() && it->seq == seq) {
        stored_bytes_ -= it->bytes;
        stored_spans_ -= it->spans;
        index_.erase(it);
        space_cv_.SignalAll();
      }
    }
  }
  if (options_.reporter != nullptr) {
    options_.reporter->Corruption(seq_ok ? seq : 0, value.size(), error);
  }
  return absl::OkStatus();
}

WalStats RocksDbWal::Stats() const {
  WalStats stats;
  {
    absl::MutexLock lock(&mu_);
    stats = counters_;
    stats.records = index_.size();
    stats.spans = stored_spans_;
    stats.stored_bytes = stored_bytes_;
    stats.oldest_seq = index_.empty() ? 0 : index_.front().seq;
    stats.newest_seq = index_.empty() ? 0 : index_.back().seq;
    stats.next_seq = next_seq_;
    stats.quarantined_stored = quarantined_stored_;
    stats.consumers.clear();
    for (const auto& [name, c] : consumers_) {
      ConsumerStats cs;
      cs.name = name;
      cs.cursor = c.cursor;
      cs.acked_records = c.acked_records;
      cs.dropped_records = c.dropped_records;
      cs.dropped_spans = c.dropped_spans;
      cs.dropped_bytes = c.dropped_bytes;
      auto lo = std::upper_bound(index_.begin(), index_.end(), c.cursor,
                                 [](uint64_t s, const IndexEntry& e) { return s < e.seq; });
      for (auto it = lo; it != index_.end(); ++it) {
        ++cs.lag_records;
        cs.lag_bytes += it->bytes;
        cs.lag_spans += it->spans;
      }
      stats.consumers.push_back(std::move(cs));
    }
  }
  stats.disk_bytes = DirectoryBytes(options_.data_dir);
  return stats;
}

}  // namespace tracer::storage
