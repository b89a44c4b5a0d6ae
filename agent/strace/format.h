// strace-style text for one captured syscall: the argument list and the
// result, as strace prints `name(ARGS) = RESULT`.
//
//   openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
//   write(1, "hello\n", 6) = 6
//   execve("/usr/bin/ls", ["ls", "-la"], 0x7ffd3e3ba7b0 /* 23 vars */) = 0
//   connect(3, {sa_family=AF_INET, sin_port=htons(80),
//               sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)
//   mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f3424a52000
//
// Syscalls with an entry in signatures.cc decode per argument kind; others
// print as many hex arguments as the syscall takes (all six if unknown), as
// strace does for syscalls it cannot decode. Captured blobs are untrusted
// bytes: any content and length is printed safely (see quote.h).
//
// Pure functions, thread-safe; the event is only read.
#ifndef TRACER_AGENT_STRACE_FORMAT_H_
#define TRACER_AGENT_STRACE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/capture/events.h"

namespace tracer::strace {

struct FormatOptions {
  // Like strace -s: at most this many bytes of data buffers (read/write
  // contents) and of each argv string are printed, then `...`. Paths are
  // printed whole (as captured).
  size_t max_string_len = 32;
  // Like strace's abbreviation of arrays: at most this many argv elements.
  size_t max_array_len = 32;
};

// The argument list without the surrounding parentheses.
std::string FormatArgs(const capture::SyscallEvent& event, const FormatOptions& options);
std::string FormatArgs(const capture::SyscallEvent& event);
// The same text appended to `*out` (not null), for callers that reuse one
// buffer.
void AppendArgs(const capture::SyscallEvent& event, const FormatOptions& options, std::string* out);

// The return value as strace prints it after "= ":
//   "3"                                      success (decimal)
//   "0x7f3424a52000"                         success of mmap/mremap/brk/shmat
//   "0x8002 (flags O_RDWR|O_LARGEFILE)"      fcntl F_GETFL / F_GETFD
//   "-1 ENOENT (No such file or directory)"  ret in -4095..-1
//   "? ERESTARTSYS (To be restarted if SA_RESTART is set)"
//                                            kernel restart codes 512-514, 516
//   "-1 (errno 4000)"                        an errno value without a name
//   "?"                                      no_return (exit, exit_group)
std::string FormatResult(const capture::SyscallEvent& event);
// The same text appended to `*out` (not null).
void AppendResult(const capture::SyscallEvent& event, std::string* out);

// True if `ret` is an error return, i.e. -errno: -4095..-1 (the kernel's
// IS_ERR_VALUE range).
bool IsError(int64_t ret);

}  // namespace tracer::strace

#endif  // TRACER_AGENT_STRACE_FORMAT_H_
