#include "storage/wal_flags.h"

#include "gflags/gflags.h"
#include "gtest/gtest.h"

namespace tracer::storage {
namespace {

TEST(WalFlagsTest, MapsFlagsOntoOptions) {
  gflags::FlagSaver saver;
  gflags::SetCommandLineOption("data_dir", "/var/lib/tracer");
  gflags::SetCommandLineOption("wal_max_bytes", "123456");
  gflags::SetCommandLineOption("wal_cap_policy", "drop_oldest");
  gflags::SetCommandLineOption("wal_group_commit_max_wait_us", "500");
  gflags::SetCommandLineOption("wal_block_timeout_ms", "250");
  auto options = WalOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->data_dir, "/var/lib/tracer/wal");
  EXPECT_EQ(options->max_bytes, 123456u);
  EXPECT_EQ(options->policy, CapPolicy::kDropOldest);
  EXPECT_EQ(options->group_commit_max_wait, absl::Microseconds(500));
  EXPECT_EQ(options->block_timeout, absl::Milliseconds(250));
}

TEST(WalFlagsTest, DefaultsAreTheDocumentedOnes) {
  gflags::FlagSaver saver;
  gflags::SetCommandLineOption("data_dir", "d");
  auto options = WalOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->max_bytes, uint64_t{1} << 30);
  EXPECT_EQ(options->policy, CapPolicy::kBlock);
  EXPECT_EQ(options->group_commit_max_wait, absl::Milliseconds(2));
}

TEST(WalFlagsTest, RejectsBadValues) {
  gflags::FlagSaver saver;
  EXPECT_EQ(WalOptionsFromFlags().status().code(),
            absl::StatusCode::kInvalidArgument);  // no --data_dir
  gflags::SetCommandLineOption("data_dir", "d");
  gflags::SetCommandLineOption("wal_cap_policy", "drop_newest");
  EXPECT_EQ(WalOptionsFromFlags().status().code(), absl::StatusCode::kInvalidArgument);
  gflags::SetCommandLineOption("wal_cap_policy", "block");
  gflags::SetCommandLineOption("wal_max_bytes", "0");
  EXPECT_EQ(WalOptionsFromFlags().status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tracer::storage
