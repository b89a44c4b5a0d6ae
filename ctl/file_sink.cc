#include "ctl/file_sink.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "otlp/file_exporter.h"

namespace tracer::ctl {

absl::StatusOr<std::unique_ptr<FileSink>> FileSink::Create(const std::string& path) {
  auto file = otlp::FileExporter::Create(path, /*append=*/false);
  if (!file.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--output ", path, ": ", file.status().message()));
  }
  return std::unique_ptr<FileSink>(new FileSink(*std::move(file)));
}

FileSink::FileSink(std::unique_ptr<otlp::FileExporter> file) : file_(std::move(file)) {}

void FileSink::OnBatch(std::shared_ptr<const spans::SpanBatch> batch) {
  if (!batch->sampled || batch->span_count() == 0) return;
  // OTLP/JSON straight from the batch's span records (no message objects).
  absl::StatusOr<otlp::ExportResult> written =
      file_->ExportJson([&batch](std::string* line) { batch->AppendJson(line); });
  absl::MutexLock lock(&mu_);
  if (written.ok()) {
    spans_written_ += batch->span_count();
    return;
  }
  spans_failed_ += batch->span_count();
  if (first_error_.ok()) first_error_ = written.status();
}

absl::Status FileSink::Shutdown() {
  absl::Status closed = file_->Shutdown();
  absl::MutexLock lock(&mu_);
  if (!first_error_.ok()) {
    return absl::Status(
        first_error_.code(),
        absl::StrCat(spans_failed_, " spans not written: ", first_error_.message()));
  }
  return closed;
}

std::string FileSink::Summary() const {
  absl::MutexLock lock(&mu_);
  std::string s = absl::StrCat(spans_written_, " spans written to ", file_->Describe());
  if (spans_failed_ > 0) absl::StrAppend(&s, ", ", spans_failed_, " failed");
  return s;
}

}  // namespace tracer::ctl
