// SPDX-License-Identifier: GPL-2.0
/* Empty programs on the syscall tracepoints: the floor a syscall hook costs
 * before it does any work. One pair per hook type; the loader
 * (syscall_floor_main.cc) attaches one pair or none. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx) { return 0; }

SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx) { return 0; }

SEC("tp_btf/sys_enter")
int BPF_PROG(btf_enter, struct pt_regs *regs, long id) { return 0; }

SEC("tp_btf/sys_exit")
int BPF_PROG(btf_exit, struct pt_regs *regs, long ret) { return 0; }

/* The cost of the helpers a syscall program cannot avoid, one at a time on
 * top of the empty tp_btf pair: the current task (BTF), the clock. */
SEC("tp_btf/sys_enter")
int BPF_PROG(clock_enter, struct pt_regs *regs, long id) {
  struct task_struct *t = bpf_get_current_task_btf();
  if (t->tgid == 0) return 0;
  return bpf_ktime_get_ns() == 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(clock_exit, struct pt_regs *regs, long ret) {
  struct task_struct *t = bpf_get_current_task_btf();
  if (t->tgid == 0) return 0;
  return bpf_ktime_get_ns() == 0;
}
