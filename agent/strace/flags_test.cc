#include "agent/strace/flags.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace tracer::strace {
namespace {

// Expected strings are what strace 6.1 prints for the same values.
TEST(Flags, Open) {
  EXPECT_EQ(OpenFlagsToString(O_RDONLY | O_CLOEXEC), "O_RDONLY|O_CLOEXEC");
  EXPECT_EQ(OpenFlagsToString(O_WRONLY | O_CREAT | O_TRUNC), "O_WRONLY|O_CREAT|O_TRUNC");
  EXPECT_EQ(OpenFlagsToString(O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_SYNC | O_CLOEXEC),
            "O_WRONLY|O_CREAT|O_TRUNC|O_APPEND|O_SYNC|O_CLOEXEC");
  EXPECT_EQ(OpenFlagsToString(O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_DIRECTORY),
            "O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY");
  EXPECT_EQ(OpenFlagsToString(O_RDWR | O_TMPFILE), "O_RDWR|O_TMPFILE");
  EXPECT_EQ(OpenFlagsToString(0x8000), "O_RDONLY|O_LARGEFILE");
  EXPECT_EQ(OpenFlagsToString(O_RDWR | 0x40000000), "O_RDWR|0x40000000");
  EXPECT_EQ(OpenFlagsToString(3), "O_ACCMODE");
}

TEST(Flags, ModesAndAt) {
  EXPECT_EQ(ModeToString(0666), "0666");
  EXPECT_EQ(ModeToString(0640), "0640");
  EXPECT_EQ(ModeToString(0), "000");
  EXPECT_EQ(DirFdToString(static_cast<uint64_t>(static_cast<int64_t>(AT_FDCWD))), "AT_FDCWD");
  EXPECT_EQ(DirFdToString(static_cast<uint32_t>(AT_FDCWD)), "AT_FDCWD");
  EXPECT_EQ(DirFdToString(3), "3");
  EXPECT_EQ(AtFlagsToString(AT_EMPTY_PATH), "AT_EMPTY_PATH");
  EXPECT_EQ(AtFlagsToString(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH),
            "AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH");
  EXPECT_EQ(AtFlagsToString(AT_REMOVEDIR), "AT_REMOVEDIR");
  EXPECT_EQ(AtFlagsToString(0), "0");
  EXPECT_EQ(FaccessatFlagsToString(AT_EACCESS), "AT_EACCESS");
  EXPECT_EQ(AccessModeToString(F_OK), "F_OK");
  EXPECT_EQ(AccessModeToString(R_OK), "R_OK");
  EXPECT_EQ(AccessModeToString(R_OK | W_OK), "R_OK|W_OK");
}

TEST(Flags, Mmap) {
  EXPECT_EQ(ProtToString(PROT_NONE), "PROT_NONE");
  EXPECT_EQ(ProtToString(PROT_READ | PROT_EXEC), "PROT_READ|PROT_EXEC");
  EXPECT_EQ(MmapFlagsToString(MAP_PRIVATE | MAP_ANONYMOUS), "MAP_PRIVATE|MAP_ANONYMOUS");
  EXPECT_EQ(MmapFlagsToString(MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE),
            "MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE");
  EXPECT_EQ(MmapFlagsToString(MAP_SHARED), "MAP_SHARED");
  EXPECT_EQ(MmapFlagsToString(MAP_PRIVATE | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT)),
            "MAP_PRIVATE|MAP_HUGETLB|21<<MAP_HUGE_SHIFT");
}

TEST(Flags, Clone) {
  EXPECT_EQ(CloneFlagsToString(CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD),
            "CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD");
  EXPECT_EQ(CloneFlagsToString(CLONE_VM | CLONE_VFORK | SIGCHLD), "CLONE_VM|CLONE_VFORK|SIGCHLD");
  EXPECT_EQ(CloneFlagsToString(0), "0");
}

TEST(Flags, FcntlSocketsSeekSignalsWait) {
  EXPECT_EQ(FcntlCmdToString(F_GETFL), "F_GETFL");
  EXPECT_EQ(FcntlCmdToString(F_DUPFD_CLOEXEC), "F_DUPFD_CLOEXEC");
  EXPECT_EQ(FcntlCmdToString(9999), "9999");
  EXPECT_EQ(FdFlagsToString(FD_CLOEXEC), "FD_CLOEXEC");
  EXPECT_EQ(SocketDomainToString(AF_INET6), "AF_INET6");
  EXPECT_EQ(SocketDomainToString(AF_UNIX), "AF_UNIX");
  EXPECT_EQ(SocketTypeToString(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK),
            "SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK");
  EXPECT_EQ(SocketTypeToString(SOCK_DGRAM), "SOCK_DGRAM");
  EXPECT_EQ(SocketProtocolToString(AF_INET6, 0), "IPPROTO_IP");
  EXPECT_EQ(SocketProtocolToString(AF_INET, IPPROTO_TCP), "IPPROTO_TCP");
  EXPECT_EQ(SocketProtocolToString(AF_UNIX, 0), "0");
  EXPECT_EQ(WhenceToString(SEEK_SET), "SEEK_SET");
  EXPECT_EQ(WhenceToString(SEEK_END), "SEEK_END");
  EXPECT_EQ(WhenceToString(42), "42");
  EXPECT_EQ(SignalToString(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalToString(SIGCHLD), "SIGCHLD");
  EXPECT_EQ(SignalToString(32), "SIGRTMIN");
  EXPECT_EQ(SignalToString(33), "SIGRT_1");
  EXPECT_EQ(SignalToString(0), "0");
  EXPECT_EQ(SigprocmaskHowToString(SIG_SETMASK), "SIG_SETMASK");
  EXPECT_EQ(WaitOptionsToString(WNOHANG), "WNOHANG");
  EXPECT_EQ(WaitOptionsToString(0), "0");
  EXPECT_EQ(ShutdownHowToString(SHUT_RDWR), "SHUT_RDWR");
}

}  // namespace
}  // namespace tracer::strace
