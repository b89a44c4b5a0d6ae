#include "otlp/delivery/dead_letter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "otlp/json_string.h"
#include "otlp/otlp_json.h"

namespace tracer::otlp::delivery {
namespace {

absl::Status ErrnoError(int err, absl::string_view what, const std::string& path) {
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (err == EACCES || err == EPERM || err == EROFS) code = absl::StatusCode::kPermissionDenied;
  if (err == ENOSPC || err == EDQUOT) code = absl::StatusCode::kResourceExhausted;
  return absl::Status(code, absl::StrCat("dead letter: ", what, " ", path, ": ", strerror(err)));
}

// Appends `line` + '\n' to `path` and fdatasyncs it; on failure truncates
// the file back to its previous length.
absl::Status AppendLineSynced(const std::string& path, std::string line) {
  line.push_back('\n');
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return ErrnoError(errno, "open", path);
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoError(err, "stat", path);
  }
  const off_t before = st.st_size;
  size_t done = 0;
  int err = 0;
  while (done < line.size()) {
    const ssize_t n = write(fd, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (err == 0 && fdatasync(fd) != 0) err = errno;
  if (err != 0) {
    // Best effort: do not leave a torn line for the retry to append after.
    if (ftruncate(fd, before) == 0) fdatasync(fd);
    close(fd);
    return ErrnoError(err, "write", path);
  }
  if (close(fd) != 0) return ErrnoError(errno, "close", path);
  if (before == 0) {
    // A new file: make its directory entry durable too.
    const std::string dir = std::filesystem::path(path).parent_path().string();
    const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return ErrnoError(errno, "open directory", dir);
    const int rc = fsync(dfd);
    const int err = errno;
    close(dfd);
    if (rc != 0) return ErrnoError(err, "sync directory", dir);
  }
  return absl::OkStatus();
}

// A JSON string literal (json_string.h): always valid JSON.
std::string JsonString(std::string_view s) {
  std::string out;
  otlp::AppendJsonString(s, &out);
  return out;
}

}  // namespace

std::string DeadLetterErrorLine(const DeadLetterInfo& info) {
  return absl::StrCat(
      "{\"time\":",
      JsonString(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", info.time, absl::UTCTimeZone())),
      ",\"reason\":", JsonString(info.reason), ",\"message\":", JsonString(info.message),
      ",\"spans\":", info.spans, ",\"first_seq\":", info.first_seq, ",\"last_seq\":", info.last_seq,
      "}");
}

DeadLetterFile::DeadLetterFile(std::string dir, std::string_view backend_name)
    : dir_(std::move(dir)),
      requests_path_(dir_ + "/" + std::string(backend_name) + ".jsonl"),
      errors_path_(dir_ + "/" + std::string(backend_name) + ".errors.jsonl") {}

absl::Status DeadLetterFile::EnsureDir() {
  if (dir_.empty()) return absl::FailedPreconditionError("dead letter: no directory configured");
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("dead letter: create directory ", dir_, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status DeadLetterFile::WriteErrorOnly(const DeadLetterInfo& info) {
  if (absl::Status s = EnsureDir(); !s.ok()) return s;
  return AppendLineSynced(errors_path_, DeadLetterErrorLine(info));
}

absl::Status DeadLetterFile::Write(const otlp::ExportTraceServiceRequest& request,
                                   const DeadLetterInfo& info) {
  if (absl::Status s = EnsureDir(); !s.ok()) return s;
  // The request line first: if the errors line then fails, the caller
  // retries both, and the request appears twice rather than not at all.
  if (absl::Status s = AppendLineSynced(requests_path_, otlp::ToOtlpJson(request)); !s.ok()) {
    return s;
  }
  return AppendLineSynced(errors_path_, DeadLetterErrorLine(info));
}

}  // namespace tracer::otlp::delivery
