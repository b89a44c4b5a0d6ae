#include "otlp/file_exporter.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "otlp/otlp_json.h"

namespace tracer::otlp {
namespace {
constexpr size_t kBufferBytes = 1 << 20;
}  // namespace

absl::StatusOr<std::unique_ptr<FileExporter>> FileExporter::Create(const std::string& path,
                                                                   bool append) {
  if (path.empty()) return absl::InvalidArgumentError("file exporter: empty path");
  if (path == "-") {
    return std::unique_ptr<FileExporter>(new FileExporter(path, stdout, /*owned=*/false));
  }
  FILE* f = std::fopen(path.c_str(), append ? "ae" : "we");
  if (f == nullptr) {
    int err = errno;
    return absl::Status(
        absl::ErrnoToStatusCode(err),
        absl::StrCat("file exporter: cannot open \"", path, "\": ", std::strerror(err)));
  }
  return std::unique_ptr<FileExporter>(new FileExporter(path, f, /*owned=*/true));
}

FileExporter::FileExporter(std::string path, FILE* file, bool owned)
    : path_(std::move(path)), file_(file), owned_(owned) {
  // setvbuf is only allowed before the first I/O, so stdout keeps its own.
  if (owned_) {
    buffer_.reset(new char[kBufferBytes]);
    std::setvbuf(file_, buffer_.get(), _IOFBF, kBufferBytes);
  }
}

FileExporter::~FileExporter() { Shutdown().IgnoreError(); }

absl::Status FileExporter::ErrnoError(const char* op, int err) const {
  return absl::Status(
      absl::ErrnoToStatusCode(err != 0 ? err : EIO),
      absl::StrCat(Describe(), ": ", op, ": ", std::strerror(err != 0 ? err : EIO)));
}

absl::StatusOr<ExportResult> FileExporter::Export(const ExportTraceServiceRequest& request) {
  absl::MutexLock lock(&mu_);
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(Describe(), ": exporter is shut down"));
  }
  line_.clear();
  AppendOtlpJson(request, &line_);
  return WriteLine();
}

absl::StatusOr<ExportResult> FileExporter::ExportJson(
    const std::function<void(std::string*)>& encode) {
  absl::MutexLock lock(&mu_);
  if (file_ == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(Describe(), ": exporter is shut down"));
  }
  line_.clear();
  encode(&line_);
  return WriteLine();
}

absl::StatusOr<ExportResult> FileExporter::WriteLine() {
  line_.push_back('\n');
  errno = 0;
  if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) {
    int err = errno;
    std::clearerr(file_);
    return ErrnoError("write", err);
  }
  return ExportResult{};
}

absl::Status FileExporter::Flush() {
  absl::MutexLock lock(&mu_);
  if (file_ == nullptr) return absl::OkStatus();
  errno = 0;
  if (std::fflush(file_) != 0) {
    int err = errno;
    std::clearerr(file_);
    return ErrnoError("flush", err);
  }
  return absl::OkStatus();
}

absl::Status FileExporter::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (file_ == nullptr) return absl::OkStatus();
  absl::Status status;
  errno = 0;
  if (std::fflush(file_) != 0) status = ErrnoError("flush", errno);
  if (owned_) {
    errno = 0;
    if (std::fclose(file_) != 0 && status.ok()) status = ErrnoError("close", errno);
  }
  file_ = nullptr;
  return status;
}

std::string FileExporter::Describe() const {
  return path_ == "-" ? "file <stdout>" : absl::StrCat("file ", path_);
}

}  // namespace tracer::otlp
