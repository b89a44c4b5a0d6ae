#include "agent/strace/format.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <string>

#include "gtest/gtest.h"

namespace tracer::strace {
namespace {

using capture::Blob;
using capture::BlobKind;
using capture::SyscallEvent;
using std::string_literals::operator""s;

uint64_t U(int64_t v) { return static_cast<uint64_t>(v); }

SyscallEvent Ev(int nr, std::initializer_list<uint64_t> args, int64_t ret = 0) {
  SyscallEvent e;
  e.nr = nr;
  int i = 0;
  for (uint64_t a : args) e.args[i++] = a;
  e.ret = ret;
  return e;
}

// Blob data must outlive the event: tests keep the strings alive.
void AddBlob(SyscallEvent* e, int index, BlobKind kind, const std::string& data,
             bool truncated = false) {
  Blob b;
  b.arg_index = static_cast<uint8_t>(index);
  b.kind = kind;
  b.truncated = truncated;
  b.data = data;
  e->blobs.push_back(b);
}

// Golden lines are strace 6.1's output for the same calls.
TEST(FormatArgs, Openat) {
  std::string path = "/etc/passwd";
  SyscallEvent e = Ev(SYS_openat, {U(AT_FDCWD), 0x7ffd0000, O_RDONLY | O_CLOEXEC, 0}, 3);
  AddBlob(&e, 1, BlobKind::kString, path);
  EXPECT_EQ(FormatArgs(e), R"(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)");
  e.args[2] = O_WRONLY | O_CREAT | O_TRUNC;
  e.args[3] = 0666;
  EXPECT_EQ(FormatArgs(e), R"(AT_FDCWD, "/etc/passwd", O_WRONLY|O_CREAT|O_TRUNC, 0666)");
  EXPECT_EQ(FormatResult(e), "3");
}

TEST(FormatArgs, PathWithoutBlobIsPointer) {
  SyscallEvent e = Ev(SYS_openat, {3, 0x7ffd3e3ba7b0, O_RDONLY, 0});
  EXPECT_EQ(FormatArgs(e), "3, 0x7ffd3e3ba7b0, O_RDONLY");
  e.args[1] = 0;
  EXPECT_EQ(FormatArgs(e), "3, NULL, O_RDONLY");
}

TEST(FormatArgs, TruncatedPath) {
  std::string path = "/very/long/pa";
  SyscallEvent e = Ev(SYS_unlink, {0x1000});
  AddBlob(&e, 0, BlobKind::kString, path, /*truncated=*/true);
  EXPECT_EQ(FormatArgs(e), R"("/very/long/pa"...)");
}

TEST(FormatArgs, WriteBuffer) {
  std::string data = "hello\n";
  SyscallEvent e = Ev(SYS_write, {1, 0x5000, 6}, 6);
  AddBlob(&e, 1, BlobKind::kBytes, data);
  EXPECT_EQ(FormatArgs(e), R"(1, "hello\n", 6)");
}

TEST(FormatArgs, WriteBufferLongerThanStringLimit) {
  std::string data(40, 'x');
  SyscallEvent e = Ev(SYS_write, {1, 0x5000, 40}, 40);
  AddBlob(&e, 1, BlobKind::kBytes, data);
  EXPECT_EQ(FormatArgs(e), "1, \"" + std::string(32, 'x') + "\"..., 40");
  FormatOptions wide;
  wide.max_string_len = 64;
  EXPECT_EQ(FormatArgs(e, wide), "1, \"" + std::string(40, 'x') + "\", 40");
  // The kernel copied fewer bytes than the call wrote.
  std::string head = "abc";
  SyscallEvent cut = Ev(SYS_write, {1, 0x5000, 4096}, 4096);
  AddBlob(&cut, 1, BlobKind::kBytes, head, true);
  EXPECT_EQ(FormatArgs(cut), R"(1, "abc"..., 4096)");
}

TEST(FormatArgs, ReadBufferUsesReturnValue) {
  std::string data = "\177ELF\2\1\1\3"s;
  SyscallEvent e = Ev(SYS_read, {3, 0x7ffc, 832}, 8);
  AddBlob(&e, 1, BlobKind::kBytes, data);
  EXPECT_EQ(FormatArgs(e), R"(3, "\177ELF\2\1\1\3", 832)");
  SyscallEvent eof = Ev(SYS_read, {3, 0x7ffc, 4096}, 0);
  std::string none;
  AddBlob(&eof, 1, BlobKind::kBytes, none);
  EXPECT_EQ(FormatArgs(eof), R"(3, "", 4096)");
  SyscallEvent failed = Ev(SYS_read, {3, 0x7ffc, 4096}, -EBADF);
  AddBlob(&failed, 1, BlobKind::kBytes, data);
  EXPECT_EQ(FormatArgs(failed), "3, 0x7ffc, 4096");
}

TEST(FormatArgs, Execve) {
  std::string path = "/usr/bin/ls";
  std::string argv = "ls\0-la\0"s;
  SyscallEvent e = Ev(SYS_execve, {0x1000, 0x2000, 0x7ffd3e3ba7b0});
  AddBlob(&e, 0, BlobKind::kString, path);
  AddBlob(&e, 1, BlobKind::kArgv, argv);
  EXPECT_EQ(FormatArgs(e), R"("/usr/bin/ls", ["ls", "-la"], 0x7ffd3e3ba7b0)");
  std::string env = "A=1\0B=2\0C=3\0"s;
  AddBlob(&e, 2, BlobKind::kArgv, env);
  EXPECT_EQ(FormatArgs(e), R"("/usr/bin/ls", ["ls", "-la"], 0x7ffd3e3ba7b0 /* 3 vars */)");
}

// strace: execve("/usr/bin/sh", ["sh", "-c", "ls -la /etc >/dev/null; cat /etc"...], ...)
TEST(FormatArgs, ExecveLongAndTruncatedArgv) {
  std::string path = "/usr/bin/sh";
  std::string argv = "sh\0-c\0ls -la /etc >/dev/null; cat /etc/hostname\0"s;
  SyscallEvent e = Ev(SYS_execve, {0x1000, 0x2000, 0x3000});
  AddBlob(&e, 0, BlobKind::kString, path);
  AddBlob(&e, 1, BlobKind::kArgv, argv);
  EXPECT_EQ(FormatArgs(e),
            R"("/usr/bin/sh", ["sh", "-c", "ls -la /etc >/dev/null; cat /etc"...], 0x3000)");
  std::string cut = "python3\0-c\0imp"s;
  SyscallEvent t = Ev(SYS_execve, {0x1000, 0x2000, 0x3000});
  AddBlob(&t, 1, BlobKind::kArgv, cut, true);
  EXPECT_EQ(FormatArgs(t), R"(0x1000, ["python3", "-c", "imp"..., ...], 0x3000)");
}

TEST(FormatArgs, ConnectSockaddr) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(80);
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  std::string bytes(reinterpret_cast<const char*>(&sin), sizeof sin);
  SyscallEvent e = Ev(SYS_connect, {3, 0x1000, sizeof sin}, -ECONNREFUSED);
  AddBlob(&e, 1, BlobKind::kSockaddr, bytes);
  EXPECT_EQ(FormatArgs(e),
            R"(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16)");
  EXPECT_EQ(FormatResult(e), "-1 ECONNREFUSED (Connection refused)");
}

TEST(FormatArgs, Mmap) {
  SyscallEvent e =
      Ev(SYS_mmap, {0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, U(-1), 0},
         0x7f3424a52000);
  EXPECT_EQ(FormatArgs(e), "NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0");
  EXPECT_EQ(FormatResult(e), "0x7f3424a52000");
  SyscallEvent f = Ev(SYS_mmap,
                      {0x7f3424889000, 1400832, PROT_READ | PROT_EXEC,
                       MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, 3, 0x26000},
                      0x7f3424889000);
  EXPECT_EQ(FormatArgs(f),
            "0x7f3424889000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, "
            "0x26000");
  SyscallEvent fail = Ev(SYS_mmap, {0, 1, PROT_READ, MAP_PRIVATE, 3, 0}, -ENOMEM);
  EXPECT_EQ(FormatResult(fail), "-1 ENOMEM (Cannot allocate memory)");
}

TEST(FormatArgs, BrkAndAccessAndLseek) {
  SyscallEvent brk = Ev(SYS_brk, {0}, 0x561ff7906000);
  EXPECT_EQ(FormatArgs(brk), "NULL");
  EXPECT_EQ(FormatResult(brk), "0x561ff7906000");
  std::string path = "/etc/ld.so.preload";
  SyscallEvent access = Ev(SYS_access, {0x1000, R_OK}, -ENOENT);
  AddBlob(&access, 0, BlobKind::kString, path);
  EXPECT_EQ(FormatArgs(access), R"("/etc/ld.so.preload", R_OK)");
  EXPECT_EQ(FormatResult(access), "-1 ENOENT (No such file or directory)");
  EXPECT_EQ(FormatArgs(Ev(SYS_lseek, {3, U(-60), SEEK_CUR})), "3, -60, SEEK_CUR");
}

TEST(FormatArgs, Fcntl) {
  EXPECT_EQ(FormatArgs(Ev(SYS_fcntl, {1, F_DUPFD, 10})), "1, F_DUPFD, 10");
  EXPECT_EQ(FormatArgs(Ev(SYS_fcntl, {11, F_SETFD, FD_CLOEXEC})), "11, F_SETFD, FD_CLOEXEC");
  SyscallEvent getfl = Ev(SYS_fcntl, {255, F_GETFL, 0x1234}, 0x8000);
  EXPECT_EQ(FormatArgs(getfl), "255, F_GETFL");
  EXPECT_EQ(FormatResult(getfl), "0x8000 (flags O_RDONLY|O_LARGEFILE)");
  EXPECT_EQ(FormatArgs(Ev(SYS_fcntl, {3, F_SETFL, O_RDWR | O_NONBLOCK})),
            "3, F_SETFL, O_RDWR|O_NONBLOCK");
  EXPECT_EQ(FormatResult(Ev(SYS_fcntl, {1, F_DUPFD, 10}, 11)), "11");
}

TEST(FormatArgs, SocketAndClone) {
  EXPECT_EQ(FormatArgs(Ev(SYS_socket, {AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0})),
            "AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP");
  EXPECT_EQ(FormatArgs(Ev(SYS_socket, {AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0})),
            "AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0");
  EXPECT_EQ(FormatArgs(Ev(SYS_clone, {CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID | SIGCHLD, 0, 0,
                                      0x7f1c9cf6ea10, 0})),
            "child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, "
            "child_tidptr=0x7f1c9cf6ea10");
  EXPECT_EQ(FormatArgs(Ev(SYS_clone, {CLONE_VM | CLONE_VFORK | SIGCHLD, 0x7f00, 0, 0, 0})),
            "child_stack=0x7f00, flags=CLONE_VM|CLONE_VFORK|SIGCHLD");
  EXPECT_EQ(FormatArgs(Ev(SYS_kill, {1234, SIGTERM})), "1234, SIGTERM");
  EXPECT_EQ(FormatArgs(Ev(SYS_newfstatat, {3, 0x10, 0x20, AT_EMPTY_PATH})),
            "3, 0x10, 0x20, AT_EMPTY_PATH");
  EXPECT_EQ(FormatArgs(Ev(SYS_getpid, {1, 2, 3})), "");
}

TEST(FormatArgs, UndecodedSyscallsPrintTheirArityInHex) {
  // Not in the signature table: arity from the generated table.
  EXPECT_EQ(FormatArgs(Ev(SYS_setpgid, {0, 0x10})), "0, 0x10");
  EXPECT_EQ(FormatArgs(Ev(SYS_sched_yield, {1, 2})), "");
  // Unknown syscall: all six, like strace's syscall_0x3e7(0x1, 0x2, ...).
  EXPECT_EQ(FormatArgs(Ev(999, {1, 2, 3, 3, 0x7f7147798b89, 6})),
            "0x1, 0x2, 0x3, 0x3, 0x7f7147798b89, 0x6");
  EXPECT_EQ(FormatArgs(Ev(-1, {})), "0, 0, 0, 0, 0, 0");
}

TEST(FormatArgs, BlobOfWrongKindIsIgnored) {
  std::string data = "x";
  SyscallEvent e = Ev(SYS_write, {1, 0x5000, 1}, 1);
  AddBlob(&e, 1, BlobKind::kSockaddr, data);
  EXPECT_EQ(FormatArgs(e), "1, 0x5000, 1");
}

TEST(FormatResult, Values) {
  EXPECT_EQ(FormatResult(Ev(SYS_close, {3}, 0)), "0");
  EXPECT_EQ(FormatResult(Ev(SYS_openat, {}, -ENOENT)), "-1 ENOENT (No such file or directory)");
  EXPECT_EQ(FormatResult(Ev(999, {}, -ENOSYS)), "-1 ENOSYS (Function not implemented)");
  EXPECT_EQ(FormatResult(Ev(SYS_read, {}, -4000)), "-1 (errno 4000)");
  EXPECT_EQ(FormatResult(Ev(SYS_lseek, {}, -4096)), "-4096");  // not an error value
  EXPECT_EQ(FormatResult(Ev(SYS_wait4, {}, -512)),
            "? ERESTARTSYS (To be restarted if SA_RESTART is set)");
  EXPECT_EQ(FormatResult(Ev(SYS_nanosleep, {}, -516)),
            "? ERESTART_RESTARTBLOCK (Interrupted by signal)");
  EXPECT_EQ(FormatResult(Ev(SYS_ioctl, {}, -515)), "-1 ENOIOCTLCMD (No ioctl command)");
  SyscallEvent exit = Ev(SYS_exit_group, {0});
  exit.no_return = true;
  EXPECT_EQ(FormatResult(exit), "?");
  EXPECT_EQ(FormatArgs(exit), "0");
}

TEST(IsError, Range) {
  EXPECT_TRUE(IsError(-1));
  EXPECT_TRUE(IsError(-4095));
  EXPECT_FALSE(IsError(-4096));
  EXPECT_FALSE(IsError(0));
  EXPECT_FALSE(IsError(3));
  EXPECT_FALSE(IsError(static_cast<int64_t>(0xffffffffffff0000ull)));
}

}  // namespace
}  // namespace tracer::strace
