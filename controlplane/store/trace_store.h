// TraceStore: the embedded trace store, the control plane's default span
// destination (DESIGN.md, "Data path"; issue 4, "Embedded trace store").
//
// One RocksDB database (<data_dir>/traces). Column families:
//   "default"     trace_id (16) + span_id (8) -> serialized OTLP ResourceSpans
//                 holding the span's resource, its scope and the one span
//   "by_time"     start_unix_nano (BE u64) + trace_id + span_id -> ""
//   "by_service"  service.name (<= 256 bytes) + '\0' + start (BE u64)
//                 + trace_id + span_id -> ""
//   "meta"        "hwm/" + agent_id -> BE u64 highest upload seq stored
//                 "stats"           -> BE u64 spans, BE u64 bytes
// A span is stored at most once per (trace_id, span_id): writing it again
// changes nothing (idempotent), so replaying a queue record is harmless.
// Each Write is one synced WriteBatch covering the spans, their index
// entries, the stats and the writer's high-water mark.
//
// Retention deletes spans (oldest start time first) older than max_age or
// while the stored bytes exceed max_bytes.
#ifndef TRACER_CONTROLPLANE_STORE_TRACE_STORE_H_
#define TRACER_CONTROLPLANE_STORE_TRACE_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "tracer/v1/control.pb.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
}  // namespace rocksdb

namespace tracer::controlplane {

struct TraceStoreOptions {
  // RocksDB directory; created if missing. Required.
  std::string path;
  // Spans whose start time is older than this are deleted by
  // ApplyRetention. Zero: no age limit.
  absl::Duration max_age = absl::Hours(24 * 7);
  // Stored bytes (keys + values) above this make ApplyRetention delete the
  // oldest spans. Zero: no size limit.
  uint64_t max_bytes = uint64_t{10} << 30;
  // Unix time in ns. Default: absl::GetCurrentTimeNanos.
  std::function<int64_t()> now_unix_nanos;
};

struct TraceStoreStats {
  uint64_t spans = 0;            // stored spans
  uint64_t bytes = 0;            // their keys + values
  uint64_t invalid_spans = 0;    // since Open: skipped (bad trace/span id)
  uint64_t retained_out = 0;     // since Open: deleted by retention
};

// Thread-safe. Writes are serialized internally; reads run concurrently.
class TraceStore {
 public:
  // Opens or creates the store. Errors: INVALID_ARGUMENT (empty path), the
  // store's errors (UNAVAILABLE when another process holds the lock).
  static absl::StatusOr<std::unique_ptr<TraceStore>> Open(
      TraceStoreOptions options);
  ~TraceStore();

  // Stores every span of `request` that is not stored yet and, if
  // `agent_id` is non-empty, raises that agent's high-water mark to `seq`,
  // in one synced write. Spans whose trace id is not 16 bytes or span id not
  // 8 bytes are skipped and counted (invalid_spans). Returns the number of
  // spans newly stored. Errors: the store's errors (nothing written).
  absl::StatusOr<uint32_t> Write(
      const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest&
          request,
      absl::string_view agent_id, uint64_t seq);

  // Every agent's high-water mark (highest seq passed to Write).
  std::map<std::string, uint64_t> HighWaterMarks() const;

  // Traces with at least one span starting at or after `since_unix_nano`
  // (and, if `service` is non-empty, one span of that service.name), newest
  // first by their newest matching span, at most `limit` (1..1000). Each
  // summary covers all stored spans of the trace: root = the span without a
  // parent (else the earliest), error_count = spans with status ERROR.
  absl::StatusOr<std::vector<v1::TraceSummary>> ListTraces(
      uint64_t since_unix_nano, absl::string_view service, uint32_t limit) const;

  // The stored spans of `trace_id` (16 bytes), grouped by resource and
  // scope, in span-id order within a group. Errors: INVALID_ARGUMENT (length),
  // NOT_FOUND (no span stored).
  absl::StatusOr<std::vector<opentelemetry::proto::trace::v1::ResourceSpans>>
  GetTrace(absl::string_view trace_id) const;

  // Deletes spans by max_age and max_bytes (see TraceStoreOptions). Returns
  // how many were deleted.
  absl::StatusOr<uint64_t> ApplyRetention();

  TraceStoreStats Stats() const;

 private:
  TraceStore(TraceStoreOptions options, std::unique_ptr<rocksdb::DB> db,
             std::vector<rocksdb::ColumnFamilyHandle*> handles);
  absl::Status Load();
  int64_t Now() const;
  // Deletes the span under by_time key `time_key` (and its other entries).
  absl::Status DeleteOldest(const std::string& time_key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const TraceStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* spans_cf_;
  rocksdb::ColumnFamilyHandle* by_time_cf_;
  rocksdb::ColumnFamilyHandle* by_service_cf_;
  rocksdb::ColumnFamilyHandle* meta_cf_;

  absl::Mutex write_mu_;  // serializes writers (read-check-write of spans)
  mutable absl::Mutex mu_;
  TraceStoreStats stats_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> hwm_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_STORE_TRACE_STORE_H_
