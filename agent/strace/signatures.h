// The per-syscall argument-kind table that drives strace-style formatting:
// for each syscall it knows, how many arguments it takes and how to print
// each one. Syscalls without an entry print their arguments in hex (see
// format.h). Pure data, thread-safe.
#ifndef TRACER_AGENT_STRACE_SIGNATURES_H_
#define TRACER_AGENT_STRACE_SIGNATURES_H_

#include <cstdint>
#include <string_view>

namespace tracer::strace {

// How one raw 64-bit argument is printed.
enum class ArgKind : uint8_t {
  kHex,           // %#lx, 0 as "0" (unknown meaning)
  kPtr,           // pointer: NULL or 0x...
  kInt,           // int, decimal (low 32 bits, signed)
  kLong,          // long / off_t, decimal (signed 64)
  kULong,         // size_t, decimal (unsigned 64)
  kFd,            // file descriptor: int
  kDirFd,         // *at() directory descriptor: AT_FDCWD or int
  kPath,          // NUL-terminated string: quoted from the kString blob, else pointer
  kReadBuf,       // buffer filled by the call: quoted kBytes blob, length = return value
  kWriteBuf,      // buffer read by the call: quoted kBytes blob, length = next argument
  kArgv,          // execve argv: ["a", "b"] from the kArgv blob, else pointer
  kEnvp,          // execve envp: pointer, plus "/* N vars */" if a kArgv blob is present
  kSockaddr,      // struct sockaddr from the kSockaddr blob, else pointer
  kOpenFlags,     // O_RDONLY|O_CLOEXEC
  kCloexecFlags,  // dup3/pipe2 flags
  kMode,          // 0644
  kAtFlags,       // AT_EMPTY_PATH ...
  kFaccessatFlags,
  kAccessMode,    // F_OK, R_OK|W_OK
  kProt,          // PROT_READ|PROT_WRITE
  kMmapFlags,     // MAP_PRIVATE|MAP_ANONYMOUS
  kFcntlCmd,      // F_SETFD; also decides how the next argument prints
  kSocketDomain,  // AF_INET
  kSocketType,    // SOCK_STREAM|SOCK_CLOEXEC
  kSocketProto,   // IPPROTO_TCP, per the domain in argument 0
  kSocketFlags,   // accept4: SOCK_CLOEXEC|SOCK_NONBLOCK
  kShutdownHow,   // SHUT_RDWR
  kWhence,        // SEEK_SET
  kSignal,        // SIGTERM
  kSigprocHow,    // SIG_BLOCK
  kWaitOptions,   // WNOHANG
};

// How the return value prints on success.
enum class ResultKind : uint8_t {
  kDecimal,  // signed decimal (descriptors, counts, pids)
  kHex,      // addresses: mmap, mremap, brk, shmat
  kFcntl,    // F_GETFL/F_GETFD print "0x8002 (flags O_RDWR|O_LARGEFILE)", others decimal
};

// Special layouts that are not one kind per argument.
enum class Layout : uint8_t {
  kPositional,  // args[i] printed per kinds[i]
  kClone,       // clone(child_stack=..., flags=..., parent_tid=..., tls=..., child_tidptr=...)
};

struct Signature {
  std::string_view name;  // syscall name as in the syscall table
  uint8_t arg_count;      // 0..6
  ArgKind kinds[6];       // first arg_count used
  ResultKind result = ResultKind::kDecimal;
  Layout layout = Layout::kPositional;
};

// The signature of syscall `nr`, or nullptr if the table has none.
const Signature* FindSignature(int nr);

}  // namespace tracer::strace

#endif  // TRACER_AGENT_STRACE_SIGNATURES_H_
