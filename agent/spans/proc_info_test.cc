#include "agent/spans/proc_info.h"

#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::spans {
namespace {

using ::testing::HasSubstr;

TEST(ProcInfoTest, ReadsThisProcess) {
  const uint32_t self = static_cast<uint32_t>(getpid());
  auto ppid = ReadParentPid(self);
  ASSERT_TRUE(ppid.has_value());
  EXPECT_EQ(*ppid, static_cast<uint32_t>(getppid()));
  auto exe = ReadExePath(self);
  ASSERT_TRUE(exe.has_value());
  EXPECT_EQ(Basename(*exe), "proc_info_test");
  auto cmd = ReadCommandLine(self);
  ASSERT_TRUE(cmd.has_value());
  EXPECT_THAT(*cmd, HasSubstr("proc_info_test"));
}

TEST(ProcInfoTest, MissingProcessIsNullopt) {
  // Beyond the kernel's PID_MAX_LIMIT (4194304): never a live pid.
  EXPECT_FALSE(ReadParentPid(5000000).has_value());
  EXPECT_FALSE(ReadExePath(5000000).has_value());
  EXPECT_FALSE(ReadCommandLine(5000000).has_value());
}

TEST(ProcInfoTest, JoinArgv) {
  const char argv[] = "ls\0-l\0/tmp\0";
  EXPECT_EQ(JoinArgv(std::string_view(argv, sizeof argv - 1)), "ls -l /tmp");
  EXPECT_EQ(JoinArgv(std::string_view(argv, 5), true), "ls -l...");
  EXPECT_EQ(JoinArgv(""), "");
}

TEST(ProcInfoTest, Basename) {
  EXPECT_EQ(Basename("/usr/bin/ls"), "ls");
  EXPECT_EQ(Basename("ls"), "ls");
  EXPECT_EQ(Basename("/"), "");
}

}  // namespace
}  // namespace tracer::spans
