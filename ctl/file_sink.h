// FileSink: `tracectl run --output FILE` — every sampled span batch written
// as one OTLP JSON line (encoded from its span records, written by
// otlp/file_exporter.h) on the thread that hands it
// over (the WAL writer's, or the span stage's without a WAL). A local file
// needs no queue: a disk that falls behind slows the pipeline down
// (back-pressure), it does not lose spans.
#ifndef TRACER_CTL_FILE_SINK_H_
#define TRACER_CTL_FILE_SINK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agent/spans/span_builder.h"
#include "otlp/file_exporter.h"

namespace tracer::ctl {

// Thread-safe: OnBatch from any thread (writes are serialised by the file
// exporter); Shutdown once, after the last batch.
class FileSink : public spans::BatchSink {
 public:
  // Creates (truncates) `path` ("-" = stdout). Errors: INVALID_ARGUMENT
  // naming --output and the file when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<FileSink>> Create(const std::string& path);

  void OnBatch(std::shared_ptr<const spans::SpanBatch> batch) override;

  // Flushes and closes the file. Returns the first write error, with how
  // many spans it cost, or OK.
  absl::Status Shutdown();

  // "<n> spans written to file <path>[, <m> failed]".
  std::string Summary() const;

 private:
  explicit FileSink(std::unique_ptr<otlp::FileExporter> file);

  const std::unique_ptr<otlp::FileExporter> file_;
  mutable absl::Mutex mu_;
  uint64_t spans_written_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t spans_failed_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status first_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracer::ctl

#endif  // TRACER_CTL_FILE_SINK_H_
