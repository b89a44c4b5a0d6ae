// WalExport: delivers the write-ahead log of a `tracectl run` (a RocksDB
// directory of serialized ExportTraceServiceRequest records,
// agent/pipeline/wal_stage.h) to one OTLP backend with the export engine
// (otlp/delivery/backend_worker.h): one worker on the log's cursor
// "exporter:otlp", one request at a time, exponential backoff, a circuit
// breaker, refused requests dead-lettered. `tracectl run` starts it before
// the first span is appended and finishes it after the last; `tracectl
// resend` runs it on a log a failed run left behind, resuming at the cursor.
#ifndef TRACER_CTL_WAL_EXPORT_H_
#define TRACER_CTL_WAL_EXPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "otlp/delivery/backend_options.h"
#include "otlp/delivery/backend_worker.h"
#include "otlp/exporter_config.h"
#include "storage/wal.h"

namespace tracer::ctl {

// The backend's name: it names the cursor ("exporter:otlp") and the
// dead-letter files (otlp.jsonl, otlp.errors.jsonl).
inline constexpr char kWalExportBackend[] = "otlp";

struct WalExportOptions {
  otlp::ExporterConfig exporter;  // transport and retry intervals
  // Spans per export request at most (OTEL_BSP_MAX_EXPORT_BATCH_SIZE).
  size_t max_batch_spans = 512;
  // Where requests the backend refuses (non-retryable) are written.
  std::string dead_letter_dir;
  // How long Finish() waits without the cursor moving before it gives up.
  absl::Duration idle_budget = absl::Seconds(16);
};

// The worker's counters and what is still unsent.
struct WalExportResult {
  otlp::delivery::BackendStats stats;
  uint64_t unsent_records = 0;  // records past the cursor (batches of the run)
  uint64_t unsent_spans = 0;
  // Every record is acknowledged (sent, or refused and dead-lettered).
  bool complete() const { return unsent_records == 0; }
};

// Called about once a second while Finish() is still waiting.
using WalExportProgress = std::function<void(const WalExportResult&)>;

// Thread-safety: Start and Finish from one thread; the worker runs on its
// own.
class WalExport {
 public:
  // Registers the cursor (at the oldest record; an existing cursor keeps
  // its place) and starts the worker. `wal` is not owned and must outlive
  // this object. Errors: the log's, INVALID_ARGUMENT for the endpoint or
  // TLS files.
  static absl::StatusOr<std::unique_ptr<WalExport>> Start(storage::Wal* wal,
                                                          WalExportOptions options);
  // Stops the worker if Finish() was not called (what is unsent stays).
  ~WalExport();
  WalExport(const WalExport&) = delete;
  WalExport& operator=(const WalExport&) = delete;

  // Lets the worker deliver what is in the log, for as long as the cursor
  // keeps moving, until it has caught up or idle_budget passed without
  // progress; then stops it (an attempt on the wire is cancelled and its
  // batch stays unsent). Call once, after the last Append.
  WalExportResult Finish(const WalExportProgress& progress = nullptr);

  // The backend, e.g. "otlp/grpc http://localhost:4317".
  const std::string& destination() const { return destination_; }

 private:
  WalExport(storage::Wal* wal, WalExportOptions options, std::string destination,
            std::unique_ptr<otlp::delivery::BackendWorker> worker);
  // The counters and the cursor's lag now.
  WalExportResult Snapshot() const;

  storage::Wal* const wal_;
  const WalExportOptions options_;
  const std::string destination_;
  const std::unique_ptr<otlp::delivery::BackendWorker> worker_;
};

// "<spans> spans in <batches> batch(es)".
std::string SpansInBatches(uint64_t spans, uint64_t batches);

// Where the dead letters of the log in `wal_dir` go: dead_letter/<name of
// the log's directory> beside it, so they outlive the log.
std::string DeadLetterDirFor(const std::string& wal_dir);

// Reports the outcome of a finished WalExport of the log in `wal_dir` on
// stderr, each line prefixed with `prefix` ("tracectl run: "): refused
// spans and where they were written; what is unsent, that the log is kept
// and the `tracectl resend` command that sends it (`exporter` names the
// backend in it). Removes `wal_dir` when nothing is unsent; the log must be
// closed by then. Returns whether every span reached the backend.
bool ReportWalExport(const std::string& prefix, const std::string& wal_dir,
                     const otlp::ExporterConfig& exporter, const std::string& destination,
                     const WalExportResult& result);

}  // namespace tracer::ctl

#endif  // TRACER_CTL_WAL_EXPORT_H_
