// Command-line flags for the WAL, for main()s only (libraries take
// WalOptions). Linking //storage:wal_flags defines:
//   --data_dir                       process data directory; the WAL lives in
//                                    <data_dir>/wal
//   --wal_max_bytes                  cap on stored record bytes (1 GiB)
//   --wal_cap_policy                 block | drop_oldest (block)
//   --wal_group_commit_max_wait_us   group-commit wait bound, µs (2000)
//   --wal_block_timeout_ms           block policy: Append wait bound, ms (1000)
#ifndef TRACER_STORAGE_WAL_FLAGS_H_
#define TRACER_STORAGE_WAL_FLAGS_H_

#include "absl/status/statusor.h"
#include "storage/wal.h"

namespace tracer::storage {

// WalOptions from the flags above (reporter and clock left default).
// Errors: INVALID_ARGUMENT for an empty --data_dir, a zero --wal_max_bytes or
// an unknown --wal_cap_policy. Call after gflags parsed the command line.
absl::StatusOr<WalOptions> WalOptionsFromFlags();

}  // namespace tracer::storage

#endif  // TRACER_STORAGE_WAL_FLAGS_H_
