#include "syscalls/syscall_table.h"

#include <sys/syscall.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace tracer::syscalls {
namespace {

// Spot checks against the C library's view of the same headers.
TEST(SyscallTable, NamesMatchSysSyscallH) {
  EXPECT_EQ(SyscallName(SYS_read), "read");
  EXPECT_EQ(SyscallName(SYS_openat), "openat");
  EXPECT_EQ(SyscallName(SYS_execve), "execve");
  EXPECT_EQ(SyscallName(SYS_exit_group), "exit_group");
  EXPECT_EQ(SyscallName(SYS_clone3), "clone3");
  EXPECT_EQ(SyscallNumber("openat"), SYS_openat);
  EXPECT_EQ(SyscallNumber("read"), SYS_read);
  EXPECT_EQ(SyscallNumber("newfstatat"), SYS_newfstatat);
  EXPECT_EQ(SyscallNumber("futex_waitv"), SYS_futex_waitv);
}

TEST(SyscallTable, EveryNumberRoundTrips) {
  const std::vector<int>& all = AllSyscallNumbers();
  ASSERT_GT(all.size(), 300u);
  std::set<std::string_view> names;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(all[i - 1], all[i]);
    }
    std::string_view name = SyscallName(all[i]);
    EXPECT_TRUE(names.insert(name).second) << "duplicate " << name;
    EXPECT_EQ(SyscallNumber(name), all[i]) << name;
  }
}

TEST(SyscallTable, UnknownNumbersUseStraceSpelling) {
  EXPECT_EQ(SyscallName(999), "syscall_0x3e7");
  EXPECT_EQ(SyscallName(5000000), "syscall_0x4c4b40");
  EXPECT_EQ(SyscallName(-1), "syscall_0xffffffff");
  // Interned: the same storage on every call.
  EXPECT_EQ(SyscallName(999).data(), SyscallName(999).data());
  EXPECT_EQ(SyscallNumber("opnat"), std::nullopt);
  EXPECT_EQ(SyscallNumber(""), std::nullopt);
  EXPECT_EQ(SyscallNumber("OPENAT"), std::nullopt);
}

TEST(SyscallTable, UnknownNameInterningIsBounded) {
  for (int i = 0; i < 5000; ++i) SyscallName(100000 + i);
  EXPECT_EQ(SyscallName(2000000000), "syscall_unknown");
  EXPECT_EQ(SyscallName(999), "syscall_0x3e7");  // interned earlier, still there
}

TEST(SyscallTable, ArgCounts) {
  EXPECT_EQ(SyscallArgCount(SYS_getpid), 0);
  EXPECT_EQ(SyscallArgCount(SYS_close), 1);
  EXPECT_EQ(SyscallArgCount(SYS_read), 3);
  EXPECT_EQ(SyscallArgCount(SYS_openat), 4);
  EXPECT_EQ(SyscallArgCount(SYS_mmap), 6);
  EXPECT_EQ(SyscallArgCount(999), std::nullopt);
}

TEST(SyscallTable, ErrnoNamesMatchErrnoH) {
  EXPECT_EQ(ErrnoName(ENOENT), "ENOENT");
  EXPECT_EQ(ErrnoName(EPERM), "EPERM");
  EXPECT_EQ(ErrnoName(EAGAIN), "EAGAIN");    // not the EWOULDBLOCK alias
  EXPECT_EQ(ErrnoName(EDEADLK), "EDEADLK");  // not the EDEADLOCK alias
  EXPECT_EQ(ErrnoName(ECONNREFUSED), "ECONNREFUSED");
  EXPECT_EQ(ErrnoName(EHWPOISON), "EHWPOISON");
  EXPECT_EQ(ErrnoName(0), "");
  EXPECT_EQ(ErrnoName(-2), "");
  EXPECT_EQ(ErrnoName(4000), "");
  EXPECT_EQ(ErrnoMessage(4000), "");
}

TEST(SyscallTable, ErrnoMessagesAreStrerrors) {
  EXPECT_EQ(ErrnoMessage(ENOENT), "No such file or directory");
  EXPECT_EQ(ErrnoMessage(ENOSYS), "Function not implemented");
  // Every code the C library knows reads the same as strerror() (what strace
  // prints), and every code 1..EHWPOISON has a name.
  for (int e = 1; e <= EHWPOISON; ++e) {
    if (e == 41 || e == 58) continue;  // holes in the errno numbering
    EXPECT_FALSE(ErrnoName(e).empty()) << e;
    EXPECT_EQ(ErrnoMessage(e), strerror(e)) << ErrnoName(e);
  }
}

TEST(SyscallTable, KernelInternalRestartCodes) {
  EXPECT_EQ(ErrnoName(512), "ERESTARTSYS");
  EXPECT_EQ(ErrnoName(513), "ERESTARTNOINTR");
  EXPECT_EQ(ErrnoName(514), "ERESTARTNOHAND");
  EXPECT_EQ(ErrnoName(515), "ENOIOCTLCMD");
  EXPECT_EQ(ErrnoName(516), "ERESTART_RESTARTBLOCK");
  EXPECT_EQ(ErrnoMessage(512), "To be restarted if SA_RESTART is set");
  EXPECT_EQ(ErrnoMessage(516), "Interrupted by signal");
}

// The arity data file must describe syscalls the headers know: a stale or
// foreign file would silently mis-print arguments.
TEST(SyscallTable, ArityFileMatchesHeaders) {
  std::ifstream in("syscalls/data/syscall_arity.txt");
  ASSERT_TRUE(in) << "arity data file missing from runfiles";
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::string name = line.substr(0, line.find(' '));
    int count = std::stoi(line.substr(line.find(' ') + 1));
    std::optional<int> nr = SyscallNumber(name);
    if (!nr) continue;  // a syscall newer than the installed headers
    EXPECT_EQ(SyscallArgCount(*nr), count) << name;
    EXPECT_GE(count, 0);
    EXPECT_LE(count, 6);
    ++checked;
  }
  EXPECT_GT(checked, 300);
}

}  // namespace
}  // namespace tracer::syscalls
