#include "storage/wal_flags.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gflags/gflags.h"

DEFINE_string(data_dir, "", "Data directory of this process; the span WAL is <data_dir>/wal");
DEFINE_uint64(wal_max_bytes, uint64_t{1} << 30,
              "Cap on bytes of stored WAL records (keys + values)");
DEFINE_string(wal_cap_policy, "block",
              "What Append does at the cap: block (wait, then fail and count) "
              "or drop_oldest (delete the oldest records, counted per consumer)");
DEFINE_uint64(wal_group_commit_max_wait_us, 2000,
              "Longest wait (µs) of a group-commit leader for appenders already "
              "encoding; 0 disables");
DEFINE_uint64(wal_block_timeout_ms, 1000,
              "block policy: longest wait (ms) of Append for free space");

namespace tracer::storage {

absl::StatusOr<WalOptions> WalOptionsFromFlags() {
  if (FLAGS_data_dir.empty()) {
    return absl::InvalidArgumentError("--data_dir is required");
  }
  if (FLAGS_wal_max_bytes == 0) {
    return absl::InvalidArgumentError("--wal_max_bytes must be > 0");
  }
  absl::StatusOr<CapPolicy> policy = ParseCapPolicy(FLAGS_wal_cap_policy);
  if (!policy.ok()) return policy.status();
  WalOptions options;
  options.data_dir = absl::StrCat(FLAGS_data_dir, "/wal");
  options.max_bytes = FLAGS_wal_max_bytes;
  options.policy = *policy;
  options.group_commit_max_wait =
      absl::Microseconds(static_cast<int64_t>(FLAGS_wal_group_commit_max_wait_us));
  options.block_timeout = absl::Milliseconds(static_cast<int64_t>(FLAGS_wal_block_timeout_ms));
  return options;
}

}  // namespace tracer::storage
