// TraceStore: the embedded trace store, the control plane's default span
// destination (DESIGN.md, "Data path": one record per batch + indexes;
// issue 4, "Embedded trace store").
//
// One RocksDB database (<data_dir>/traces). Column families:
//   "default"     batch (BE u64, assigned by the store) -> the batch's OTLP
//                 bytes as received (serialized ExportTraceServiceRequest)
//   "traces"      trace_id (16) + batch (8) -> tracer.v1.TracePart: that
//                 trace's spans in that batch (span ids, times, errors, root
//                 candidate, services; batch_summary.proto)
//   "spans"       trace_id + span_id (8) -> "": every stored span, so that a
//                 write finds spans stored before with one lookup each
//   "by_time"     last start of the part (BE u64) + trace_id + batch -> ""
//   "by_service"  service.name (<= 256 bytes) + '\0' + last start of the
//                 part's spans of that service (BE u64) + trace_id + batch -> ""
//   "meta"        "format"           -> "2" (this layout)
//                 "hwm/" + agent_id  -> BE u64 highest upload seq stored
//                 "stats"            -> BE u64 spans, BE u64 bytes
//                 "next_batch"       -> BE u64
//                 "refs/" + batch    -> BE u32 parts still naming the batch
// A span is stored at most once per (trace_id, span_id): a span stored
// before is left out of a new batch's parts (idempotent), so replaying a
// queue record is harmless. Each write is one synced WriteBatch covering the
// batch, its parts and index entries, the stats and the writer's high-water
// mark. GetTrace reads only the batches its trace's parts name and takes
// from each the spans the part lists.
//
// Retention deletes parts (oldest last start first) whose spans all started
// before max_age ago, or while the stored bytes exceed max_bytes; a batch is
// deleted with its last part. The stored bytes are accounted per part: its
// index entries plus an equal share of its batch's record.
//
// A store written by earlier versions (one record per span, no "format"
// key) is converted when opened: its spans are dropped with a warning in
// the log (the store is a cache of what was exported), its high-water marks
// are kept, so (agent_id, seq) deduplication stays exact. A "format" other
// than "2" is refused (FAILED_PRECONDITION).
#ifndef TRACER_CONTROLPLANE_STORE_TRACE_STORE_H_
#define TRACER_CONTROLPLANE_STORE_TRACE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "tracer/v1/batch_summary.pb.h"
#include "tracer/v1/control.pb.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace tracer::controlplane {

struct TraceStoreOptions {
  // RocksDB directory; created if missing. Required.
  std::string path;
  // A trace's spans of one batch are deleted by ApplyRetention once the
  // latest of their start times is older than this. Zero: no age limit.
  absl::Duration max_age = absl::Hours(24 * 7);
  // Stored bytes (keys + values, accounted per part, see above) above this
  // make ApplyRetention delete the oldest parts. Zero: no size limit.
  uint64_t max_bytes = uint64_t{10} << 30;
  // Unix time in ns. Default: absl::GetCurrentTimeNanos.
  std::function<int64_t()> now_unix_nanos;
};

struct TraceStoreStats {
  uint64_t spans = 0;          // stored spans
  uint64_t bytes = 0;          // their keys + values (per part, see above)
  uint64_t invalid_spans = 0;  // since Open: skipped (bad trace/span id)
  uint64_t retained_out = 0;   // since Open: deleted by retention
};

// Thread-safe. Writes are serialized internally; reads run concurrently.
class TraceStore {
 public:
  // Opens or creates the store. Errors: INVALID_ARGUMENT (empty path), the
  // store's errors (UNAVAILABLE when another process holds the lock).
  static absl::StatusOr<std::unique_ptr<TraceStore>> Open(TraceStoreOptions options);
  ~TraceStore();

  // Stores every span of `request` that is not stored yet and, if
  // `agent_id` is non-empty, raises that agent's high-water mark to `seq`,
  // in one synced write. Spans whose trace id is not 16 bytes or span id not
  // 8 bytes are skipped and counted (invalid_spans). Returns the number of
  // spans newly stored. Errors: the store's errors (nothing written).
  absl::StatusOr<uint32_t> Write(
      const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request,
      absl::string_view agent_id, uint64_t seq);

  // As Write, for a batch given as its serialized bytes `batch` (stored as
  // they are) and `summary`, which must be otlp::SummarizeBatch of exactly
  // that batch (the store trusts it). The batch is parsed only when some of
  // its spans are stored already (to summarize the rest).
  absl::StatusOr<uint32_t> WriteSummarized(absl::string_view batch, const v1::BatchSummary& summary,
                                           absl::string_view agent_id, uint64_t seq);

  // Every agent's high-water mark (highest seq passed to Write).
  std::map<std::string, uint64_t> HighWaterMarks() const;

  // Traces with at least one span starting at or after `since_unix_nano`
  // (and, if `service` is non-empty, one span of that service.name), newest
  // first by their newest matching span, at most `limit` (1..1000). Each
  // summary covers all stored spans of the trace: root = the span without a
  // parent (else the earliest), error_count = spans with status ERROR.
  absl::StatusOr<std::vector<v1::TraceSummary>> ListTraces(uint64_t since_unix_nano,
                                                           absl::string_view service,
                                                           uint32_t limit) const;

  // The stored spans of `trace_id` (16 bytes), grouped by resource and
  // scope, in span-id order within a group. Errors: INVALID_ARGUMENT (length),
  // NOT_FOUND (no span stored).
  absl::StatusOr<std::vector<opentelemetry::proto::trace::v1::ResourceSpans>> GetTrace(
      absl::string_view trace_id) const;

  // Deletes spans by max_age and max_bytes (see TraceStoreOptions and the
  // file comment: a trace's spans of one batch go together). Returns how
  // many spans were deleted.
  absl::StatusOr<uint64_t> ApplyRetention();

  TraceStoreStats Stats() const;

 private:
  TraceStore(TraceStoreOptions options, std::unique_ptr<rocksdb::DB> db,
             std::vector<rocksdb::ColumnFamilyHandle*> handles);
  // Converts a store of the per-span format (see the file comment) and
  // writes the format key. Called by Open before Load.
  absl::Status CheckFormat();
  absl::Status Load();
  int64_t Now() const;
  // Writes `batch` (whose parsed form is `request` when the caller has it,
  // else null) with the parts of `summary`.
  absl::StatusOr<uint32_t> WriteImpl(
      absl::string_view batch, const v1::BatchSummary& summary,
      const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest* request,
      absl::string_view agent_id, uint64_t seq);
  // The stored parts of `trace_id`, keyed by their "traces" key.
  absl::StatusOr<std::vector<std::pair<std::string, v1::TracePart>>> Parts(
      absl::string_view trace_id) const;
  // Deletes the part under by_time key `time_key` (and its other entries,
  // and its batch if no other part names it). Returns its spans.
  absl::StatusOr<uint64_t> DeleteOldest(const std::string& time_key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const TraceStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* batches_cf_;
  rocksdb::ColumnFamilyHandle* traces_cf_;
  rocksdb::ColumnFamilyHandle* by_time_cf_;
  rocksdb::ColumnFamilyHandle* by_service_cf_;
  rocksdb::ColumnFamilyHandle* meta_cf_;
  rocksdb::ColumnFamilyHandle* spans_cf_;
  uint64_t next_batch_ ABSL_GUARDED_BY(write_mu_) = 1;

  absl::Mutex write_mu_;  // serializes writers (read-check-write of spans)
  mutable absl::Mutex mu_;
  TraceStoreStats stats_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> hwm_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_STORE_TRACE_STORE_H_
