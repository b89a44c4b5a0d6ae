// `tracectl run`'s export side, in one place: the destinations (an OTLP JSON
// file with --output, an OTLP backend with --otlp-endpoint /
// OTEL_EXPORTER_OTLP_*; ctl/export_pipeline.h) and, when spans leave the
// node, this run's write-ahead log, which every batch passes before it is
// exported (DESIGN.md "Storage"). A run that only writes a local --output
// file needs no second local copy: the file is written directly.
#ifndef TRACER_CTL_RUN_RUN_EXPORT_H_
#define TRACER_CTL_RUN_RUN_EXPORT_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/spans/span_builder.h"
#include "ctl/export_pipeline.h"
#include "ctl/run_options.h"
#include "storage/wal.h"

namespace tracer::ctl::run {

// Whether an OTLP endpoint is configured (--otlp-endpoint or
// OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT).
bool ExportRequested(const RunOptions& options, const EnvLookup& env);

// Not thread-safe: the thread running the command calls everything; the
// node pipeline calls sink() from its own threads (ExportPipeline is made
// for that).
class RunExport {
 public:
  // The destinations `options` and the environment ask for, created before
  // anything runs so configuration errors stop the run early; nullptr when
  // no spans are exported (`want_spans` false, or the trace is not
  // sampled). Errors: ExportPipeline::Create's (INVALID_ARGUMENT).
  static absl::StatusOr<std::unique_ptr<RunExport>> Create(const RunOptions& options,
                                                           const EnvLookup& env, bool want_spans,
                                                           bool sampled);

  // With `want_export`, opens this run's write-ahead log in a fresh
  // directory under `data_dir`. Errors: FAILED_PRECONDITION when the
  // directory cannot be made, RocksDB's when the log cannot be opened.
  absl::Status OpenWal(const std::string& data_dir, bool want_export);

  // The log batches pass first, or nullptr (no OTLP endpoint).
  storage::Wal* wal() const { return wal_.get(); }
  // Where batches go after the log.
  spans::BatchSink* sink() const { return exports_.get(); }

  // After the last batch: `wal_status` is how the log's writer ended. Drains
  // and closes the destinations, reports what failed (keeping the log's
  // directory when an export failed, removing it when every destination has
  // every span) and returns `rc`, or kExitExportFailed if `rc` was 0 and
  // something failed.
  int Finish(const absl::Status& wal_status, int rc);

  // "; <one line per destination>" for the run's summary.
  std::string Summary() const;

 private:
  std::unique_ptr<ExportPipeline> exports_;
  std::unique_ptr<storage::Wal> wal_;
  std::string wal_dir_;
};

}  // namespace tracer::ctl::run

#endif  // TRACER_CTL_RUN_RUN_EXPORT_H_
