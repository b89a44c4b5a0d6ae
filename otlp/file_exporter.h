// Writes export requests to a file as OTLP JSON Lines: one
// ExportTraceServiceRequest per line, encoded by ToOtlpJson.
//
// Follows the OpenTelemetry "OTLP File Exporter" format
// (specification/protocol/file-exporter.md): JSON Lines, each line a full
// OTLP/JSON export request, UTF-8, '\n' separated.
#ifndef TRACER_OTLP_FILE_EXPORTER_H_
#define TRACER_OTLP_FILE_EXPORTER_H_

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "otlp/exporter.h"

namespace tracer::otlp {

// Appends OTLP JSON lines to a file or stdout. Output is buffered (1 MiB for
// files, stdio's default for stdout);
// Flush() and Shutdown() push it to the OS; Shutdown() closes the file
// (stdout stays open). Thread-safe: writes are serialised, lines never
// interleave. Export() fails with the errno text when a write fails (disk
// full, closed pipe) and after Shutdown().
class FileExporter : public SpanExporter {
 public:
  // Opens `path` for writing ("-" = stdout). `append` keeps existing content;
  // otherwise the file is truncated. Errors: the open(2) failure with the
  // path and strerror.
  static absl::StatusOr<std::unique_ptr<FileExporter>> Create(const std::string& path,
                                                              bool append = false);
  ~FileExporter() override;

  absl::StatusOr<ExportResult> Export(const ExportTraceServiceRequest& request) override;

  // Writes one request already encoded as OTLP/JSON (one line, no newline;
  // e.g. otlp/wire's AppendJson) followed by a newline: what Export writes
  // for the same request. `*encode` appends the JSON to the buffer it is
  // given; it runs under the exporter's lock, into a buffer reused across
  // calls. Errors as Export().
  absl::StatusOr<ExportResult> ExportJson(const std::function<void(std::string*)>& encode);
  absl::Status Shutdown() override;
  std::string Describe() const override;

  // Pushes buffered lines to the OS (fflush). Errors as Export().
  absl::Status Flush();

 private:
  FileExporter(std::string path, FILE* file, bool owned);
  // Writes line_ and a newline.
  absl::StatusOr<ExportResult> WriteLine() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ErrnoError(const char* op, int err) const;

  const std::string path_;
  absl::Mutex mu_;
  FILE* file_ ABSL_GUARDED_BY(mu_);
  const bool owned_;
  std::unique_ptr<char[]> buffer_;
  std::string line_ ABSL_GUARDED_BY(mu_);  // reused encoding buffer
};

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_FILE_EXPORTER_H_
