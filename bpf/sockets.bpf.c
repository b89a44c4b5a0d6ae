// SPDX-License-Identifier: GPL-2.0
/* Socket tracking and data copies of traced processes (HTTP flow capture),
 * CO-RE with libbpf.
 *
 * sys_enter of the followed calls (connect, accept, accept4, close, read,
 *                    write, readv, writev, recvfrom, sendto, recvmsg,
 *                    sendmsg, sendfile): data calls on a tracked (tgid, fd)
 *                    and connect/accept/close of targets stash their
 *                    arguments per thread
 * sys_exit           tracks new connections (OPEN), copies the first bytes
 *                    of data calls (DATA), untracks closed fds (CLOSE)
 *   both either on the tp/syscalls/sys_enter_X, sys_exit_X tracepoints of
 *   the followed calls or on raw_tp/sys_enter, raw_tp/sys_exit; user space
 *   loads one form (agent/capture/socket_hooks.h says which and why)
 * raw_tp/sched_process_exit   untracks every socket of an exiting process
 *
 * Which processes: the `targets` map of bpf/syscalls.bpf.c, shared through
 * bpf_map__reuse_fd, so target matching lives in one place. What is tracked,
 * record layouts and limits: sockets.h.
 *
 * Cost for everyone else: on the followed calls one hash lookup of the tgid
 * that misses at entry, one task-storage lookup that misses at exit; on the
 * others nothing with the per-call tracepoints, a switch on the syscall
 * number and the exit's task-storage lookup with the raw tracepoints. Processes
 * with tracked sockets pay one more lookup of (tgid, fd) per
 * read/write-family call on other fds.
 */
#include "vmlinux.h"

#include <asm/unistd_64.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sockets.h"

char LICENSE[] SEC("license") = "GPL";

/* Not in vmlinux.h (macros). */
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define MSG_PEEK 2
#define EINPROGRESS 115
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* ---- settings (rodata, written by user space before load) ---------------- */

/* ABI of the records this object emits; user space checks it after load. */
const volatile __u32 abi_version = SOCKETS_ABI_VERSION;
/* Payload bytes copied per DATA record, at most SOCKETS_CAPTURE_MAX. */
const volatile __u32 capture_bytes = SOCKETS_CAPTURE_DEFAULT;

/* ---- maps ---------------------------------------------------------------- */

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, SOCKETS_RINGBUF_BYTES);
} sock_events SEC(".maps");

/* The syscalls program's traced processes (tgid -> 1); user space replaces
 * this definition with that map (bpf_map__reuse_fd), so it must match it:
 * type, key, value and size. Read only here. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, __u8);
} targets SEC(".maps");

/* Tracked sockets: (tgid, fd) -> connection id. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SOCKETS_TABLE_MAX);
  __type(key, struct sockets_key);
  __type(value, struct sockets_conn);
} socks SEC(".maps");

/* Processes that have had a tracked socket (tgid -> 1): only their exit
 * walks `socks`. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SOCKETS_PROCS_MAX);
  __type(key, __u32);
  __type(value, __u8);
} sock_procs SEC(".maps");

/* Socket call in flight per thread (see struct sockets_pending). */
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct sockets_pending);
} sock_pending SEC(".maps");

/* Where a DATA record is assembled before bpf_ringbuf_output() sends exactly
 * its used length. One slot per CPU (indexed by CPU number; user space sizes
 * the map to the possible CPUs). Twice SOCKETS_CAPTURE_MAX of payload room so
 * "offset masked to MAX-1 plus a chunk of at most MAX" stays inside, which is
 * what the verifier checks; larger than a per-CPU array value may be. */
#define PAYLOAD_OFF sizeof(struct sockets_data_record)
struct scratch_buf {
  __u8 buf[sizeof(struct sockets_data_record) + 2 * SOCKETS_CAPTURE_MAX];
};
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct scratch_buf);
} sock_scratch SEC(".maps");

/* Lost data, per CPU, by enum sockets_drop_reason. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SOCKETS_DROP_REASONS);
  __type(key, __u32);
  __type(value, __u64);
} sock_drops SEC(".maps");

/* ---- helpers -------------------------------------------------------------- */

static __always_inline void drops__add(__u32 reason) {
  __u64 *n = bpf_map_lookup_elem(&sock_drops, &reason);
  if (n) *n += 1;
}

/* A connection id unique since boot without a shared counter: the
 * monotonic clock (one program run takes far longer than 1 ns, so two ids
 * from one CPU never share a timestamp) with the CPU number below it. */
static __always_inline __u64 conn__new_id(__u64 now) {
  return (now << 8) | (bpf_get_smp_processor_id() & 0xff);
}

/* The struct sock behind `fd` of the current process when it is an
 * AF_INET/AF_INET6 SOCK_STREAM socket; 0 otherwise. */
static __always_inline struct sock *sock__of_fd(int fd, __u8 *family) {
  struct task_struct *task = bpf_get_current_task_btf();
  struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
  if (!fdt || fd < 0) return 0;
  unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
  if ((unsigned int)fd >= max_fds) return 0;
  struct file **fds = BPF_CORE_READ(fdt, fd);
  struct file *f = 0;
  if (bpf_probe_read_kernel(&f, sizeof(f), fds + fd) != 0 || !f) return 0;
  umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
  if ((mode & S_IFMT) != S_IFSOCK) return 0;
  struct socket *sock = BPF_CORE_READ(f, private_data);
  if (!sock || BPF_CORE_READ(sock, type) != SOCK_STREAM) return 0;
  struct sock *sk = BPF_CORE_READ(sock, sk);
  if (!sk) return 0;
  __u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
  if (fam != AF_INET && fam != AF_INET6) return 0;
  *family = fam;
  return sk;
}

static __always_inline void close__emit(__u64 pid_tgid, int nr, int fd, __u64 conn_id,
                                        __u8 reason, __u64 ts) {
  struct sockets_close_record *r = bpf_ringbuf_reserve(&sock_events, sizeof(*r), 0);
  if (!r) {
    drops__add(SOCKETS_DROP_RINGBUF);
    return;
  }
  __builtin_memset(r, 0, sizeof(*r));
  r->hdr.type = SOCKETS_REC_CLOSE;
  r->hdr.size = sizeof(*r);
  r->hdr.nr = nr;
  r->hdr.tgid = pid_tgid >> 32;
  r->hdr.tid = (__u32)pid_tgid;
  r->conn_id = conn_id;
  r->ts_ns = ts;
  r->fd = fd;
  r->reason = reason;
  bpf_ringbuf_submit(r, 0);
}

/* connect/accept returned `fd`: track it if it is a TCP-like inet socket
 * and report both ends. */
static __always_inline void conn__open(__u64 pid_tgid, int nr, int fd, __u8 role, __u64 now) {
  __u8 family = 0;
  struct sock *sk = sock__of_fd(fd, &family);
  if (!sk) return;

  struct sockets_key key = {.tgid = pid_tgid >> 32, .fd = fd};
  struct sockets_conn *old = bpf_map_lookup_elem(&socks, &key);
  if (old) close__emit(pid_tgid, nr, fd, old->conn_id, SOCKETS_CLOSE_REPLACED, now);
  struct sockets_conn c = {.conn_id = conn__new_id(now)};
  if (bpf_map_update_elem(&socks, &key, &c, BPF_ANY) != 0) {
    drops__add(SOCKETS_DROP_TABLE_FULL);
    return;
  }
  __u8 one = 1;
  if (bpf_map_update_elem(&sock_procs, &key.tgid, &one, BPF_ANY) != 0) {
    /* Without the process entry its exit would not clean up: don't track. */
    bpf_map_delete_elem(&socks, &key);
    drops__add(SOCKETS_DROP_TABLE_FULL);
    return;
  }

  struct sockets_open_record *r = bpf_ringbuf_reserve(&sock_events, sizeof(*r), 0);
  if (!r) {
    drops__add(SOCKETS_DROP_RINGBUF);
    return;
  }
  __builtin_memset(r, 0, sizeof(*r));
  r->hdr.type = SOCKETS_REC_OPEN;
  r->hdr.size = sizeof(*r);
  r->hdr.nr = nr;
  r->hdr.tgid = key.tgid;
  r->hdr.tid = (__u32)pid_tgid;
  r->conn_id = c.conn_id;
  r->ts_ns = now;
  r->fd = fd;
  r->role = role;
  r->family = family;
  r->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
  r->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
  if (family == AF_INET) {
    __u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    __u32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
    __builtin_memcpy(r->local_addr, &l, 4);
    __builtin_memcpy(r->remote_addr, &d, 4);
  } else {
    BPF_CORE_READ_INTO(&r->local_addr, sk, __sk_common.skc_v6_rcv_saddr);
    BPF_CORE_READ_INTO(&r->remote_addr, sk, __sk_common.skc_v6_daddr);
  }
  bpf_ringbuf_submit(r, 0);
}

/* close(fd) returned: untrack it (unless the fd was tracked anew meanwhile
 * by another thread) and report. The fd is released whatever close returns. */
static __always_inline void conn__close(__u64 pid_tgid, int nr, int fd, __u64 conn_id,
                                        __u64 now) {
  struct sockets_key key = {.tgid = pid_tgid >> 32, .fd = fd};
  struct sockets_conn *c = bpf_map_lookup_elem(&socks, &key);
  if (c && c->conn_id == conn_id) bpf_map_delete_elem(&socks, &key);
  close__emit(pid_tgid, nr, fd, conn_id, SOCKETS_CLOSE_SYSCALL, now);
}

/* Copies `want` (<= SOCKETS_CAPTURE_MAX) bytes from the iovec array `iov`
 * of `cnt` entries to `dst`; returns the bytes copied. */
static __always_inline __u32 data__copy_iov(__u8 *dst, const struct iovec *iov, __u64 cnt,
                                            __u32 want, __u8 *flags) {
  __u32 off = 0;
  int i;
  for (i = 0; i < SOCKETS_MAX_IOV; i++) {
    if (i >= cnt || off >= want) break;
    struct iovec v;
    if (bpf_probe_read_user(&v, sizeof(v), iov + i) != 0) {
      *flags |= SOCKETS_F_COPY_FAILED;
      return off;
    }
    __u64 n = v.iov_len;
    if (n > want - off) n = want - off;
    /* 64-bit, so the compiler bounds-checks the very register it passes. */
    __u64 len = n;
    __u64 o = off;
    barrier_var(o);
    o &= SOCKETS_CAPTURE_MAX - 1;
    barrier_var(len);
    /* Never true (len <= want - off); a branch on the register the helper
     * gets is what bounds it for the verifier. */
    if (len > SOCKETS_CAPTURE_MAX) return off;
    if (len && bpf_probe_read_user(dst + o, len, v.iov_base) != 0) {
      *flags |= SOCKETS_F_COPY_FAILED;
      return off;
    }
    off += len;
  }
  if (off < want && i == SOCKETS_MAX_IOV && cnt > SOCKETS_MAX_IOV) *flags |= SOCKETS_F_IOV_LIMIT;
  return off;
}

/* A data call on a tracked socket returned ret > 0: emit its DATA record. */
static __always_inline void data__emit(__u64 pid_tgid, const struct sockets_pending *p, long ret,
                                       __u64 now) {
  __u32 cpu = bpf_get_smp_processor_id();
  struct scratch_buf *s = bpf_map_lookup_elem(&sock_scratch, &cpu);
  if (!s) {
    drops__add(SOCKETS_DROP_RINGBUF);
    return;
  }
  struct sockets_data_record *r = (void *)s->buf;
  __builtin_memset(r, 0, sizeof(*r));
  int nr = p->nr;
  r->hdr.type = SOCKETS_REC_DATA;
  r->hdr.nr = nr;
  r->hdr.tgid = pid_tgid >> 32;
  r->hdr.tid = (__u32)pid_tgid;
  r->conn_id = p->conn_id;
  r->start_ns = p->start_ns;
  r->end_ns = now;
  r->length = ret;
  r->fd = p->fd;

  __u64 want = ret;
  if (want > capture_bytes) want = capture_bytes;
  if (want > SOCKETS_CAPTURE_MAX) want = SOCKETS_CAPTURE_MAX;
  __u8 flags = 0;
  __u32 captured = 0;
  __u8 *dst = s->buf + PAYLOAD_OFF;
  switch (nr) {
    case __NR_read:
    case __NR_recvfrom:
    case __NR_write:
    case __NR_sendto: {
      __u64 len = want;
      barrier_var(len);
      if (len > SOCKETS_CAPTURE_MAX) return; /* never; bounds len for the verifier */
      if (len && bpf_probe_read_user(dst, len, (const void *)p->buf) != 0) {
        flags |= SOCKETS_F_COPY_FAILED;
      } else {
        captured = len;
      }
      break;
    }
    case __NR_readv:
    case __NR_writev:
      captured = data__copy_iov(dst, (const struct iovec *)p->buf, p->count, want, &flags);
      break;
    case __NR_recvmsg:
    case __NR_sendmsg: {
      struct user_msghdr m;
      if (bpf_probe_read_user(&m, sizeof(m), (const void *)p->buf) != 0) {
        flags |= SOCKETS_F_COPY_FAILED;
        break;
      }
      captured = data__copy_iov(dst, m.msg_iov, m.msg_iovlen, want, &flags);
      break;
    }
    default: /* sendfile: metadata only */
      break;
  }
  r->direction = (nr == __NR_read || nr == __NR_recvfrom || nr == __NR_readv ||
                  nr == __NR_recvmsg)
                     ? SOCKETS_DIR_INGRESS
                     : SOCKETS_DIR_EGRESS;
  r->hdr.flags = flags;
  r->captured = captured;
  __u64 size = PAYLOAD_OFF + captured;
  barrier_var(size);
  if (size > PAYLOAD_OFF + SOCKETS_CAPTURE_MAX) return; /* never (captured <= MAX) */
  r->hdr.size = size;
  if (bpf_ringbuf_output(&sock_events, s->buf, size, BPF_RB_NO_WAKEUP) != 0)
    drops__add(SOCKETS_DROP_RINGBUF);
}

/* ---- syscalls ------------------------------------------------------------- */

#define SOCKETS_CASE(name, tp, args) case __NR_##name:
/* True for the calls in SOCKETS_FOLLOWED_CALLS (sockets.h). */
static __always_inline int call__followed(long nr) {
  switch (nr) {
    SOCKETS_FOLLOWED_CALLS(SOCKETS_CASE)
    return 1;
    default:
      return 0;
  }
}

/* The first four arguments of a syscall being entered, as the per-call
 * tracepoints hand them over (plain loads from the record, done up front:
 * the verifier refuses loads through a ctx pointer the compiler has moved). */
struct call_args {
  __u64 a[4];
};

/* Argument `i` (0-3) of the syscall being entered: from `args`, or with
 * `raw` (a constant: raw_tp/sys_enter) from the saved user registers
 * `regs` (x86-64 passes arguments 1-4 in di, si, dx, r10), read only when
 * asked for. */
static __always_inline __u64 call__arg(const struct call_args *args, struct pt_regs *regs, int raw,
                                       int i) {
  if (!raw) return args->a[i & 3];
  switch (i) {
    case 0:
      return BPF_CORE_READ(regs, di);
    case 1:
      return BPF_CORE_READ(regs, si);
    case 2:
      return BPF_CORE_READ(regs, dx);
    default:
      return BPF_CORE_READ(regs, r10);
  }
}

/* The sys_enter half of followed call `nr` (arguments read with call__arg
 * once the process is known to matter). Stashes what sys_exit needs in the
 * thread's storage. */
static __always_inline int call__enter(long nr, const struct call_args *args,
                                       struct pt_regs *regs, int raw) {
  int opens = nr == __NR_connect || nr == __NR_accept || nr == __NR_accept4;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  /* Processes without tracked sockets (nearly all) stop at one lookup. */
  if (!bpf_map_lookup_elem(opens ? (void *)&targets : (void *)&sock_procs, &tgid)) return 0;
  struct sockets_key key = {.tgid = tgid, .fd = (int)call__arg(args, regs, raw, 0)};
  __u64 conn_id = 0;
  if (!opens) {
    /* Entries exist only for targets' sockets: no target lookup needed. */
    struct sockets_conn *c = bpf_map_lookup_elem(&socks, &key);
    if (!c) return 0;
    conn_id = c->conn_id;
  }

  struct sockets_pending fresh = {};
  fresh.nr = nr;
  fresh.fd = key.fd;
  fresh.conn_id = conn_id;
  if (!opens && nr != __NR_close) {
    fresh.buf = call__arg(args, regs, raw, 1);
    fresh.count = call__arg(args, regs, raw, 2);
    /* Peeked bytes are received again by a later call. */
    if (nr == __NR_recvfrom && (call__arg(args, regs, raw, 3) & MSG_PEEK)) return 0;
    if (nr == __NR_recvmsg && (fresh.count & MSG_PEEK)) return 0;
  }
  struct sockets_pending *p = bpf_task_storage_get(&sock_pending, bpf_get_current_task_btf(), 0,
                                                   BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!p) {
    drops__add(SOCKETS_DROP_PENDING_FULL);
    return 0;
  }
  fresh.start_ns = bpf_ktime_get_ns();
  *p = fresh;
  return 0;
}

/* The sys_exit half: the call returned `ret`. */
static __always_inline int call__exit(long ret) {
  struct sockets_pending *p =
      bpf_task_storage_get(&sock_pending, bpf_get_current_task_btf(), 0, 0);
  if (!p || p->start_ns == 0) return 0;
  struct sockets_pending call = *p;
  p->start_ns = 0;
  __u64 now = bpf_ktime_get_ns();
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  switch (call.nr) {
    case __NR_connect:
      if (ret == 0 || ret == -EINPROGRESS)
        conn__open(pid_tgid, call.nr, call.fd, SOCKETS_ROLE_CLIENT, now);
      break;
    case __NR_accept:
    case __NR_accept4:
      if (ret >= 0) conn__open(pid_tgid, call.nr, ret, SOCKETS_ROLE_SERVER, now);
      break;
    case __NR_close:
      conn__close(pid_tgid, call.nr, call.fd, call.conn_id, now);
      break;
    default:
      if (ret > 0) data__emit(pid_tgid, &call, ret, now);
      break;
  }
  return 0;
}

/* Two attachments of the same halves; user space loads one of them
 * (agent/capture/socket_hooks.h):
 *
 * 1. The classic syscalls:sys_enter_X / sys_exit_X tracepoints of the
 *    followed calls only, so other syscalls run no program at all
 *    (BENCHMARKS.md, hook floors). One program per direction, attached by
 *    user space to each call's tracepoint (the section names one of them):
 *    the verifier checks each body once, not once per call. A sys_exit
 *    program only finishes what its sys_enter stashed. Needs tracefs (the
 *    tracepoints' ids), which a container or `ip netns exec` may not have
 *    mounted. */
/* The kernel refuses to attach a program whose ctx loads reach past the
 * end of a call's record, so there is one enter program per number of
 * arguments read (SOCKETS_FOLLOWED_CALLS says which call gets which). */
#define SOCKETS_TP_ENTER(n, call, a1, a2, a3)                                  \
  SEC("tp/syscalls/sys_enter_" #call)                                         \
  int sockets_tp_enter##n(struct trace_event_raw_sys_enter *ctx) {            \
    long nr = ctx->id;                                                        \
    if (!call__followed(nr)) return 0; /* attached to another call */         \
    struct call_args args = {{ctx->args[0], a1, a2, a3}};                     \
    return call__enter(nr, &args, 0, 0);                                      \
  }
SOCKETS_TP_ENTER(1, close, 0, 0, 0)
SOCKETS_TP_ENTER(3, read, ctx->args[1], ctx->args[2], 0)
SOCKETS_TP_ENTER(4, recvfrom, ctx->args[1], ctx->args[2], ctx->args[3])

SEC("tp/syscalls/sys_exit_read")
int sockets_tp_exit(struct trace_event_raw_sys_exit *ctx) { return call__exit(ctx->ret); }

/* 2. Without tracefs: raw_tp/sys_enter and raw_tp/sys_exit, which run on
 *    every syscall of the machine; sys_enter switches on the number first. */
SEC("raw_tp/sys_enter")
int sockets_sys_enter(struct bpf_raw_tracepoint_args *ctx) {
  long nr = ctx->args[1];
  if (!call__followed(nr)) return 0;
  return call__enter(nr, 0, (struct pt_regs *)ctx->args[0], 1);
}

SEC("raw_tp/sys_exit")
int sockets_sys_exit(struct bpf_raw_tracepoint_args *ctx) { return call__exit(ctx->args[1]); }

/* ---- process exit --------------------------------------------------------- */

struct exit_walk {
  __u64 pid_tgid;
  __u64 ts;
};

static long exit__close_one(struct bpf_map *map, struct sockets_key *key,
                            struct sockets_conn *conn, struct exit_walk *w) {
  if (key->tgid != (__u32)(w->pid_tgid >> 32)) return 0;
  close__emit(w->pid_tgid, 0, key->fd, conn->conn_id, SOCKETS_CLOSE_EXIT, w->ts);
  bpf_map_delete_elem(map, key);
  return 0;
}

SEC("raw_tp/sched_process_exit")
int sockets_process_exit(struct bpf_raw_tracepoint_args *ctx) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  if (!bpf_map_lookup_elem(&sock_procs, &tgid)) return 0;
  /* Once per process, when its last thread goes. */
  struct task_struct *task = (struct task_struct *)ctx->args[0];
  if (BPF_CORE_READ(task, signal, live.counter) != 0) return 0;
  struct exit_walk w = {.pid_tgid = pid_tgid, .ts = bpf_ktime_get_ns()};
  bpf_for_each_map_elem(&socks, exit__close_one, &w, 0);
  bpf_map_delete_elem(&sock_procs, &tgid);
  return 0;
}
