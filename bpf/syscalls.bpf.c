// SPDX-License-Identifier: GPL-2.0
/* Syscall capture for traced processes (strace-like), CO-RE with libbpf.
 *
 * tp_btf/sys_enter   filter (traced tgid bit, then the syscall bitmap), then
 *                    one store: the start time in the thread's `inflight`
 *                    slot (execve/execveat also keep their arguments)
 * tp_btf/sys_exit    the thread's slot says whether a traced call is in
 *                    flight; then one record per completed syscall, the
 *                    arguments read from the saved user registers, or an
 *                    addition to the per-syscall totals in stats mode
 * raw_tp/sched_process_{fork,exec,exit}   process lifecycle of targets
 *
 * Targets: pids user space adds, their forks (follow_forks), and processes
 * the kernel admits itself: every process (trace_all), those in a target
 * cgroup (at their first syscall) and those exec'ing a target comm (at
 * sched_process_exec, before the exec returns). See syscalls.h.
 *
 * Record layouts and constants: syscalls.h. Run-time settings are the
 * `const volatile` globals below, set by user space before load.
 */
#include "vmlinux.h"

#include <asm/unistd_64.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "syscalls.h"

char LICENSE[] SEC("license") = "GPL";

/* ---- settings (rodata, written by user space before load) ---------------- */

/* ABI of the records this object emits; user space checks it after load. */
const volatile __u32 abi_version = SYSCALLS_ABI_VERSION;
/* Add children of traced processes to `targets` at fork. */
const volatile __u8 follow_forks = 0;
/* Aggregate into `totals` instead of emitting syscall records. */
const volatile __u8 stats_only = 0;
/* Apply syscall_filter (otherwise every syscall is traced). */
const volatile __u8 filter_enabled = 0;
/* Syscalls that took at most this long (ns) are neither emitted nor counted;
 * 0 disables the threshold. */
const volatile __u64 min_duration_ns = 0;
/* Bit nr set: syscall nr is traced (when filter_enabled). */
const volatile __u64 syscall_filter[SYSCALLS_FILTER_WORDS] = {};
/* Never admitted by trace_all, cgroup or comm matching (the agent itself);
 * 0: none. Pids added to `targets` by user space are traced regardless. */
const volatile __u32 exclude_tgid = 0;

/* ---- run-time switches (.bss, written by user space after load) ---------- *
 * Plain globals, read on every check, so a change takes effect at the next
 * event. All zero: only the pids in `traced_tgids` (and their followed
 * forks) are traced, and an untraced thread's sys_enter costs one bit test. */

/* Traced processes, one bit per tgid (see SYSCALLS_TGID_WORDS): the first
 * check of every sys_enter, a plain load. */
__u64 traced_tgids[SYSCALLS_TGID_WORDS] = {};
/* Nonzero: every process except exclude_tgid is traced. */
__u32 trace_all = 0;
/* Nonzero: `comm_targets` is consulted at sched_process_exec. */
__u32 comm_targets_on = 0;
/* Bit l set: some key of `cgroup_targets` sits at cgroup v2 level l
 * (root = 0); a process's ancestor at that level is looked up. 0: no cgroup
 * targets, `cgroup_targets` is never consulted. */
__u64 cgroup_target_levels = 0;

/* ---- maps ---------------------------------------------------------------- */

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, SYSCALLS_RINGBUF_BYTES);
} events SEC(".maps");

/* Traced processes: tgid -> 1. Written by user space (AddTarget) and by the
 * fork/exit hooks. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, __u8);
} targets SEC(".maps");

/* Comm targets: NUL-padded task comm (16 bytes) -> 1. Written by user space
 * (AddCommTarget); matched at sched_process_exec against the new comm. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SYSCALLS_COMM_TARGETS_MAX);
  __type(key, char[16]);
  __type(value, __u8);
} comm_targets SEC(".maps");

/* Cgroup targets: cgroup v2 id (kernfs inode number) -> 1. Written by user
 * space (AddCgroupTarget). A process in the cgroup or below it matches. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, SYSCALLS_CGROUP_TARGETS_MAX);
  __type(key, __u64);
  __type(value, __u8);
} cgroup_targets SEC(".maps");

/* Why a process was admitted by the kernel: tgid -> struct
 * syscalls_admission. Written by K, read and deleted by user space; LRU so
 * entries user space never asks about cannot fill it. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, SYSCALLS_ADMISSIONS_MAX);
  __type(key, __u32);
  __type(value, struct syscalls_admission);
} admissions SEC(".maps");

/* Syscall in flight per thread: tid -> sys_enter time (ns; 0: none). An
 * array: the lookup is inlined, no hashing, no helper call. Sized by user
 * space to pid_max before load. A slot is set only at a traced sys_enter and
 * cleared at its sys_exit, at fork (the new task's id) and at a traced
 * thread's exit. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, SYSCALLS_INFLIGHT_DEFAULT);
  __type(key, __u32);
  __type(value, __u64);
} inflight SEC(".maps");

/* Register arguments of an execve/execveat in flight (the new image clears
 * the registers before sys_exit): tid -> args, written at sys_enter,
 * deleted at sys_exit. */
struct exec_args {
  __u64 args[6];
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, struct exec_args);
} exec_args SEC(".maps");

/* Filename + argv blobs of a successful execve/execveat, assembled at
 * sched_process_exec and sent with the syscall record at sys_exit:
 * tid -> {u32 len, u32 pad, blobs}.
 *
 * Why not at sys_enter: the caller's address space is gone by sys_exit, and at
 * sys_enter the strings may sit in pages not yet faulted in (a forked child's
 * .rodata), which a non-sleepable program cannot read. At sched_process_exec
 * the kernel has copied filename (bprm->filename, kernel memory) and argv
 * (the new stack, mm->arg_start..arg_end, resident) for us. */
#define EXEC_STASH_BYTES 1024
struct exec_stash {
  __u32 len;
  __u32 pad;
  __u8 data[EXEC_STASH_BYTES - 8];
};
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, struct exec_stash);
} exec_stash SEC(".maps");

/* Per-CPU scratch where blob-carrying records are assembled. Twice the
 * largest record so that "offset masked to 1023 + one blob" stays inside the
 * value, which is what the verifier checks. */
#define SCRATCH_BYTES 2048
#define OFF_MASK (SYSCALLS_MAX_RECORD_BYTES - 1)
struct scratch {
  __u8 buf[SCRATCH_BYTES];
};
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct scratch);
} scratch SEC(".maps");

/* Lost data, per CPU, by enum syscalls_drop_reason. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SYSCALLS_DROP_REASONS);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps");

/* Stats mode: per-CPU totals indexed by syscall number. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SYSCALLS_MAX_NR);
  __type(key, __u32);
  __type(value, struct syscalls_totals);
} totals SEC(".maps");

/* ---- which argument payloads to capture, per syscall ---------------------- */

enum len_mode {
  LEN_NONE = 0, /* no blob */
  LEN_STR,      /* NUL-terminated path, up to SYSCALLS_PATH_CAP */
  LEN_ARG,      /* length in args[len_arg] */
  LEN_RET,      /* length is the return value (when > 0) */
  LEN_PTR,      /* length is the u32 at user pointer args[len_arg] (ret >= 0) */
};

struct blob_spec {
  __u8 mode;    /* enum len_mode */
  __u8 arg;     /* argument holding the user pointer */
  __u8 kind;    /* enum syscalls_blob_kind */
  __u8 len_arg; /* LEN_ARG / LEN_PTR: argument holding the length */
};

struct capture_spec {
  struct blob_spec blob[2];
};

#define PATH(a) {LEN_STR, a, SYSCALLS_BLOB_STRING, 0}
#define DATA_ARG(a, l) {LEN_ARG, a, SYSCALLS_BLOB_BYTES, l}
#define DATA_RET(a) {LEN_RET, a, SYSCALLS_BLOB_BYTES, 0}
#define ADDR_ARG(a, l) {LEN_ARG, a, SYSCALLS_BLOB_SOCKADDR, l}
#define ADDR_PTR(a, l) {LEN_PTR, a, SYSCALLS_BLOB_SOCKADDR, l}

/* execve/execveat are handled separately: exec__stash at sched_process_exec
 * when they succeed, blob__argv at sys_exit when they fail. */
static const struct capture_spec capture_specs[SYSCALLS_MAX_NR] = {
    [__NR_read] = {{DATA_RET(1)}},
    [__NR_pread64] = {{DATA_RET(1)}},
    [__NR_write] = {{DATA_ARG(1, 2)}},
    [__NR_pwrite64] = {{DATA_ARG(1, 2)}},
    [__NR_open] = {{PATH(0)}},
    [__NR_openat] = {{PATH(1)}},
    [__NR_openat2] = {{PATH(1)}},
    [__NR_creat] = {{PATH(0)}},
    [__NR_stat] = {{PATH(0)}},
    [__NR_lstat] = {{PATH(0)}},
    [__NR_newfstatat] = {{PATH(1)}},
    [__NR_statx] = {{PATH(1)}},
    [__NR_access] = {{PATH(0)}},
    [__NR_faccessat] = {{PATH(1)}},
    [__NR_faccessat2] = {{PATH(1)}},
    [__NR_readlink] = {{PATH(0)}},
    [__NR_readlinkat] = {{PATH(1)}},
    [__NR_chdir] = {{PATH(0)}},
    [__NR_mkdir] = {{PATH(0)}},
    [__NR_mkdirat] = {{PATH(1)}},
    [__NR_rmdir] = {{PATH(0)}},
    [__NR_unlink] = {{PATH(0)}},
    [__NR_unlinkat] = {{PATH(1)}},
    [__NR_chmod] = {{PATH(0)}},
    [__NR_fchmodat] = {{PATH(1)}},
    [__NR_chown] = {{PATH(0)}},
    [__NR_lchown] = {{PATH(0)}},
    [__NR_fchownat] = {{PATH(1)}},
    [__NR_truncate] = {{PATH(0)}},
    [__NR_utimensat] = {{PATH(1)}},
    [__NR_rename] = {{PATH(0), PATH(1)}},
    [__NR_renameat] = {{PATH(1), PATH(3)}},
    [__NR_renameat2] = {{PATH(1), PATH(3)}},
    [__NR_link] = {{PATH(0), PATH(1)}},
    [__NR_linkat] = {{PATH(1), PATH(3)}},
    [__NR_symlink] = {{PATH(0), PATH(1)}},
    [__NR_symlinkat] = {{PATH(0), PATH(2)}},
    [__NR_connect] = {{ADDR_ARG(1, 2)}},
    [__NR_bind] = {{ADDR_ARG(1, 2)}},
    [__NR_accept] = {{ADDR_PTR(1, 2)}},
    [__NR_accept4] = {{ADDR_PTR(1, 2)}},
    [__NR_sendto] = {{DATA_ARG(1, 2), ADDR_ARG(4, 5)}},
    [__NR_recvfrom] = {{DATA_RET(1), ADDR_PTR(4, 5)}},
};

/* ---- helpers -------------------------------------------------------------- */

static __always_inline void drops__add(__u32 reason) {
  __u64 *n = bpf_map_lookup_elem(&drops, &reason);
  if (n) *n += 1;
}

static __always_inline int filter__selected(long nr) {
  if (!filter_enabled) return 1;
  if (nr < 0 || nr >= SYSCALLS_MAX_NR) return 0;
  return (syscall_filter[(nr >> 6) & (SYSCALLS_FILTER_WORDS - 1)] >> (nr & 63)) & 1;
}

static __always_inline int syscall__is_error(long ret) { return ret < 0 && ret >= -4095; }

static __always_inline void totals__add(long nr, long ret, __u64 duration_ns) {
  if (nr < 0 || nr >= SYSCALLS_MAX_NR) return;
  __u32 key = nr;
  struct syscalls_totals *t = bpf_map_lookup_elem(&totals, &key);
  if (!t) return;
  t->calls += 1;
  if (syscall__is_error(ret)) t->errors += 1;
  t->total_ns += duration_ns;
}

static __always_inline void record__fill(struct syscalls_syscall_record *r, __u64 pid_tgid,
                                         long nr, const __u64 *args, __u64 start_ns,
                                         __u64 duration_ns, long ret, __u8 flags) {
  r->hdr.type = SYSCALLS_REC_SYSCALL;
  r->hdr.flags = flags;
  r->hdr.size = sizeof(*r);
  r->hdr.nr = nr;
  r->hdr.tgid = pid_tgid >> 32;
  r->hdr.tid = (__u32)pid_tgid;
  r->start_ns = start_ns;
  r->duration_ns = duration_ns;
  r->ret = ret;
#pragma unroll
  for (int i = 0; i < 6; i++) r->args[i] = args[i];
}

/* Emits a record without blobs straight into the ring buffer. */
static __always_inline void record__emit_plain(__u64 pid_tgid, long nr, const __u64 *args,
                                               __u64 start_ns, __u64 duration_ns, long ret,
                                               __u8 flags) {
  struct syscalls_syscall_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    drops__add(SYSCALLS_DROP_RINGBUF);
    return;
  }
  record__fill(r, pid_tgid, nr, args, start_ns, duration_ns, ret, flags);
  bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
}

/* A syscall record with one data blob, reserved at its largest in the ring
 * buffer and filled in place (read/write and friends: the hottest blob path,
 * so no scratch copy). hdr.size says how much of it is used. */
struct data_record {
  struct syscalls_syscall_record r;
  struct syscalls_blob h;
  __u8 data[SYSCALLS_DATA_CAP];
};

static __always_inline void record__emit_data(__u64 pid_tgid, long nr, const __u64 *args,
                                              __u64 start_ns, __u64 duration_ns, long ret,
                                              const struct blob_spec *s) {
  struct data_record *d = bpf_ringbuf_reserve(&events, sizeof(*d), 0);
  if (!d) {
    drops__add(SYSCALLS_DROP_RINGBUF);
    return;
  }
  record__fill(&d->r, pid_tgid, nr, args, start_ns, duration_ns, ret, 0);
  __u8 mode = s->mode;
  __u8 arg = s->arg;
  __u8 len_arg = s->len_arg;
  __u64 want = 0;
  int ok = arg <= 5 && len_arg <= 5 && args[arg & 7] != 0;
  if (ok && mode == LEN_ARG) {
    want = args[len_arg & 7];
  } else if (ok && mode == LEN_RET && ret > 0) {
    want = ret;
  } else {
    ok = 0;
  }
  if (ok) {
    __u8 flags = 0;
    if (want > SYSCALLS_DATA_CAP) {
      want = SYSCALLS_DATA_CAP;
      flags = SYSCALLS_BLOB_F_TRUNCATED;
    }
    __u32 len = want;
    barrier_var(len);
    len &= 2 * SYSCALLS_DATA_CAP - 1;
    if (len <= SYSCALLS_DATA_CAP &&
        bpf_probe_read_user(d->data, len, (const void *)args[arg & 7]) == 0) {
      d->h.arg_index = arg;
      d->h.kind = SYSCALLS_BLOB_BYTES;
      d->h.flags = flags;
      d->h.reserved = 0;
      d->h.len = len;
      d->r.hdr.size = sizeof(d->r) + sizeof(d->h) + len;
    }
  }
  bpf_ringbuf_submit(d, BPF_RB_NO_WAKEUP);
}

/* Reads the 32-bit length a syscall stored at a user pointer. */
static __always_inline long user__u32(__u64 uptr, __u32 *out) {
  if (!uptr) return -1;
  return bpf_probe_read_user(out, sizeof(*out), (const void *)uptr);
}

/* Appends one blob at buf[off]; returns the offset after it (unchanged when
 * nothing was captured). `args` are the enter-time arguments. */
static __always_inline __u32 blob__capture(__u8 *buf, __u32 off, const struct blob_spec *s,
                                           const __u64 *args, long ret) {
  __u8 mode = s->mode;
  __u8 arg = s->arg;
  __u8 kind = s->kind;
  __u8 len_arg = s->len_arg;
  if (mode == LEN_NONE || arg > 5 || len_arg > 5) return off;
  __u64 uptr = args[arg];
  if (!uptr) return off;

  off &= OFF_MASK;
  struct syscalls_blob *h = (void *)(buf + off);
  __u8 *dst = buf + off + sizeof(*h);
  __u8 flags = 0;
  __u32 len = 0;

  if (mode == LEN_STR) {
    /* Read one byte past the cap to tell "exactly cap" from "longer". */
    long n = bpf_probe_read_user_str(dst, SYSCALLS_PATH_CAP + 2, (const void *)uptr);
    if (n <= 0) return off;
    len = n - 1; /* without the NUL */
    if (len > SYSCALLS_PATH_CAP) {
      len = SYSCALLS_PATH_CAP;
      flags |= SYSCALLS_BLOB_F_TRUNCATED;
    }
  } else {
    __u64 want = 0;
    if (mode == LEN_ARG) {
      want = args[len_arg];
    } else if (mode == LEN_RET) {
      if (ret <= 0) return off;
      want = ret;
    } else if (mode == LEN_PTR) {
      __u32 n = 0;
      if (ret < 0 || user__u32(args[len_arg], &n) != 0) return off;
      want = n;
    } else {
      return off;
    }
    __u32 cap = kind == SYSCALLS_BLOB_SOCKADDR ? SYSCALLS_SOCKADDR_CAP : SYSCALLS_DATA_CAP;
    if (want > cap) {
      want = cap;
      flags |= SYSCALLS_BLOB_F_TRUNCATED;
    }
    len = want;
    barrier_var(len);
    if (len > SYSCALLS_SOCKADDR_CAP) return off;
    if (bpf_probe_read_user(dst, len, (const void *)uptr) != 0) return off;
  }
  h->arg_index = arg;
  h->kind = kind;
  h->flags = flags;
  h->reserved = 0;
  h->len = len;
  return off + sizeof(*h) + len;
}

/* Appends the argv of a failed execve (strings separated by '\0', read from
 * the caller's memory at sys_exit) at buf[off]. No blob if nothing could be
 * read. */
static __always_inline __u32 blob__argv(__u8 *buf, __u32 off, __u8 arg, __u64 argv) {
  if (!argv) return off;
  /* Only ever called right after the record and filename blob
   * (off <= 88 + 8 + 256), so this mask changes nothing but lets the
   * verifier bound the writes. */
  off &= 511;
  struct syscalls_blob *h = (void *)(buf + off);
  __u8 *dst = buf + off + sizeof(*h);
  __u32 used = 0; /* bytes so far, each string with its NUL */
  __u8 flags = 0;
#pragma unroll
  for (int i = 0; i < SYSCALLS_ARGV_MAX_ARGS; i++) {
    __u64 p = 0;
    if (bpf_probe_read_user(&p, sizeof(p), (const void *)(argv + i * sizeof(__u64))) != 0) {
      if (i == 0) return off;
      goto done;
    }
    if (!p) goto done;
    if (used >= SYSCALLS_ARGV_CAP) {
      flags |= SYSCALLS_BLOB_F_TRUNCATED;
      goto done;
    }
    /* Always a full-cap read: the scratch has room past the cap, and a
     * constant size keeps the verifier happy; overflow is cut below. */
    long n = bpf_probe_read_user_str(dst + (used & (SYSCALLS_ARGV_CAP - 1)), SYSCALLS_ARGV_CAP,
                                     (const void *)p);
    if (n <= 0) {
      if (i == 0) return off;
      goto done;
    }
    used += n;
  }
  {
    /* More strings than we read? */
    __u64 p = 0;
    if (bpf_probe_read_user(&p, sizeof(p),
                            (const void *)(argv + SYSCALLS_ARGV_MAX_ARGS * sizeof(__u64))) == 0 &&
        p)
      flags |= SYSCALLS_BLOB_F_TRUNCATED;
  }
done:
  if (used > SYSCALLS_ARGV_CAP) {
    used = SYSCALLS_ARGV_CAP; /* cut inside a string: no NUL to drop */
    flags |= SYSCALLS_BLOB_F_TRUNCATED;
  } else if (used > 0) {
    used -= 1; /* drop the last string's NUL */
  }
  h->arg_index = arg;
  h->kind = SYSCALLS_BLOB_ARGV;
  h->flags = flags;
  h->reserved = 0;
  h->len = used;
  return off + sizeof(*h) + used;
}

/* Appends a kernel string (bprm->filename) as a path blob at buf[off]. */
static __always_inline __u32 blob__kernel_path(__u8 *buf, __u32 off, __u8 arg, const char *kstr) {
  off &= OFF_MASK;
  struct syscalls_blob *h = (void *)(buf + off);
  long n = bpf_probe_read_kernel_str(buf + off + sizeof(*h), SYSCALLS_PATH_CAP + 2, kstr);
  if (n <= 0) return off;
  __u32 len = n - 1;
  __u8 flags = 0;
  if (len > SYSCALLS_PATH_CAP) {
    len = SYSCALLS_PATH_CAP;
    flags |= SYSCALLS_BLOB_F_TRUNCATED;
  }
  h->arg_index = arg;
  h->kind = SYSCALLS_BLOB_STRING;
  h->flags = flags;
  h->reserved = 0;
  h->len = len;
  return off + sizeof(*h) + len;
}

/* Appends the new image's argv (mm->arg_start..arg_end, NUL-separated as
 * execve copied it) as an argv blob at buf[off]. */
static __always_inline __u32 blob__mm_argv(__u8 *buf, __u32 off, __u8 arg,
                                           struct task_struct *task) {
  __u64 start = BPF_CORE_READ(task, mm, arg_start);
  __u64 end = BPF_CORE_READ(task, mm, arg_end);
  if (!start || end <= start) return off;
  off &= 511; /* after the filename blob: <= 8 + 8 + 256 */
  struct syscalls_blob *h = (void *)(buf + off);
  __u64 len = end - start;
  __u8 flags = 0;
  if (len > SYSCALLS_ARGV_CAP) {
    len = SYSCALLS_ARGV_CAP;
    flags |= SYSCALLS_BLOB_F_TRUNCATED;
  } else {
    len -= 1; /* the last string's NUL */
  }
  __u32 n = len;
  barrier_var(n);
  n &= 2 * SYSCALLS_ARGV_CAP - 1; /* no-op (n <= cap); bounds it for the verifier */
  if (bpf_probe_read_user(buf + off + sizeof(*h), n, (const void *)start) != 0) return off;
  h->arg_index = arg;
  h->kind = SYSCALLS_BLOB_ARGV;
  h->flags = flags;
  h->reserved = 0;
  h->len = n;
  return off + sizeof(*h) + n;
}

/* sched_process_exec of a traced execve/execveat: keep its blobs for
 * sys_exit. `nr` is the in-flight syscall (from the saved orig_ax). */
static __always_inline void exec__stash(__u32 tid, long nr, const char *filename) {
  __u32 zero = 0;
  struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
  if (!s) return;
  __u8 file_arg = nr == __NR_execveat ? 1 : 0;
  struct task_struct *task = (struct task_struct *)bpf_get_current_task();
  __u32 off = blob__kernel_path(s->buf, 8, file_arg, filename);
  off = blob__mm_argv(s->buf, off, file_arg + 1, task);
  *(__u32 *)s->buf = off - 8;
  if (bpf_map_update_elem(&exec_stash, &tid, s->buf, BPF_ANY) != 0)
    drops__add(SYSCALLS_DROP_EXEC_STASH);
}

/* ---- kernel-side target matching ------------------------------------------ */

static __always_inline int tgid__traced(__u32 tgid) {
  return (traced_tgids[(tgid >> 6) & (SYSCALLS_TGID_WORDS - 1)] >> (tgid & 63)) & 1;
}

/* Sets or clears tgid's bit (atomic: other CPUs and user space write the
 * same words). tgid must be < SYSCALLS_TGID_LIMIT. */
static __always_inline void tgid__mark(__u32 tgid, int traced) {
  __u64 *w = &traced_tgids[(tgid >> 6) & (SYSCALLS_TGID_WORDS - 1)];
  __u64 bit = 1ull << (tgid & 63);
  if (traced)
    __sync_fetch_and_or(w, bit);
  else
    __sync_fetch_and_and(w, ~bit);
}

/* Adds tgid to both target sets; 0 when it could not be added (counted). */
static __always_inline int target__insert(__u32 tgid) {
  __u8 one = 1;
  if (tgid >= SYSCALLS_TGID_LIMIT || bpf_map_update_elem(&targets, &tgid, &one, BPF_ANY) != 0) {
    drops__add(SYSCALLS_DROP_TARGETS_FULL);
    return 0;
  }
  tgid__mark(tgid, 1);
  return 1;
}

/* Adds the current process to the targets and records why. Returns 1 when
 * it is now a target. */
static __always_inline int target__add(__u32 tgid, __u32 reason, __u64 cgroup_id) {
  if (!target__insert(tgid)) return 0;
  struct syscalls_admission a = {};
  a.cgroup_id = cgroup_id;
  a.reason = reason;
  bpf_get_current_comm(a.comm, sizeof(a.comm));
  bpf_map_update_elem(&admissions, &tgid, &a, BPF_ANY);
  return 1;
}

/* The key of `cgroup_targets` the current task's cgroup is, or lies below;
 * 0 if none. One helper call and one lookup per level in use. */
static __always_inline __u64 cgroup__matching_target(void) {
  __u64 levels = cgroup_target_levels;
  for (int l = 0; l <= SYSCALLS_CGROUP_MAX_LEVEL; l++) {
    if (!(levels >> l)) break;
    if (!((levels >> l) & 1)) continue;
    __u64 id = bpf_get_current_ancestor_cgroup_id(l);
    if (!id) break; /* the task sits above level l */
    if (bpf_map_lookup_elem(&cgroup_targets, &id)) return id;
  }
  return 0;
}

/* First selected sys_enter of a process that is not a target, with
 * trace_all or a cgroup target in force: admits the process if it matches.
 * A cgroup match is preferred over trace_all so that the admission names
 * the more specific target. */
static __always_inline int target__admit_at_enter(__u32 tgid) {
  if (tgid == exclude_tgid) return 0;
  if (cgroup_target_levels) {
    __u64 id = cgroup__matching_target();
    if (id) return target__add(tgid, SYSCALLS_ADMIT_CGROUP, id);
  }
  if (trace_all) return target__add(tgid, SYSCALLS_ADMIT_TRACE_ALL, 0);
  return 0;
}

/* ---- syscalls ------------------------------------------------------------- */

/* The x86-64 syscall arguments as the entry code saved them in the user
 * register frame (rdi rsi rdx r10 r8 r9). The kernel leaves them there until
 * the return to user space for every syscall but execve/execveat (the new
 * image starts with cleared registers) and rt_sigreturn (restores the
 * interrupted frame; it takes no arguments). */
static __always_inline void regs__args(const struct pt_regs *regs, __u64 *args) {
  args[0] = regs->di;
  args[1] = regs->si;
  args[2] = regs->dx;
  args[3] = regs->r10;
  args[4] = regs->r8;
  args[5] = regs->r9;
}

static __always_inline int syscall__is_exec(long nr) {
  return nr == __NR_execve || nr == __NR_execveat;
}

/* An `inflight` slot: the sys_enter time with bit 0 standing for "the call
 * is rt_sigreturn" (which restores the interrupted frame, orig_ax = -1
 * included, so sys_exit cannot read the number back); other numbers are in
 * orig_ax at sys_exit. Never 0 (the clock counts from boot). Costs the
 * start time its lowest bit (1 ns). */
#define INFLIGHT_SIGRETURN 1ull
static __always_inline __u64 inflight__value(__u64 now, long nr) {
  return (now & ~INFLIGHT_SIGRETURN) | (nr == __NR_rt_sigreturn);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(handle_sys_enter, struct pt_regs *regs, long nr) {
  struct task_struct *task = bpf_get_current_task_btf();
  __u32 tgid = task->tgid;
  if (!tgid__traced(tgid)) {
    /* The untraced case: one bit test, then two global loads. */
    if (!(trace_all | cgroup_target_levels)) return 0;
    if (!filter__selected(nr)) return 0;
    if (!target__admit_at_enter(tgid)) return 0;
  } else if (!filter__selected(nr)) {
    return 0;
  }

  if (nr == __NR_exit || nr == __NR_exit_group) {
    /* Never returns. strace -c does not count these, so neither do totals;
     * the duration threshold cannot be met by a call without a duration. */
    if (!stats_only && min_duration_ns == 0) {
      __u64 args[6];
      regs__args(regs, args);
      record__emit_plain(bpf_get_current_pid_tgid(), nr, args, bpf_ktime_get_ns(), 0, 0,
                         SYSCALLS_F_NO_RETURN);
    }
    return 0;
  }

  __u32 tid = task->pid;
  __u64 *slot = bpf_map_lookup_elem(&inflight, &tid);
  if (!slot) {
    drops__add(SYSCALLS_DROP_PENDING_FULL);
    return 0;
  }
  if (!stats_only && syscall__is_exec(nr)) {
    struct exec_args a;
    regs__args(regs, a.args);
    if (bpf_map_update_elem(&exec_args, &tid, &a, BPF_ANY) != 0)
      drops__add(SYSCALLS_DROP_EXEC_STASH);
  }
  *slot = inflight__value(bpf_ktime_get_ns(), nr);
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret) {
  /* The thread's slot is the whole filter: it is set only by a traced,
   * selected sys_enter. */
  struct task_struct *task = bpf_get_current_task_btf();
  __u32 tid = task->pid;
  __u64 *slot = bpf_map_lookup_elem(&inflight, &tid);
  if (!slot) return 0;
  __u64 v = *slot;
  if (v == 0) return 0;
  *slot = 0;

  __u64 start_ns = v & ~INFLIGHT_SIGRETURN;
  __u64 duration_ns = bpf_ktime_get_ns() - start_ns;
  long nr = (v & INFLIGHT_SIGRETURN) ? __NR_rt_sigreturn : regs->orig_ax;
  int is_exec = syscall__is_exec(nr);

  if (min_duration_ns != 0 && duration_ns <= min_duration_ns) {
    if (is_exec) {
      bpf_map_delete_elem(&exec_stash, &tid);
      bpf_map_delete_elem(&exec_args, &tid);
    }
    return 0;
  }
  if (stats_only) {
    totals__add(nr, ret, duration_ns);
    return 0;
  }

  __u64 pid_tgid = ((__u64)task->tgid << 32) | tid;
  __u64 args[6];
  if (is_exec) {
    struct exec_args *a = bpf_map_lookup_elem(&exec_args, &tid);
    if (a) {
      __builtin_memcpy(args, a->args, sizeof(args));
      bpf_map_delete_elem(&exec_args, &tid);
    } else {
      /* Admitted at exec (comm target): its sys_enter was not seen. */
      __builtin_memset(args, 0, sizeof(args));
    }
  } else {
    regs__args(regs, args);
  }

  const struct capture_spec *spec = 0;
  if (nr >= 0 && nr < SYSCALLS_MAX_NR) {
    __u32 idx = nr;
    barrier_var(idx);
    spec = &capture_specs[idx & (SYSCALLS_MAX_NR - 1)];
  }
  if (!is_exec && (!spec || spec->blob[0].mode == LEN_NONE)) {
    record__emit_plain(pid_tgid, nr, args, start_ns, duration_ns, ret, 0);
    return 0;
  }

  if (!is_exec && spec->blob[0].kind == SYSCALLS_BLOB_BYTES && spec->blob[1].mode == LEN_NONE) {
    record__emit_data(pid_tgid, nr, args, start_ns, duration_ns, ret, &spec->blob[0]);
    return 0;
  }

  /* Other blob-carrying records: assemble in the per-CPU scratch, then copy
   * (still one ring-buffer reservation). */
  __u32 zero = 0;
  struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
  if (!s) return 0;
  struct syscalls_syscall_record *r = (void *)s->buf;
  record__fill(r, pid_tgid, nr, args, start_ns, duration_ns, ret, 0);
  __u32 off = sizeof(*r);
  if (is_exec && ret != 0) {
    /* Failed exec: the caller's memory is still there, and the kernel has
     * already touched the filename. */
    __u8 file_arg = nr == __NR_execveat ? 1 : 0;
    struct blob_spec path = PATH(file_arg);
    off = blob__capture(s->buf, off, &path, args, ret);
    off = blob__argv(s->buf, off, file_arg + 1, args[file_arg + 1]);
  } else if (is_exec) {
    struct exec_stash *st = bpf_map_lookup_elem(&exec_stash, &tid);
    if (st) {
      __u32 len = st->len;
      if (len > sizeof(st->data)) len = sizeof(st->data);
      barrier_var(len);
      if (len <= sizeof(st->data)) {
        bpf_probe_read_kernel(s->buf + sizeof(*r), len, st->data);
        off += len;
      }
      bpf_map_delete_elem(&exec_stash, &tid);
    }
  } else {
    off = blob__capture(s->buf, off, &spec->blob[0], args, ret);
    off = blob__capture(s->buf, off, &spec->blob[1], args, ret);
  }
  barrier_var(off);
  off &= (SCRATCH_BYTES - 1);
  r->hdr.size = off;
  if (bpf_ringbuf_output(&events, s->buf, off, BPF_RB_NO_WAKEUP) != 0)
    drops__add(SYSCALLS_DROP_RINGBUF);
  return 0;
}

/* ---- process lifecycle ----------------------------------------------------- */

static __always_inline struct syscalls_process_record *process__reserve(__u8 type, __u32 tgid,
                                                                        __u32 tid) {
  struct syscalls_process_record *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
  if (!r) {
    drops__add(SYSCALLS_DROP_RINGBUF);
    return 0;
  }
  __builtin_memset(r, 0, sizeof(*r));
  r->hdr.type = type;
  r->hdr.size = sizeof(*r);
  r->hdr.tgid = tgid;
  r->hdr.tid = tid;
  r->ts_ns = bpf_ktime_get_ns();
  return r;
}

/* Clears a thread's in-flight slot (no write when already clear). */
static __always_inline void inflight__clear(__u32 tid) {
  __u64 *slot = bpf_map_lookup_elem(&inflight, &tid);
  if (slot && *slot) *slot = 0;
}

SEC("raw_tp/sched_process_fork")
int handle_fork(struct bpf_raw_tracepoint_args *ctx) {
  struct task_struct *parent = (struct task_struct *)ctx->args[0];
  struct task_struct *child = (struct task_struct *)ctx->args[1];
  /* A new task starts with no syscall in flight, whatever a task that had
   * its id before left behind. */
  __u32 child_tid = BPF_CORE_READ(child, pid);
  inflight__clear(child_tid);
  if (!follow_forks) return 0;
  __u32 parent_tgid = BPF_CORE_READ(parent, tgid);
  __u32 child_tgid = BPF_CORE_READ(child, tgid);
  if (parent_tgid == child_tgid) return 0; /* a new thread, already covered */
  if (!tgid__traced(parent_tgid)) return 0;

  /* Runs in the parent before the child is woken: the child's first
   * syscall already finds itself traced. */
  if (!target__insert(child_tgid)) return 0;
  struct syscalls_process_record *r = process__reserve(SYSCALLS_REC_FORK, child_tgid, child_tid);
  if (!r) return 0;
  r->parent_tgid = parent_tgid;
  bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), child->comm);
  bpf_ringbuf_submit(r, 0);
  return 0;
}

/* A non-leader thread's exec: it took over the leader's id, so what it
 * keeps per thread moves from its old id to the new one. */
static __always_inline void exec__move_thread(__u32 old_tid, __u32 tid) {
  __u64 *from = bpf_map_lookup_elem(&inflight, &old_tid);
  __u64 *to = bpf_map_lookup_elem(&inflight, &tid);
  if (from && to) {
    *to = *from;
    *from = 0;
  }
  struct exec_args *a = bpf_map_lookup_elem(&exec_args, &old_tid);
  if (a) {
    struct exec_args copy = *a;
    bpf_map_update_elem(&exec_args, &tid, &copy, BPF_ANY);
    bpf_map_delete_elem(&exec_args, &old_tid);
  }
}

SEC("raw_tp/sched_process_exec")
int handle_exec(struct bpf_raw_tracepoint_args *ctx) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  __u32 tid = (__u32)pid_tgid;
  struct task_struct *task = bpf_get_current_task_btf();
  __u64 *slot = bpf_map_lookup_elem(&inflight, &tid);
  if (!tgid__traced(tgid)) {
    /* Comm target: the new comm (set from the file name before this
     * tracepoint) is matched here, so the exec'ing call's own return and
     * everything after it are traced. */
    if (!comm_targets_on || tgid == exclude_tgid) return 0;
    char comm[16] = {};
    bpf_get_current_comm(comm, sizeof(comm));
    if (!bpf_map_lookup_elem(&comm_targets, comm)) return 0;
    if (!target__add(tgid, SYSCALLS_ADMIT_COMM, 0)) return 0;
    /* Its sys_enter was not seen: stand in for it so that sys_exit reports
     * the execve/execveat. Its argument registers were cleared by the
     * loader, so args stay 0, and start_ns is now (the duration covers
     * exec's tail only). */
    if (!slot) {
      drops__add(SYSCALLS_DROP_PENDING_FULL);
    } else {
      *slot = inflight__value(bpf_ktime_get_ns(), __NR_execve);
    }
  } else {
    __u32 old_tid = (__u32)ctx->args[1];
    if (old_tid != tid) exec__move_thread(old_tid, tid);
  }

  struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
  const char *filename = BPF_CORE_READ(bprm, filename);
  if (!stats_only && slot && *slot != 0) {
    struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
    exec__stash(tid, BPF_CORE_READ(regs, orig_ax), filename);
  }

  struct syscalls_process_record *r = process__reserve(SYSCALLS_REC_EXEC, tgid, tid);
  if (!r) return 0;
  long n = bpf_probe_read_kernel_str(r->filename, sizeof(r->filename), filename);
  if (n > 0) {
    r->filename_len = n - 1;
    /* A full buffer may mean a longer name (or exactly 255 bytes). */
    if (n == sizeof(r->filename)) r->hdr.flags |= SYSCALLS_F_FILENAME_TRUNCATED;
  }
  bpf_get_current_comm(r->comm, sizeof(r->comm));
  bpf_ringbuf_submit(r, 0);
  return 0;
}

SEC("raw_tp/sched_process_exit")
int handle_exit(struct bpf_raw_tracepoint_args *ctx) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  __u32 tid = (__u32)pid_tgid;
  if (!tgid__traced(tgid)) return 0;
  bpf_map_delete_elem(&exec_stash, &tid);
  bpf_map_delete_elem(&exec_args, &tid);
  inflight__clear(tid);

  /* Fires for every exiting thread; report the process once, when the last
   * thread goes (signal->live has already been decremented). */
  struct task_struct *task = (struct task_struct *)ctx->args[0];
  if (BPF_CORE_READ(task, signal, live.counter) != 0) return 0;
  bpf_map_delete_elem(&targets, &tgid);
  tgid__mark(tgid, 0);

  struct syscalls_process_record *r = process__reserve(SYSCALLS_REC_EXIT, tgid, tid);
  if (!r) return 0;
  r->exit_code = BPF_CORE_READ(task, exit_code);
  bpf_get_current_comm(r->comm, sizeof(r->comm));
  bpf_ringbuf_submit(r, 0);
  return 0;
}
