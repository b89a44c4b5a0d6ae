// strace's syscall classes (`%file`, `%network`, ...) and its `-e trace=`
// expression language, resolved to x86-64 syscall numbers.
//
// Membership follows strace's documented classes (strace(1), "-e trace=%file"
// and friends) as strace 6.x assigns them on x86-64; the one table that holds
// it is in syscall_classes.cc, checked against the installed strace by
// syscall_classes_strace_test.
//
// All functions are pure and thread-safe.
#ifndef TRACER_SYSCALLS_SYSCALL_CLASSES_H_
#define TRACER_SYSCALLS_SYSCALL_CLASSES_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tracer::syscalls {

// Syscall numbers (ascending, unique) in class `cls`. `cls` may carry strace's
// leading '%' or not: "file" and "%file" are the same class. Classes, as in
// strace(1):
//   file     syscalls that take a file name argument
//   desc     file-descriptor related syscalls
//   network  network related syscalls ("net" is an alias)
//   process  process lifecycle: creation, exec, termination
//   signal   signal related syscalls
//   ipc      System V IPC
//   memory   memory mapping
//   creds    user/group ids and capabilities
//   clock    reading or changing system clocks
//   pure     always succeed and take no arguments (getpid ...)
//   stat, lstat, fstat, %stat          stat variants ("%stat": all of them)
//   statfs, fstatfs, %statfs           statfs variants ("%statfs": all)
// Errors: InvalidArgument naming `cls` if no such class exists.
absl::StatusOr<std::vector<int>> SyscallsInClass(std::string_view cls);

// Resolves the value of strace's `-e trace=` qualifier (without the
// "trace=" prefix) to syscall numbers, ascending and unique. Grammar, as
// strace(1) documents it:
//   expr    := ["!"] element ("," element)*
//   element := name          a syscall name ("openat")
//            | "?" name      same, but an unknown name is ignored
//            | "%" class     a class (see SyscallsInClass)
//            | class         the bare legacy class names file, process,
//                            network, net, signal, ipc, desc, memory
//            | "/" regex     every syscall whose name matches the POSIX
//                            extended regex (unanchored, like strace)
//            | "all" | "none"
// A leading "!" negates the whole set: "!close,read" is every syscall but
// those two. The result may be empty ("none", "!all").
// Errors: InvalidArgument whose message names the offending element
// (unknown syscall, unknown class, bad regex, empty element).
absl::StatusOr<std::vector<int>> ParseTraceExpression(std::string_view expr);

// The class names SyscallsInClass accepts, without '%', in documentation
// order (for error messages and help texts).
const std::vector<std::string_view>& SyscallClassNames();

}  // namespace tracer::syscalls

#endif  // TRACER_SYSCALLS_SYSCALL_CLASSES_H_
