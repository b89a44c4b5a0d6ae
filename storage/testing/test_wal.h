// A RocksDbWal for tests (testonly): opened in `dir` without the group
// commit wait, so appends in a test return as soon as they are synced.
#ifndef TRACER_STORAGE_TESTING_TEST_WAL_H_
#define TRACER_STORAGE_TESTING_TEST_WAL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/rocksdb_wal.h"

namespace tracer::storage::testing {

// Opens (or creates) the log in `dir`. Errors: RocksDbWal::Open's.
inline absl::StatusOr<std::unique_ptr<RocksDbWal>> OpenTestWal(const std::string& dir) {
  WalOptions options;
  options.data_dir = dir;
  options.group_commit_max_wait = absl::ZeroDuration();
  return RocksDbWal::Open(options);
}

}  // namespace tracer::storage::testing

#endif  // TRACER_STORAGE_TESTING_TEST_WAL_H_
