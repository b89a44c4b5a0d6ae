// x86-64 syscall numbers and errno codes, by name and by number.
//
// The tables are generated at build time from the system's kernel headers
// (asm/unistd_64.h, asm-generic/errno-base.h, asm-generic/errno.h) by
// tools/gen/gen_syscall_tables.py; nothing here is a hand-typed list. The
// kernel-internal restart codes (ERESTARTSYS 512 ... ) that the kernel never
// exports come from data/kernel_internal_errno.h. Argument counts come from
// data/syscall_arity.txt (dumped from the kernel's tracefs syscall formats).
//
// All functions are thread-safe, never allocate per call for known values,
// and return views of static storage that live for the whole program.
#ifndef TRACER_SYSCALLS_SYSCALL_TABLE_H_
#define TRACER_SYSCALLS_SYSCALL_TABLE_H_

#include <optional>
#include <string_view>
#include <vector>

namespace tracer::syscalls {

// Name of x86-64 syscall `nr` ("openat" for 257). Unknown numbers get
// strace's spelling for them, "syscall_0x" + lowercase hex ("syscall_0x3e7"
// for 999); negative numbers print as their 32-bit two's complement. The
// names of up to 4096 distinct unknown numbers are kept (interned); past that
// "syscall_unknown" is returned, so hostile numbers cannot grow memory.
std::string_view SyscallName(int nr);

// Number of the syscall called `name` (exact, case-sensitive, as in
// unistd_64.h without the __NR_ prefix), or nullopt if x86-64 has none.
std::optional<int> SyscallNumber(std::string_view name);

// Number of arguments syscall `nr` takes (0..6), or nullopt if unknown.
std::optional<int> SyscallArgCount(int nr);

// Every syscall number in the table, ascending.
const std::vector<int>& AllSyscallNumbers();

// Symbolic name of errno value `err` (positive: 2 -> "ENOENT"; 512 ->
// "ERESTARTSYS"). Aliases resolve to the first name the headers define
// (11 -> "EAGAIN", not "EWOULDBLOCK"). Empty for unknown values.
std::string_view ErrnoName(int err);

// strerror()-style message for `err` ("No such file or directory"), the C
// library's text where it has one, else the kernel header's comment. Empty
// for unknown values.
std::string_view ErrnoMessage(int err);

}  // namespace tracer::syscalls

#endif  // TRACER_SYSCALLS_SYSCALL_TABLE_H_
