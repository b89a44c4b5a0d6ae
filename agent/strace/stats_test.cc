#include "agent/strace/stats.h"

#include <sys/syscall.h>

#include <cerrno>
#include <string>

#include "gtest/gtest.h"

namespace tracer::strace {
namespace {

capture::SyscallEvent Call(int nr, int64_t ret, uint64_t ns) {
  capture::SyscallEvent e;
  e.nr = nr;
  e.ret = ret;
  e.duration_ns = ns;
  return e;
}

TEST(StatsAggregator, CountsCallsErrorsAndTime) {
  StatsAggregator agg;
  agg.OnSyscall(Call(SYS_openat, 3, 1000));
  agg.OnSyscall(Call(SYS_openat, -ENOENT, 500));
  agg.OnSyscall(Call(SYS_read, 10, 200));
  agg.OnSyscall(Call(SYS_read, -4096, 300));  // not an errno value
  capture::SyscallEvent exit = Call(SYS_exit_group, 0, 0);
  exit.no_return = true;
  agg.OnSyscall(exit);  // strace -c leaves these out
  capture::ProcessEvent fork;
  fork.kind = capture::ProcessEvent::Kind::kFork;
  agg.OnProcess(fork);

  std::vector<capture::SyscallTotals> t = agg.Totals();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].nr, SYS_read);
  EXPECT_EQ(t[0].calls, 2u);
  EXPECT_EQ(t[0].errors, 0u);
  EXPECT_EQ(t[0].total_ns, 500u);
  EXPECT_EQ(t[1].nr, SYS_openat);
  EXPECT_EQ(t[1].calls, 2u);
  EXPECT_EQ(t[1].errors, 1u);
  EXPECT_EQ(t[1].total_ns, 1500u);
}

// The numbers of strace 6.1's `strace -c ls` summary (first rows), rendered
// byte for byte like strace.
TEST(FormatStatsTable, MatchesStraceLayout) {
  std::vector<capture::SyscallTotals> totals = {
      {SYS_close, 23, 0, 9000}, {SYS_getdents64, 2, 0, 211000}, {SYS_write, 5, 0, 1000},
      {SYS_read, 7, 0, 0},      {SYS_openat, 40, 19, 0},        {SYS_ioctl, 2, 2, 0},
  };
  EXPECT_EQ(FormatStatsTable(totals),
            "% time     seconds  usecs/call     calls    errors syscall\n"
            "------ ----------- ----------- --------- --------- ----------------\n"
            " 95.48    0.000211         105         2           getdents64\n"
            "  4.07    0.000009           0        23           close\n"
            "  0.45    0.000001           0         5           write\n"
            "  0.00    0.000000           0         7           read\n"
            "  0.00    0.000000           0         2         2 ioctl\n"
            "  0.00    0.000000           0        40        19 openat\n"
            "------ ----------- ----------- --------- --------- ----------------\n"
            "100.00    0.000221           2        79        21 total\n");
}

TEST(FormatStatsTable, TruncatesAndWidensAndMerges) {
  std::vector<capture::SyscallTotals> totals = {
      {SYS_sched_get_priority_max, 1, 0, 1999999999},  // 1.999999999 s
      {SYS_sched_get_priority_max, 1, 1, 0},
      {SYS_getpid, 0, 0, 0},  // no calls: no row
      {999, 3, 3, 3000},
  };
  std::string table = FormatStatsTable(totals);
  EXPECT_NE(
      table.find("100.00    1.999999      999999         2         1 sched_get_priority_max\n"),
      std::string::npos)
      << table;
  EXPECT_NE(table.find("           1         3         3 syscall_0x3e7\n"), std::string::npos)
      << table;
  EXPECT_EQ(table.find("getpid"), std::string::npos);
  EXPECT_NE(table.find("--------- ----------------------\n"), std::string::npos) << table;
}

TEST(FormatStatsTable, Empty) {
  EXPECT_EQ(FormatStatsTable({}),
            "% time     seconds  usecs/call     calls    errors syscall\n"
            "------ ----------- ----------- --------- --------- ----------------\n"
            "------ ----------- ----------- --------- --------- ----------------\n"
            "100.00    0.000000           0         0           total\n");
}

}  // namespace
}  // namespace tracer::strace
