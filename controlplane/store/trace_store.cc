#include "controlplane/store/trace_store.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "glog/logging.h"
#include "otlp/parse_counter.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/write_batch.h"

namespace tracer::controlplane {
namespace {

using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using opentelemetry::proto::trace::v1::ResourceSpans;
using opentelemetry::proto::trace::v1::Span;
using opentelemetry::proto::trace::v1::Status;

constexpr size_t kTraceIdBytes = 16;
constexpr size_t kSpanIdBytes = 8;
constexpr size_t kMaxServiceBytes = 256;
constexpr char kStatsKey[] = "stats";
constexpr char kHwmPrefix[] = "hwm/";
// Bound on spans read for one trace (summary or GetTrace).
constexpr size_t kMaxSpansPerTrace = 100000;

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(what, ": ", s.ToString());
  if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(msg);
  }
  if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    return absl::UnavailableError(msg);
  }
  if (s.IsCorruption()) return absl::DataLossError(msg);
  return absl::InternalError(msg);
}

void PutBe64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetBe64(absl::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(s[i]);
  }
  return v;
}

std::string ServiceName(const ResourceSpans& rs) {
  for (const auto& attr : rs.resource().attributes()) {
    if (attr.key() == "service.name" && attr.value().has_string_value()) {
      std::string name = attr.value().string_value().substr(0, kMaxServiceBytes);
      std::replace(name.begin(), name.end(), '\0', '?');
      return name;
    }
  }
  return "unknown_service";
}

std::string TimeKey(uint64_t start, absl::string_view span_key) {
  std::string key;
  PutBe64(&key, start);
  key.append(span_key.data(), span_key.size());
  return key;
}

std::string ServiceKey(absl::string_view service, uint64_t start,
                       absl::string_view span_key) {
  std::string key(service.data(), service.size());
  key.push_back('\0');
  PutBe64(&key, start);
  key.append(span_key.data(), span_key.size());
  return key;
}

std::string StatsValue(const TraceStoreStats& stats) {
  std::string v;
  PutBe64(&v, stats.spans);
  PutBe64(&v, stats.bytes);
  return v;
}

}  // namespace

TraceStore::TraceStore(TraceStoreOptions options,
                       std::unique_ptr<rocksdb::DB> db,
                       std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : options_(std::move(options)),
      db_(std::move(db)),
      handles_(std::move(handles)),
      spans_cf_(handles_[0]),
      by_time_cf_(handles_[1]),
      by_service_cf_(handles_[2]),
      meta_cf_(handles_[3]) {}

TraceStore::~TraceStore() {
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h);
  }
  db_->Close();
}

absl::StatusOr<std::unique_ptr<TraceStore>> TraceStore::Open(
    TraceStoreOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("trace store path is empty");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", options.path, ": ", ec.message()));
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"by_time", rocksdb::ColumnFamilyOptions()},
      {"by_service", rocksdb::ColumnFamilyOptions()},
      {"meta", rocksdb::ColumnFamilyOptions()},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options.path, cfs, &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("open ", options.path));
  std::unique_ptr<TraceStore> store(new TraceStore(
      std::move(options), std::unique_ptr<rocksdb::DB>(raw), std::move(handles)));
  if (absl::Status load = store->Load(); !load.ok()) return load;
  return store;
}

absl::Status TraceStore::Load() {
  absl::MutexLock lock(&mu_);
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), meta_cf_, kStatsKey, &value);
  if (s.ok()) {
    if (value.size() != 16) {
      return absl::DataLossError("trace store: malformed stats value");
    }
    stats_.spans = GetBe64(value);
    stats_.bytes = GetBe64(absl::string_view(value).substr(8));
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read stats");
  }
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  for (it->Seek(kHwmPrefix); it->Valid() && it->key().starts_with(kHwmPrefix);
       it->Next()) {
    std::string agent = it->key().ToString().substr(sizeof(kHwmPrefix) - 1);
    hwm_[agent] = GetBe64(absl::string_view(it->value().data(), it->value().size()));
  }
  return FromRocks(it->status(), "read high-water marks");
}

int64_t TraceStore::Now() const {
  return options_.now_unix_nanos ? options_.now_unix_nanos()
                                 : absl::GetCurrentTimeNanos();
}

absl::StatusOr<uint32_t> TraceStore::Write(
    const ExportTraceServiceRequest& request, absl::string_view agent_id,
    uint64_t seq) {
  absl::MutexLock write_lock(&write_mu_);
  TraceStoreStats stats;
  uint64_t old_hwm = 0;
  {
    absl::MutexLock lock(&mu_);
    stats = stats_;
    auto it = hwm_.find(std::string(agent_id));
    if (it != hwm_.end()) old_hwm = it->second;
  }
  rocksdb::WriteBatch batch;
  std::set<std::string> in_batch;
  uint32_t stored = 0;
  uint64_t invalid = 0;
  for (const ResourceSpans& rs : request.resource_spans()) {
    const std::string service = ServiceName(rs);
    for (const auto& scope_spans : rs.scope_spans()) {
      for (const Span& span : scope_spans.spans()) {
        if (span.trace_id().size() != kTraceIdBytes ||
            span.span_id().size() != kSpanIdBytes) {
          ++invalid;
          continue;
        }
        std::string key = span.trace_id() + span.span_id();
        if (!in_batch.insert(key).second) continue;
        std::string existing;
        rocksdb::Status got =
            db_->Get(rocksdb::ReadOptions(), spans_cf_, key, &existing);
        if (got.ok()) continue;  // stored before: idempotent
        if (!got.IsNotFound()) return FromRocks(got, "read span");
        ResourceSpans one;
        *one.mutable_resource() = rs.resource();
        one.set_schema_url(rs.schema_url());
        auto* out_scope = one.add_scope_spans();
        *out_scope->mutable_scope() = scope_spans.scope();
        out_scope->set_schema_url(scope_spans.schema_url());
        *out_scope->add_spans() = span;
        std::string value = one.SerializeAsString();
        const uint64_t start = span.start_time_unix_nano();
        const std::string time_key = TimeKey(start, key);
        const std::string service_key = ServiceKey(service, start, key);
        batch.Put(spans_cf_, key, value);
        batch.Put(by_time_cf_, time_key, "");
        batch.Put(by_service_cf_, service_key, "");
        stats.spans += 1;
        stats.bytes += key.size() + value.size() + time_key.size() +
                       service_key.size();
        ++stored;
      }
    }
  }
  batch.Put(meta_cf_, kStatsKey, StatsValue(stats));
  const bool raise_hwm = !agent_id.empty() && seq > old_hwm;
  if (raise_hwm) {
    std::string v;
    PutBe64(&v, seq);
    batch.Put(meta_cf_, absl::StrCat(kHwmPrefix, agent_id), v);
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  if (absl::Status s = FromRocks(db_->Write(write_options, &batch), "write spans");
      !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&mu_);
  stats_.spans = stats.spans;
  stats_.bytes = stats.bytes;
  stats_.invalid_spans += invalid;
  if (raise_hwm) hwm_[std::string(agent_id)] = seq;
  return stored;
}

std::map<std::string, uint64_t> TraceStore::HighWaterMarks() const {
  absl::MutexLock lock(&mu_);
  return hwm_;
}

absl::StatusOr<std::vector<v1::TraceSummary>> TraceStore::ListTraces(
    uint64_t since_unix_nano, absl::string_view service, uint32_t limit) const {
  if (limit == 0 || limit > 1000) {
    return absl::InvalidArgumentError("limit: must be in 1..1000");
  }
  // Newest first: walk the index backwards down to `since`.
  std::vector<std::string> trace_ids;
  std::set<std::string> seen;
  rocksdb::ReadOptions read_options;
  std::unique_ptr<rocksdb::Iterator> it;
  std::string prefix;
  if (service.empty()) {
    it.reset(db_->NewIterator(read_options, by_time_cf_));
    it->SeekToLast();
  } else {
    it.reset(db_->NewIterator(read_options, by_service_cf_));
    prefix = std::string(service.substr(0, kMaxServiceBytes));
    prefix.push_back('\0');
    std::string upper = prefix;
    upper.back() = '\x01';
    it->SeekForPrev(upper);
  }
  for (; it->Valid() && trace_ids.size() < limit; it->Prev()) {
    absl::string_view key(it->key().data(), it->key().size());
    if (!prefix.empty()) {
      if (!absl::StartsWith(key, prefix)) break;
      key.remove_prefix(prefix.size());
    }
    if (key.size() != 8 + kTraceIdBytes + kSpanIdBytes) continue;
    if (GetBe64(key) < since_unix_nano) break;
    std::string trace_id(key.substr(8, kTraceIdBytes));
    if (seen.insert(trace_id).second) trace_ids.push_back(trace_id);
  }
  if (absl::Status s = FromRocks(it->status(), "list traces"); !s.ok()) return s;

  std::vector<v1::TraceSummary> out;
  for (const std::string& trace_id : trace_ids) {
    v1::TraceSummary summary;
    summary.set_trace_id(trace_id);
    std::unique_ptr<rocksdb::Iterator> spans(
        db_->NewIterator(read_options, spans_cf_));
    bool have_root = false;
    uint64_t root_start = UINT64_MAX;
    uint32_t count = 0;
    for (spans->Seek(trace_id);
         spans->Valid() && spans->key().starts_with(trace_id) &&
         count < kMaxSpansPerTrace;
         spans->Next()) {
      ResourceSpans rs;
      otlp::CountParse(otlp::ParseSite::kQuery);
      if (!rs.ParseFromArray(spans->value().data(),
                             static_cast<int>(spans->value().size())) ||
          rs.scope_spans_size() != 1 || rs.scope_spans(0).spans_size() != 1) {
        continue;
      }
      const Span& span = rs.scope_spans(0).spans(0);
      ++count;
      if (span.status().code() == Status::STATUS_CODE_ERROR) {
        summary.set_error_count(summary.error_count() + 1);
      }
      if (summary.start_unix_nano() == 0 ||
          span.start_time_unix_nano() < summary.start_unix_nano()) {
        summary.set_start_unix_nano(span.start_time_unix_nano());
      }
      summary.set_end_unix_nano(
          std::max<uint64_t>(summary.end_unix_nano(), span.end_time_unix_nano()));
      const bool is_root = span.parent_span_id().empty();
      if ((is_root && !have_root) ||
          (is_root == have_root && span.start_time_unix_nano() < root_start)) {
        have_root = is_root;
        root_start = span.start_time_unix_nano();
        summary.set_root_name(span.name());
        summary.set_root_service(ServiceName(rs));
      }
    }
    if (absl::Status s = FromRocks(spans->status(), "read trace"); !s.ok()) {
      return s;
    }
    summary.set_span_count(count);
    if (count > 0) out.push_back(std::move(summary));
  }
  return out;
}

absl::StatusOr<std::vector<ResourceSpans>> TraceStore::GetTrace(
    absl::string_view trace_id) const {
  if (trace_id.size() != kTraceIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("trace_id: must be 16 bytes, got ", trace_id.size()));
  }
  std::vector<ResourceSpans> out;
  // Groups spans sharing the serialized resource + scope.
  std::map<std::string, size_t> group_index;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), spans_cf_));
  const rocksdb::Slice prefix(trace_id.data(), trace_id.size());
  size_t count = 0;
  for (it->Seek(prefix);
       it->Valid() && it->key().starts_with(prefix) && count < kMaxSpansPerTrace;
       it->Next()) {
    ResourceSpans rs;
    otlp::CountParse(otlp::ParseSite::kQuery);
    if (!rs.ParseFromArray(it->value().data(),
                           static_cast<int>(it->value().size())) ||
        rs.scope_spans_size() != 1 || rs.scope_spans(0).spans_size() != 1) {
      LOG(ERROR) << "trace store: unreadable span value skipped";
      continue;
    }
    ++count;
    std::string group = rs.resource().SerializeAsString() + '\0' +
                        rs.scope_spans(0).scope().SerializeAsString();
    auto [pos, inserted] = group_index.emplace(group, out.size());
    if (inserted) {
      out.push_back(std::move(rs));
    } else {
      *out[pos->second].mutable_scope_spans(0)->add_spans() =
          rs.scope_spans(0).spans(0);
    }
  }
  if (absl::Status s = FromRocks(it->status(), "read trace"); !s.ok()) return s;
  if (out.empty()) return absl::NotFoundError("no spans stored for this trace");
  return out;
}

absl::Status TraceStore::DeleteOldest(const std::string& time_key) {
  const std::string span_key = time_key.substr(8);
  const uint64_t start = GetBe64(time_key);
  rocksdb::WriteBatch batch;
  std::string value;
  rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), spans_cf_, span_key, &value);
  if (!got.ok() && !got.IsNotFound()) return FromRocks(got, "read span");
  TraceStoreStats stats;
  {
    absl::MutexLock lock(&mu_);
    stats = stats_;
  }
  batch.Delete(by_time_cf_, time_key);
  uint64_t freed = time_key.size();
  if (got.ok()) {
    ResourceSpans rs;
    rs.ParseFromString(value);
    const std::string service_key = ServiceKey(ServiceName(rs), start, span_key);
    batch.Delete(by_service_cf_, service_key);
    batch.Delete(spans_cf_, span_key);
    freed += span_key.size() + value.size() + service_key.size();
    stats.spans -= std::min<uint64_t>(stats.spans, 1);
  }
  stats.bytes -= std::min(stats.bytes, freed);
  batch.Put(meta_cf_, kStatsKey, StatsValue(stats));
  if (absl::Status s = FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                                 "delete span");
      !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&mu_);
  stats_.spans = stats.spans;
  stats_.bytes = stats.bytes;
  if (got.ok()) ++stats_.retained_out;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> TraceStore::ApplyRetention() {
  absl::MutexLock write_lock(&write_mu_);
  const int64_t now = Now();
  const uint64_t cutoff =
      options_.max_age == absl::ZeroDuration()
          ? 0
          : static_cast<uint64_t>(std::max<int64_t>(
                0, now - absl::ToInt64Nanoseconds(options_.max_age)));
  uint64_t deleted = 0;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), by_time_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    bool too_big;
    {
      absl::MutexLock lock(&mu_);
      too_big = options_.max_bytes != 0 && stats_.bytes > options_.max_bytes;
    }
    if (GetBe64(key) >= cutoff && !too_big) break;
    if (absl::Status s = DeleteOldest(key); !s.ok()) return s;
    ++deleted;
  }
  if (absl::Status s = FromRocks(it->status(), "retention"); !s.ok()) return s;
  if (deleted > 0) {
    rocksdb::FlushOptions flush;
    db_->Flush(flush, handles_);
  }
  return deleted;
}

TraceStoreStats TraceStore::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace tracer::controlplane
