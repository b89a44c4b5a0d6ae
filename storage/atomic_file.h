// Durable whole-file replacement for small state files (the control
// plane's session and exporter registries): write "<path>.tmp", fsync, rename over <path>, fsync
// the directory. A crash leaves either the old or the new file, never a mix.
#ifndef TRACER_STORAGE_ATOMIC_FILE_H_
#define TRACER_STORAGE_ATOMIC_FILE_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tracer::storage {

// Replaces `path` with `data`; the file gets exactly `mode` (fchmod, so the
// umask cannot widen or narrow it). The directory must exist. Errors:
// INTERNAL with the failing step, the path and strerror; on error `path` is
// unchanged and the temporary file is removed. Not safe against concurrent
// writers of the same path (callers serialize).
absl::Status WriteFileAtomically(const std::string& path, const std::string& data, mode_t mode);

// Reads all of `path`. Errors: NOT_FOUND when it does not exist, INTERNAL
// for other read errors (with strerror).
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace tracer::storage

#endif  // TRACER_STORAGE_ATOMIC_FILE_H_
