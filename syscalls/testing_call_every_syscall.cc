// Test helper: issues every x86-64 syscall the table knows exactly once, each
// refused by a seccomp filter before the kernel runs it, so nothing happens
// except that a ptrace-based tracer (strace) sees the call. Used by
// syscall_classes_strace_test to learn strace's class membership. Exits 0.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>

#include "syscalls/syscall_table.h"

int main() {
  // Everything but exit_group fails with ENOSYS without executing. ptrace
  // reports syscall entry before seccomp runs, so strace still prints it.
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
  };
  struct sock_fprog prog = {static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    std::perror("seccomp");
    return 2;
  }
  for (int nr : tracer::syscalls::AllSyscallNumbers()) {
    if (nr == SYS_exit || nr == SYS_exit_group) continue;
    syscall(nr, 0, 0, 0, 0, 0, 0);
  }
  syscall(SYS_exit_group, 0);
  return 0;
}
