// SPDX-License-Identifier: GPL-2.0
/* Hook floors for HTTP capture (tests/bench/http_overhead.py --mode ...
 * hook_floor --hooks=X): the cost of each kernel hook that can see a traced
 * process's socket data, with programs attached and nothing captured.
 *
 * Every program does what the first test of a capture program does: read
 * the current tgid and look it up in `targets`, which stays empty, then
 * return. The raw_tp and tp_btf pairs run on every syscall of the machine,
 * so their sys_enter first switches on the syscall number as
 * bpf/sockets.bpf.c does, and their sys_exit looks up a task-local storage
 * slot (the per-thread call in flight) that is never created. The classic
 * tracepoints run only for the syscalls they are attached to. cgroup_skb
 * runs per packet of every socket in the cgroup, sockops per TCP event,
 * sk_msg per sendmsg on sockets put in its (empty) sockhash.
 */
#include "vmlinux.h"

#include <asm/unistd_64.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, __u8);
} targets SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, __u64);
} pending SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 1024);
  __type(key, __u64);
  __type(value, __u64);
} sock_hash SEC(".maps");

static __always_inline int is_data_call(long nr) {
  switch (nr) {
    case __NR_connect:
    case __NR_accept:
    case __NR_accept4:
    case __NR_read:
    case __NR_write:
    case __NR_readv:
    case __NR_writev:
    case __NR_recvfrom:
    case __NR_sendto:
    case __NR_recvmsg:
    case __NR_sendmsg:
    case __NR_sendfile:
    case __NR_close:
      return 1;
    default:
      return 0;
  }
}

static __always_inline int filter(void) {
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (bpf_map_lookup_elem(&targets, &tgid)) return 1;
  return 0;
}

static __always_inline int pending_miss(void) {
  __u64 *p = bpf_task_storage_get(&pending, bpf_get_current_task_btf(), 0, 0);
  return p != 0;
}

/* ---- raw_tp pair ---- */
SEC("raw_tp/sys_enter")
int raw_enter(struct bpf_raw_tracepoint_args *ctx) {
  if (!is_data_call(ctx->args[1])) return 0;
  return filter();
}
SEC("raw_tp/sys_exit")
int raw_exit(struct bpf_raw_tracepoint_args *ctx) { return pending_miss(); }

/* ---- tp_btf pair ---- */
SEC("tp_btf/sys_enter")
int BPF_PROG(btf_enter, struct pt_regs *regs, long id) {
  if (!is_data_call(id)) return 0;
  return filter();
}
SEC("tp_btf/sys_exit")
int BPF_PROG(btf_exit, struct pt_regs *regs, long ret) { return pending_miss(); }

/* ---- classic per-syscall tracepoints ---- */
#define TP_PAIR(name)                                                 \
  SEC("tp/syscalls/sys_enter_" #name)                                 \
  int tp_enter_##name(struct trace_event_raw_sys_enter *ctx) {        \
    return filter();                                                  \
  }                                                                   \
  SEC("tp/syscalls/sys_exit_" #name)                                  \
  int tp_exit_##name(struct trace_event_raw_sys_exit *ctx) {          \
    return pending_miss();                                            \
  }
TP_PAIR(read)
TP_PAIR(write)
TP_PAIR(readv)
TP_PAIR(writev)
TP_PAIR(recvfrom)
TP_PAIR(sendto)
TP_PAIR(recvmsg)
TP_PAIR(sendmsg)
TP_PAIR(sendfile64)
TP_PAIR(close)
TP_PAIR(accept)
TP_PAIR(accept4)
TP_PAIR(connect)

/* ---- cgroup_skb ---- */
SEC("cgroup_skb/ingress")
int skb_ingress(struct __sk_buff *skb) {
  if (skb->family != 2 && skb->family != 10) return 1;
  __u64 cookie = bpf_get_socket_cookie(skb);
  if (bpf_map_lookup_elem(&targets, &cookie)) return 1;
  return 1;
}
SEC("cgroup_skb/egress")
int skb_egress(struct __sk_buff *skb) {
  if (skb->family != 2 && skb->family != 10) return 1;
  __u64 cookie = bpf_get_socket_cookie(skb);
  if (bpf_map_lookup_elem(&targets, &cookie)) return 1;
  return 1;
}

/* ---- sockops + sk_msg ---- */
SEC("sockops")
int sock_ops(struct bpf_sock_ops *ops) {
  /* A capture would put a target's sockets into sock_hash here
   * (BPF_SOCK_OPS_*_ESTABLISHED_CB); nothing is captured. */
  return 1;
}
SEC("sk_msg")
int sk_msg_prog(struct sk_msg_md *msg) { return SK_PASS; }
