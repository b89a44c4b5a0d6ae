#include "agent/strace/signatures.h"

#include "absl/container/flat_hash_map.h"
#include "syscalls/syscall_table.h"

namespace tracer::strace {
namespace {

using K = ArgKind;
constexpr ResultKind kHexResult = ResultKind::kHex;

// Argument kinds per syscall, from the man pages' prototypes (section 2).
// Output-only structures (stat buffers, sigsets...) print as pointers.
const Signature kSignatures[] = {
    {"read", 3, {K::kFd, K::kReadBuf, K::kULong}},
    {"write", 3, {K::kFd, K::kWriteBuf, K::kULong}},
    {"pread64", 4, {K::kFd, K::kReadBuf, K::kULong, K::kLong}},
    {"pwrite64", 4, {K::kFd, K::kWriteBuf, K::kULong, K::kLong}},
    {"readv", 3, {K::kFd, K::kPtr, K::kInt}},
    {"writev", 3, {K::kFd, K::kPtr, K::kInt}},
    {"open", 3, {K::kPath, K::kOpenFlags, K::kMode}},
    {"openat", 4, {K::kDirFd, K::kPath, K::kOpenFlags, K::kMode}},
    {"creat", 2, {K::kPath, K::kMode}},
    {"close", 1, {K::kFd}},
    {"stat", 2, {K::kPath, K::kPtr}},
    {"lstat", 2, {K::kPath, K::kPtr}},
    {"fstat", 2, {K::kFd, K::kPtr}},
    {"newfstatat", 4, {K::kDirFd, K::kPath, K::kPtr, K::kAtFlags}},
    {"statx", 5, {K::kDirFd, K::kPath, K::kAtFlags, K::kHex, K::kPtr}},
    {"statfs", 2, {K::kPath, K::kPtr}},
    {"fstatfs", 2, {K::kFd, K::kPtr}},
    {"lseek", 3, {K::kFd, K::kLong, K::kWhence}},
    {"mmap", 6, {K::kPtr, K::kULong, K::kProt, K::kMmapFlags, K::kFd, K::kHex}, kHexResult},
    {"mprotect", 3, {K::kPtr, K::kULong, K::kProt}},
    {"munmap", 2, {K::kPtr, K::kULong}},
    {"mremap", 5, {K::kPtr, K::kULong, K::kULong, K::kHex, K::kPtr}, kHexResult},
    {"brk", 1, {K::kPtr}, kHexResult},
    {"shmat", 3, {K::kInt, K::kPtr, K::kHex}, kHexResult},
    {"access", 2, {K::kPath, K::kAccessMode}},
    {"faccessat", 3, {K::kDirFd, K::kPath, K::kAccessMode}},
    {"faccessat2", 4, {K::kDirFd, K::kPath, K::kAccessMode, K::kFaccessatFlags}},
    {"readlink", 3, {K::kPath, K::kPtr, K::kULong}},
    {"readlinkat", 4, {K::kDirFd, K::kPath, K::kPtr, K::kULong}},
    {"unlink", 1, {K::kPath}},
    {"unlinkat", 3, {K::kDirFd, K::kPath, K::kAtFlags}},
    {"mkdir", 2, {K::kPath, K::kMode}},
    {"mkdirat", 3, {K::kDirFd, K::kPath, K::kMode}},
    {"rmdir", 1, {K::kPath}},
    {"chdir", 1, {K::kPath}},
    {"fchdir", 1, {K::kFd}},
    {"chroot", 1, {K::kPath}},
    {"rename", 2, {K::kPath, K::kPath}},
    {"renameat", 4, {K::kDirFd, K::kPath, K::kDirFd, K::kPath}},
    {"renameat2", 5, {K::kDirFd, K::kPath, K::kDirFd, K::kPath, K::kHex}},
    {"link", 2, {K::kPath, K::kPath}},
    {"linkat", 5, {K::kDirFd, K::kPath, K::kDirFd, K::kPath, K::kAtFlags}},
    {"symlink", 2, {K::kPath, K::kPath}},
    {"symlinkat", 3, {K::kPath, K::kDirFd, K::kPath}},
    {"chmod", 2, {K::kPath, K::kMode}},
    {"fchmod", 2, {K::kFd, K::kMode}},
    {"fchmodat", 3, {K::kDirFd, K::kPath, K::kMode}},
    {"chown", 3, {K::kPath, K::kInt, K::kInt}},
    {"lchown", 3, {K::kPath, K::kInt, K::kInt}},
    {"fchown", 3, {K::kFd, K::kInt, K::kInt}},
    {"fchownat", 5, {K::kDirFd, K::kPath, K::kInt, K::kInt, K::kAtFlags}},
    {"truncate", 2, {K::kPath, K::kLong}},
    {"ftruncate", 2, {K::kFd, K::kLong}},
    {"utimensat", 4, {K::kDirFd, K::kPath, K::kPtr, K::kAtFlags}},
    {"umask", 1, {K::kMode}},
    {"dup", 1, {K::kFd}},
    {"dup2", 2, {K::kFd, K::kFd}},
    {"dup3", 3, {K::kFd, K::kFd, K::kCloexecFlags}},
    {"pipe", 1, {K::kPtr}},
    {"pipe2", 2, {K::kPtr, K::kCloexecFlags}},
    {"fcntl", 3, {K::kFd, K::kFcntlCmd, K::kHex}, ResultKind::kFcntl},
    {"ioctl", 3, {K::kFd, K::kHex, K::kHex}},
    {"flock", 2, {K::kFd, K::kInt}},
    {"fsync", 1, {K::kFd}},
    {"fdatasync", 1, {K::kFd}},
    {"getdents", 3, {K::kFd, K::kPtr, K::kULong}},
    {"getdents64", 3, {K::kFd, K::kPtr, K::kULong}},
    {"getcwd", 2, {K::kPtr, K::kULong}},
    {"sendfile", 4, {K::kFd, K::kFd, K::kPtr, K::kULong}},
    {"socket", 3, {K::kSocketDomain, K::kSocketType, K::kSocketProto}},
    {"socketpair", 4, {K::kSocketDomain, K::kSocketType, K::kSocketProto, K::kPtr}},
    {"connect", 3, {K::kFd, K::kSockaddr, K::kInt}},
    {"bind", 3, {K::kFd, K::kSockaddr, K::kInt}},
    {"listen", 2, {K::kFd, K::kInt}},
    {"accept", 3, {K::kFd, K::kSockaddr, K::kPtr}},
    {"accept4", 4, {K::kFd, K::kSockaddr, K::kPtr, K::kSocketFlags}},
    {"getsockname", 3, {K::kFd, K::kSockaddr, K::kPtr}},
    {"getpeername", 3, {K::kFd, K::kSockaddr, K::kPtr}},
    {"shutdown", 2, {K::kFd, K::kShutdownHow}},
    {"sendto", 6, {K::kFd, K::kWriteBuf, K::kULong, K::kHex, K::kSockaddr, K::kInt}},
    {"recvfrom", 6, {K::kFd, K::kReadBuf, K::kULong, K::kHex, K::kSockaddr, K::kPtr}},
    {"sendmsg", 3, {K::kFd, K::kPtr, K::kHex}},
    {"recvmsg", 3, {K::kFd, K::kPtr, K::kHex}},
    {"setsockopt", 5, {K::kFd, K::kInt, K::kInt, K::kPtr, K::kInt}},
    {"getsockopt", 5, {K::kFd, K::kInt, K::kInt, K::kPtr, K::kPtr}},
    {"execve", 3, {K::kPath, K::kArgv, K::kEnvp}},
    {"execveat", 5, {K::kDirFd, K::kPath, K::kArgv, K::kEnvp, K::kAtFlags}},
    {"clone",
     5,
     {K::kHex, K::kPtr, K::kPtr, K::kPtr, K::kPtr},
     ResultKind::kDecimal,
     Layout::kClone},
    {"clone3", 2, {K::kPtr, K::kULong}},
    {"exit", 1, {K::kInt}},
    {"exit_group", 1, {K::kInt}},
    {"wait4", 4, {K::kInt, K::kPtr, K::kWaitOptions, K::kPtr}},
    {"waitid", 5, {K::kInt, K::kInt, K::kPtr, K::kWaitOptions, K::kPtr}},
    {"kill", 2, {K::kInt, K::kSignal}},
    {"tkill", 2, {K::kInt, K::kSignal}},
    {"tgkill", 3, {K::kInt, K::kInt, K::kSignal}},
    {"rt_sigaction", 4, {K::kSignal, K::kPtr, K::kPtr, K::kULong}},
    {"rt_sigprocmask", 4, {K::kSigprocHow, K::kPtr, K::kPtr, K::kULong}},
    {"set_tid_address", 1, {K::kPtr}},
    {"set_robust_list", 2, {K::kPtr, K::kULong}},
    {"getrandom", 3, {K::kPtr, K::kULong, K::kHex}},
    {"nanosleep", 2, {K::kPtr, K::kPtr}},
    {"clock_gettime", 2, {K::kInt, K::kPtr}},
    {"clock_nanosleep", 4, {K::kInt, K::kHex, K::kPtr, K::kPtr}},
    {"poll", 3, {K::kPtr, K::kULong, K::kInt}},
    {"epoll_create1", 1, {K::kHex}},
    {"epoll_ctl", 4, {K::kFd, K::kInt, K::kFd, K::kPtr}},
    {"epoll_wait", 4, {K::kFd, K::kPtr, K::kInt, K::kInt}},
    {"prlimit64", 4, {K::kInt, K::kInt, K::kPtr, K::kPtr}},
    {"memfd_create", 2, {K::kPath, K::kHex}},
    {"inotify_add_watch", 3, {K::kFd, K::kPath, K::kHex}},
    {"eventfd2", 2, {K::kULong, K::kHex}},
};

}  // namespace

const Signature* FindSignature(int nr) {
  static const auto* by_nr = [] {
    auto* m = new absl::flat_hash_map<int, const Signature*>();
    for (const Signature& s : kSignatures) {
      if (std::optional<int> n = syscalls::SyscallNumber(s.name)) m->emplace(*n, &s);
    }
    return m;
  }();
  auto it = by_nr->find(nr);
  return it == by_nr->end() ? nullptr : it->second;
}

}  // namespace tracer::strace
