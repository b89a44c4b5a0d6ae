#include "controlplane/store/trace_store.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "glog/logging.h"
#include "otlp/batch_summary.h"
#include "otlp/parse_counter.h"
#include "otlp/trace_extract.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/write_batch.h"

namespace tracer::controlplane {
namespace {

using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using opentelemetry::proto::trace::v1::ResourceSpans;
using opentelemetry::proto::trace::v1::Span;

constexpr size_t kTraceIdBytes = otlp::kTraceIdBytes;
constexpr size_t kSpanIdBytes = otlp::kSpanIdBytes;
constexpr size_t kBatchKeyBytes = 8;
constexpr size_t kPartKeyBytes = kTraceIdBytes + kBatchKeyBytes;
constexpr char kStatsKey[] = "stats";
constexpr char kHwmPrefix[] = "hwm/";
constexpr char kFormatKey[] = "format";
constexpr char kFormat[] = "2";
constexpr char kNextBatchKey[] = "next_batch";
constexpr char kRefsPrefix[] = "refs/";
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
void PutBe32(std::string* out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetBe(absl::string_view s, size_t bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes && i < s.size(); ++i) {
    v = (v << 8) | static_cast<unsigned char>(s[i]);
  }
  return v;
}
uint64_t GetBe64(absl::string_view s) { return GetBe(s, 8); }

std::string BatchKey(uint64_t batch) {
  std::string key;
  PutBe64(&key, batch);
  return key;
}

std::string RefsKey(absl::string_view batch_key) { return absl::StrCat(kRefsPrefix, batch_key); }

std::string TimeKey(uint64_t start, absl::string_view part_key) {
  std::string key;
  PutBe64(&key, start);
  key.append(part_key.data(), part_key.size());
  return key;
}

std::string ServiceKey(absl::string_view service, uint64_t start, absl::string_view part_key) {
  std::string key(service.data(), service.size());
  key.push_back('\0');
  PutBe64(&key, start);
  key.append(part_key.data(), part_key.size());
  return key;
}

std::string StatsValue(const TraceStoreStats& stats) {
  std::string v;
  PutBe64(&v, stats.spans);
  PutBe64(&v, stats.bytes);
  return v;
}

uint64_t SpansOf(const v1::TracePart& part) { return part.span_ids().size() / kSpanIdBytes; }

}  // namespace

TraceStore::TraceStore(TraceStoreOptions options, std::unique_ptr<rocksdb::DB> db,
                       std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : options_(std::move(options)),
      db_(std::move(db)),
      handles_(std::move(handles)),
      batches_cf_(handles_[0]),
      traces_cf_(handles_[1]),
      by_time_cf_(handles_[2]),
      by_service_cf_(handles_[3]),
      meta_cf_(handles_[4]),
      spans_cf_(handles_[5]) {}

TraceStore::~TraceStore() {
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    db_->DestroyColumnFamilyHandle(h);
  }
  db_->Close();
}

absl::StatusOr<std::unique_ptr<TraceStore>> TraceStore::Open(TraceStoreOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("trace store path is empty");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot create ", options.path, ": ", ec.message()));
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"traces", rocksdb::ColumnFamilyOptions()},
      {"by_time", rocksdb::ColumnFamilyOptions()},
      {"by_service", rocksdb::ColumnFamilyOptions()},
      {"meta", rocksdb::ColumnFamilyOptions()},
      {"spans", rocksdb::ColumnFamilyOptions()},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, cfs, &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("open ", options.path));
  std::unique_ptr<TraceStore> store(
      new TraceStore(std::move(options), std::unique_ptr<rocksdb::DB>(raw), std::move(handles)));
  RETURN_IF_ERROR(store->CheckFormat());
  RETURN_IF_ERROR(store->Load());
  return store;
}

absl::Status TraceStore::CheckFormat() {
  std::string format;
  rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), meta_cf_, kFormatKey, &format);
  if (got.ok()) {
    if (format == kFormat) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat("trace store ", options_.path, ": format \"",
                                                      format,
                                                      "\" is not supported (this version "
                                                      "reads format ",
                                                      kFormat, ")"));
  }
  if (!got.IsNotFound()) return FromRocks(got, "read store format");
  // No format key: a new store, or one of the per-span format (spans under
  // trace_id + span_id in "default"). Drop the old spans and indexes, keep
  // the high-water marks.
  bool old_format = false;
  rocksdb::WriteBatch batch;
  for (rocksdb::ColumnFamilyHandle* cf : {batches_cf_, by_time_cf_, by_service_cf_}) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
    it->SeekToFirst();
    if (it->Valid()) {
      const std::string first = it->key().ToString();
      it->SeekToLast();
      const std::string last = it->key().ToString();
      batch.DeleteRange(cf, first, last);
      batch.Delete(cf, last);
      old_format = true;
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "read old store"));
  }
  if (old_format) {
    std::string stats;
    const rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), meta_cf_, kStatsKey, &stats);
    LOG(WARNING) << "trace store " << options_.path << " is in the per-span format of earlier "
                 << "versions; its " << (got.ok() ? GetBe64(stats) : 0)
                 << " spans are dropped (the store is a cache of exported spans), the agents' "
                    "high-water marks are kept";
  }
  batch.Delete(meta_cf_, kStatsKey);
  batch.Put(meta_cf_, kFormatKey, kFormat);
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  return FromRocks(db_->Write(write_options, &batch), "write store format");
}

absl::Status TraceStore::Load() {
  absl::MutexLock write_lock(&write_mu_);
  absl::MutexLock lock(&mu_);
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kStatsKey, &value);
  if (s.ok()) {
    if (value.size() != 16) {
      return absl::DataLossError("trace store: malformed stats value");
    }
    stats_.spans = GetBe64(value);
    stats_.bytes = GetBe64(absl::string_view(value).substr(8));
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read stats");
  }
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, kNextBatchKey, &value);
  if (s.ok()) {
    next_batch_ = GetBe64(value);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "read next batch");
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), meta_cf_));
  for (it->Seek(kHwmPrefix); it->Valid() && it->key().starts_with(kHwmPrefix); it->Next()) {
    std::string agent = it->key().ToString().substr(sizeof(kHwmPrefix) - 1);
    hwm_[agent] = GetBe64(absl::string_view(it->value().data(), it->value().size()));
  }
  return FromRocks(it->status(), "read high-water marks");
}

int64_t TraceStore::Now() const {
  return options_.now_unix_nanos ? options_.now_unix_nanos() : absl::GetCurrentTimeNanos();
}

absl::StatusOr<uint32_t> TraceStore::Write(const ExportTraceServiceRequest& request,
                                           absl::string_view agent_id, uint64_t seq) {
  return WriteImpl(request.SerializeAsString(), otlp::SummarizeBatch(request), &request, agent_id,
                   seq);
}

absl::StatusOr<uint32_t> TraceStore::WriteSummarized(absl::string_view batch,
                                                     const v1::BatchSummary& summary,
                                                     absl::string_view agent_id, uint64_t seq) {
  return WriteImpl(batch, summary, nullptr, agent_id, seq);
}

absl::StatusOr<std::vector<std::pair<std::string, v1::TracePart>>> TraceStore::Parts(
    absl::string_view trace_id) const {
  std::vector<std::pair<std::string, v1::TracePart>> parts;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), traces_cf_));
  const rocksdb::Slice prefix(trace_id.data(), trace_id.size());
  size_t spans = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) && spans < kMaxSpansPerTrace;
       it->Next()) {
    v1::TracePart part;
    if (it->key().size() != kPartKeyBytes ||
        !part.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      LOG(ERROR) << "trace store: unreadable trace index entry skipped";
      continue;
    }
    spans += SpansOf(part);
    parts.emplace_back(it->key().ToString(), std::move(part));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "read trace index"));
  return parts;
}

absl::StatusOr<uint32_t> TraceStore::WriteImpl(absl::string_view batch,
                                               const v1::BatchSummary& summary,
                                               const ExportTraceServiceRequest* request,
                                               absl::string_view agent_id, uint64_t seq) {
  absl::MutexLock write_lock(&write_mu_);
  TraceStoreStats stats;
  uint64_t old_hwm = 0;
  {
    absl::MutexLock lock(&mu_);
    stats = stats_;
    auto it = hwm_.find(std::string(agent_id));
    if (it != hwm_.end()) old_hwm = it->second;
  }
  // Spans stored before, per trace of this batch: left out (idempotent).
  // One point lookup per span in "spans", whatever the length of its trace.
  std::map<std::string, std::set<std::string>> stored_before;
  {
    std::vector<std::string> keys;
    for (const v1::TracePart& part : summary.traces()) {
      for (size_t i = 0; i + kSpanIdBytes <= part.span_ids().size(); i += kSpanIdBytes) {
        keys.push_back(part.trace_id() + part.span_ids().substr(i, kSpanIdBytes));
      }
    }
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<std::string> values;
    const std::vector<rocksdb::Status> got = db_->MultiGet(
        rocksdb::ReadOptions(), std::vector<rocksdb::ColumnFamilyHandle*>(keys.size(), spans_cf_),
        slices, &values);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (got[i].IsNotFound()) continue;
      RETURN_IF_ERROR(FromRocks(got[i], "read span index"));
      stored_before[keys[i].substr(0, kTraceIdBytes)].insert(keys[i].substr(kTraceIdBytes));
    }
  }
  v1::BatchSummary fresh;
  const v1::BatchSummary* parts = &summary;
  if (!stored_before.empty()) {
    // Some spans are stored already: summarize the rest from the batch.
    ExportTraceServiceRequest parsed;
    if (request == nullptr) {
      if (!otlp::ParseExportRequest(batch, &parsed, otlp::ParseSite::kStore)) {
        return absl::InvalidArgumentError("trace store: batch is not an ExportTraceServiceRequest");
      }
      request = &parsed;
    }
    fresh = otlp::SummarizeBatch(*request, [&](absl::string_view trace, absl::string_view span) {
      auto it = stored_before.find(std::string(trace));
      return it != stored_before.end() && it->second.count(std::string(span)) > 0;
    });
    parts = &fresh;
  }

  rocksdb::WriteBatch write;
  uint32_t stored = 0;
  if (parts->traces_size() > 0) {
    const uint64_t batch_no = next_batch_;
    const std::string batch_key = BatchKey(batch_no);
    const std::string refs_key = RefsKey(batch_key);
    std::string refs;
    PutBe32(&refs, static_cast<uint32_t>(parts->traces_size()));
    std::string next;
    PutBe64(&next, batch_no + 1);
    write.Put(batches_cf_, batch_key, rocksdb::Slice(batch.data(), batch.size()));
    write.Put(meta_cf_, refs_key, refs);
    write.Put(meta_cf_, kNextBatchKey, next);
    // The batch record's bytes, shared equally by its parts (the first takes
    // the remainder) so that deleting every part gives back exactly them.
    const uint64_t shared = batch_key.size() + batch.size() + refs_key.size() + refs.size();
    const uint64_t n = static_cast<uint64_t>(parts->traces_size());
    for (int i = 0; i < parts->traces_size(); ++i) {
      v1::TracePart part = parts->traces(i);
      const std::string key = part.trace_id() + batch_key;
      const std::string time_key = TimeKey(part.last_start_unix_nano(), key);
      uint64_t bytes = key.size() + time_key.size() + shared / n + (i == 0 ? shared % n : 0);
      for (size_t s = 0; s + kSpanIdBytes <= part.span_ids().size(); s += kSpanIdBytes) {
        const std::string span_key = part.trace_id() + part.span_ids().substr(s, kSpanIdBytes);
        bytes += span_key.size();
        write.Put(spans_cf_, span_key, "");
      }
      for (const v1::TracePart::Service& service : part.services()) {
        const std::string service_key =
            ServiceKey(service.name(), service.last_start_unix_nano(), key);
        bytes += service_key.size();
        write.Put(by_service_cf_, service_key, "");
      }
      part.set_stored_bytes(0);  // fixed64: the value's size does not depend on it
      bytes += part.ByteSizeLong();
      part.set_stored_bytes(bytes);
      write.Put(traces_cf_, key, part.SerializeAsString());
      write.Put(by_time_cf_, time_key, "");
      stats.spans += SpansOf(part);
      stats.bytes += bytes;
      stored += static_cast<uint32_t>(SpansOf(part));
    }
  }
  write.Put(meta_cf_, kStatsKey, StatsValue(stats));
  const bool raise_hwm = !agent_id.empty() && seq > old_hwm;
  if (raise_hwm) {
    std::string v;
    PutBe64(&v, seq);
    write.Put(meta_cf_, absl::StrCat(kHwmPrefix, agent_id), v);
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  RETURN_IF_ERROR(FromRocks(db_->Write(write_options, &write), "write spans"));
  if (parts->traces_size() > 0) ++next_batch_;
  absl::MutexLock lock(&mu_);
  stats_.spans = stats.spans;
  stats_.bytes = stats.bytes;
  stats_.invalid_spans += summary.invalid_spans();
  if (raise_hwm) hwm_[std::string(agent_id)] = seq;
  return stored;
}

std::map<std::string, uint64_t> TraceStore::HighWaterMarks() const {
  absl::MutexLock lock(&mu_);
  return hwm_;
}

absl::StatusOr<std::vector<v1::TraceSummary>> TraceStore::ListTraces(uint64_t since_unix_nano,
                                                                     absl::string_view service,
                                                                     uint32_t limit) const {
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
    prefix = std::string(service.substr(0, otlp::kMaxServiceNameBytes));
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
    if (key.size() != 8 + kPartKeyBytes) continue;
    if (GetBe64(key) < since_unix_nano) break;
    std::string trace_id(key.substr(8, kTraceIdBytes));
    if (seen.insert(trace_id).second) trace_ids.push_back(trace_id);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "list traces"));

  std::vector<v1::TraceSummary> out;
  for (const std::string& trace_id : trace_ids) {
    ASSIGN_OR_RETURN(auto parts, Parts(trace_id));
    v1::TraceSummary summary;
    summary.set_trace_id(trace_id);
    bool have_root = false;
    uint64_t root_start = UINT64_MAX;
    uint64_t count = 0;
    for (const auto& [key, part] : parts) {
      if (SpansOf(part) == 0) continue;
      count += SpansOf(part);
      summary.set_error_count(summary.error_count() + part.error_count());
      if (summary.start_unix_nano() == 0 || part.start_unix_nano() < summary.start_unix_nano()) {
        summary.set_start_unix_nano(part.start_unix_nano());
      }
      summary.set_end_unix_nano(std::max<uint64_t>(summary.end_unix_nano(), part.end_unix_nano()));
      const bool is_root = part.root_is_parentless();
      if ((is_root && !have_root) ||
          (is_root == have_root && part.root_start_unix_nano() < root_start)) {
        have_root = is_root;
        root_start = part.root_start_unix_nano();
        summary.set_root_name(part.root_name());
        summary.set_root_service(part.root_service());
      }
    }
    summary.set_span_count(static_cast<uint32_t>(count));
    if (count > 0) out.push_back(std::move(summary));
  }
  return out;
}

absl::StatusOr<std::vector<ResourceSpans>> TraceStore::GetTrace(absl::string_view trace_id) const {
  if (trace_id.size() != kTraceIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("trace_id: must be 16 bytes, got ", trace_id.size()));
  }
  ASSIGN_OR_RETURN(auto parts, Parts(trace_id));
  // The trace's spans, from the batches its parts name: each part's own
  // span ids only (a span stored in an earlier batch is not taken twice).
  // Only those spans are parsed (trace_extract.h); one parse per batch read.
  std::vector<ResourceSpans> extracted;
  std::set<std::string> taken;
  for (const auto& [key, part] : parts) {
    std::set<std::string> wanted;
    for (size_t i = 0; i + kSpanIdBytes <= part.span_ids().size(); i += kSpanIdBytes) {
      wanted.insert(part.span_ids().substr(i, kSpanIdBytes));
    }
    rocksdb::PinnableSlice bytes;  // the batch, read without a copy
    rocksdb::Status got =
        db_->Get(rocksdb::ReadOptions(), batches_cf_,
                 rocksdb::Slice(key.data() + kTraceIdBytes, kBatchKeyBytes), &bytes);
    if (got.IsNotFound()) {
      LOG(ERROR) << "trace store: a trace index entry names a missing batch; skipped";
      continue;
    }
    RETURN_IF_ERROR(FromRocks(got, "read batch"));
    otlp::CountParse(otlp::ParseSite::kQuery);
    absl::StatusOr<std::vector<ResourceSpans>> spans = otlp::ExtractTraceSpans(
        absl::string_view(bytes.data(), bytes.size()), trace_id, [&](absl::string_view span_id) {
          const std::string id(span_id);
          return wanted.count(id) > 0 && taken.insert(id).second;
        });
    if (!spans.ok()) {
      LOG(ERROR) << "trace store: unreadable batch skipped: " << spans.status();
      continue;
    }
    for (ResourceSpans& rs : *spans) extracted.push_back(std::move(rs));
  }
  // Grouped by resource and scope (each extracted ResourceSpans holds one
  // scope), groups in span-id order of their first span, spans in span-id
  // order within a group.
  std::vector<size_t> group_of(extracted.size());
  std::vector<ResourceSpans> out;
  {
    std::map<std::string, size_t> group_index;
    std::vector<std::pair<std::string, size_t>> first;  // (smallest span id, extracted index)
    for (size_t i = 0; i < extracted.size(); ++i) {
      const auto& spans = extracted[i].scope_spans(0).spans();
      first.emplace_back(
          std::min_element(spans.begin(), spans.end(),
                           [](const Span& a, const Span& b) { return a.span_id() < b.span_id(); })
              ->span_id(),
          i);
    }
    std::sort(first.begin(), first.end());
    for (const auto& [span_id, i] : first) {
      ResourceSpans& rs = extracted[i];
      std::string group =
          rs.resource().SerializeAsString() + '\0' + rs.scope_spans(0).scope().SerializeAsString();
      auto [pos, inserted] = group_index.emplace(std::move(group), out.size());
      group_of[i] = pos->second;
      if (!inserted) continue;
      ResourceSpans& group_rs = out.emplace_back();
      group_rs.mutable_resource()->Swap(rs.mutable_resource());
      group_rs.set_schema_url(rs.schema_url());
      auto* scope = group_rs.add_scope_spans();
      scope->mutable_scope()->Swap(rs.mutable_scope_spans(0)->mutable_scope());
      scope->set_schema_url(rs.scope_spans(0).schema_url());
    }
  }
  for (size_t i = 0; i < extracted.size(); ++i) {
    auto* to = out[group_of[i]].mutable_scope_spans(0)->mutable_spans();
    for (Span& span : *extracted[i].mutable_scope_spans(0)->mutable_spans()) {
      to->Add()->Swap(&span);
    }
  }
  for (ResourceSpans& rs : out) {
    auto* spans = rs.mutable_scope_spans(0)->mutable_spans();
    std::sort(spans->pointer_begin(), spans->pointer_end(),
              [](const Span* a, const Span* b) { return a->span_id() < b->span_id(); });
  }
  if (out.empty()) return absl::NotFoundError("no spans stored for this trace");
  return out;
}

absl::StatusOr<uint64_t> TraceStore::DeleteOldest(const std::string& time_key) {
  const std::string part_key = time_key.substr(8);
  rocksdb::WriteBatch batch;
  batch.Delete(by_time_cf_, time_key);
  std::string value;
  rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), traces_cf_, part_key, &value);
  if (!got.ok() && !got.IsNotFound()) return FromRocks(got, "read trace index");
  v1::TracePart part;
  const bool found = got.ok() && part.ParseFromString(value);
  TraceStoreStats stats;
  {
    absl::MutexLock lock(&mu_);
    stats = stats_;
  }
  if (found) {
    batch.Delete(traces_cf_, part_key);
    for (size_t i = 0; i + kSpanIdBytes <= part.span_ids().size(); i += kSpanIdBytes) {
      batch.Delete(spans_cf_, part.trace_id() + part.span_ids().substr(i, kSpanIdBytes));
    }
    for (const v1::TracePart::Service& service : part.services()) {
      batch.Delete(by_service_cf_,
                   ServiceKey(service.name(), service.last_start_unix_nano(), part_key));
    }
    const std::string batch_key = part_key.substr(kTraceIdBytes);
    const std::string refs_key = RefsKey(batch_key);
    std::string refs;
    got = db_->Get(rocksdb::ReadOptions(), meta_cf_, refs_key, &refs);
    if (!got.ok() && !got.IsNotFound()) return FromRocks(got, "read batch references");
    const uint64_t left = got.ok() ? GetBe(refs, 4) : 0;
    if (left <= 1) {
      batch.Delete(batches_cf_, batch_key);
      batch.Delete(meta_cf_, refs_key);
    } else {
      std::string v;
      PutBe32(&v, static_cast<uint32_t>(left - 1));
      batch.Put(meta_cf_, refs_key, v);
    }
    stats.spans -= std::min<uint64_t>(stats.spans, SpansOf(part));
    stats.bytes -= std::min<uint64_t>(stats.bytes, part.stored_bytes());
  } else if (got.ok()) {
    batch.Delete(traces_cf_, part_key);
    LOG(ERROR) << "trace store: unreadable trace index entry deleted";
  }
  batch.Put(meta_cf_, kStatsKey, StatsValue(stats));
  RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch), "delete spans"));
  absl::MutexLock lock(&mu_);
  stats_.spans = stats.spans;
  stats_.bytes = stats.bytes;
  const uint64_t spans = found ? SpansOf(part) : 0;
  stats_.retained_out += spans;
  return spans;
}

absl::StatusOr<uint64_t> TraceStore::ApplyRetention() {
  absl::MutexLock write_lock(&write_mu_);
  const int64_t now = Now();
  const uint64_t cutoff = options_.max_age == absl::ZeroDuration()
                              ? 0
                              : static_cast<uint64_t>(std::max<int64_t>(
                                    0, now - absl::ToInt64Nanoseconds(options_.max_age)));
  uint64_t deleted = 0;
  bool any = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), by_time_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    bool too_big;
    {
      absl::MutexLock lock(&mu_);
      too_big = options_.max_bytes != 0 && stats_.bytes > options_.max_bytes;
    }
    if (GetBe64(key) >= cutoff && !too_big) break;
    ASSIGN_OR_RETURN(uint64_t spans, DeleteOldest(key));
    deleted += spans;
    any = true;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "retention"));
  if (any) {
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
