// `tracectl run`'s export side, in one place: an OTLP JSON file with
// --output (ctl/file_sink.h, written directly), and an OTLP backend with
// --otlp-endpoint / OTEL_EXPORTER_OTLP_*, which gets the spans from this
// run's write-ahead log: every batch is appended and synced there first
// (DESIGN.md "Storage"), and the export engine's worker reads the log's
// cursor and delivers it (ctl/wal_export.h) while the command runs. The log
// is removed once the backend has everything; when it does not (backend
// down until the flush deadline), the log is kept and `tracectl resend`
// sends it later. A run that only writes a local --output file needs no
// log.
#ifndef TRACER_CTL_RUN_RUN_EXPORT_H_
#define TRACER_CTL_RUN_RUN_EXPORT_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/spans/span_builder.h"
#include "ctl/file_sink.h"
#include "ctl/run_options.h"
#include "ctl/wal_export.h"
#include "otlp/exporter_config.h"
#include "storage/wal.h"

namespace tracer::ctl::run {

// Whether an OTLP endpoint is configured (--otlp-endpoint or
// OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT).
bool ExportRequested(const RunOptions& options, const EnvLookup& env);

// Not thread-safe: the thread running the command calls everything; the
// node pipeline calls sink() from its own threads (FileSink is made for
// that) and appends to wal() while the export worker reads it.
class RunExport {
 public:
  // The destinations `options` and the environment ask for, checked before
  // anything runs so configuration errors stop the run early; nullptr when
  // no spans are exported (`want_spans` false, or the trace is not
  // sampled). Errors: INVALID_ARGUMENT naming the flag, variable or file.
  static absl::StatusOr<std::unique_ptr<RunExport>> Create(const RunOptions& options,
                                                           const EnvLookup& env, bool want_spans,
                                                           bool sampled);
  ~RunExport();

  // With `want_export`, opens this run's write-ahead log in a fresh
  // directory under `data_dir` and starts delivering it to the backend.
  // Errors: FAILED_PRECONDITION when the directory cannot be made,
  // RocksDB's when the log cannot be opened, the transport's
  // (INVALID_ARGUMENT) when it cannot be built.
  absl::Status OpenWal(const std::string& data_dir, bool want_export);

  // The log batches pass first, or nullptr (no OTLP endpoint).
  storage::Wal* wal() const { return wal_.get(); }
  // Where batches go after the log (the --output file), or nullptr.
  spans::BatchSink* sink() const { return file_.get(); }

  // After the last batch: `wal_status` is how the log's writer ended.
  // Closes the file; lets the backend's worker catch up (while it makes
  // progress, giving up after the exporter's timeout plus 6 s without),
  // reports what failed (keeping the log's directory and printing the
  // `tracectl resend` command when spans are unsent, removing it when the
  // backend has every span) and returns `rc`, or kExitExportFailed if `rc`
  // was 0 and something failed.
  int Finish(const absl::Status& wal_status, int rc);

  // "; <one part per destination>" for the run's summary.
  std::string Summary() const;

 private:
  RunExport() = default;

  std::unique_ptr<FileSink> file_;
  std::optional<otlp::ExporterConfig> backend_;  // with an OTLP endpoint
  size_t max_batch_spans_ = 512;
  std::unique_ptr<storage::Wal> wal_;
  std::string wal_dir_;
  std::unique_ptr<WalExport> delivery_;
  std::optional<WalExportResult> delivered_;  // set by Finish
  std::string destination_;                   // the backend, set by Finish
};

}  // namespace tracer::ctl::run

#endif  // TRACER_CTL_RUN_RUN_EXPORT_H_
