// SPDX-License-Identifier: GPL-2.0
/* Syscall capture for traced processes (strace-like), CO-RE with libbpf.
 *
 * raw_tp/sys_enter   saves start time and arguments per thread (targets only)
 * raw_tp/sys_exit    emits one record per completed syscall, or adds to the
 *                    per-syscall totals in stats mode
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
 * event. All zero: only the pids in `targets` (and their followed forks) are
 * traced, and an untraced thread's sys_enter costs one hash lookup. */

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

/* Syscall in flight per traced thread: task-local storage (no hashing on the
 * hot path, freed with the task, follows a thread that exec's and takes over
 * the leader's pid). Created at the first traced sys_enter of a thread and
 * rewritten in place after that. */
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct syscalls_pending);
} pending SEC(".maps");

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
 * sys_exit. `nr` is the in-flight syscall (from `pending`). */
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

/* Adds the current process to `targets` and records why. Returns 1 when it
 * is now a target. */
static __always_inline int target__add(__u32 tgid, __u32 reason, __u64 cgroup_id) {
  __u8 one = 1;
  if (bpf_map_update_elem(&targets, &tgid, &one, BPF_ANY) != 0) {
    drops__add(SYSCALLS_DROP_TARGETS_FULL);
    return 0;
  }
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

/* First sys_enter of a thread whose process is not in `targets`, with
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

/* The x86-64 syscall argument registers sit together in struct pt_regs
 * (r10 r9 r8 ax cx dx si di): the user-space register frame, fixed by the
 * ptrace ABI. The asserts tie this window to the kernel's layout. */
struct regs_window {
  __u64 r10, r9, r8, ax, cx, dx, si, di;
};
#define REGS_WINDOW_OFFSET __builtin_offsetof(struct pt_regs, r10)
_Static_assert(__builtin_offsetof(struct pt_regs, di) - REGS_WINDOW_OFFSET ==
                   __builtin_offsetof(struct regs_window, di),
               "pt_regs layout");
_Static_assert(__builtin_offsetof(struct pt_regs, r8) - REGS_WINDOW_OFFSET ==
                   __builtin_offsetof(struct regs_window, r8),
               "pt_regs layout");
_Static_assert(__builtin_offsetof(struct pt_regs, dx) - REGS_WINDOW_OFFSET ==
                   __builtin_offsetof(struct regs_window, dx),
               "pt_regs layout");

SEC("raw_tp/sys_enter")
int handle_sys_enter(struct bpf_raw_tracepoint_args *ctx) {
  long nr = ctx->args[1];
  if (!filter__selected(nr)) return 0;
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  /* A thread with `pending` storage belongs to a target (storage is created
   * only below, and targets leave the map only when all their threads are
   * gone), so traced threads skip the hash lookup. */
  struct task_struct *task = bpf_get_current_task_btf();
  struct syscalls_pending *p = bpf_task_storage_get(&pending, task, 0, 0);
  if (!p) {
    /* Common untraced case: this one lookup, then two global loads. */
    if (!bpf_map_lookup_elem(&targets, &tgid)) {
      if (!(trace_all | cgroup_target_levels)) return 0;
      if (!target__admit_at_enter(tgid)) return 0;
    }
    p = bpf_task_storage_get(&pending, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!p) {
      drops__add(SYSCALLS_DROP_PENDING_FULL);
      return 0;
    }
  }

  if (stats_only) {
    /* Totals need no arguments: skip reading the registers. */
    if (nr == __NR_exit || nr == __NR_exit_group) return 0;
    p->nr = nr;
    p->start_ns = bpf_ktime_get_ns();
    return 0;
  }

  /* One read of r10..di instead of six (hot path). */
  struct regs_window w;
  bpf_probe_read_kernel(&w, sizeof(w), (const void *)(ctx->args[0] + REGS_WINDOW_OFFSET));
  struct syscalls_pending fresh;
  fresh.args[0] = w.di;
  fresh.args[1] = w.si;
  fresh.args[2] = w.dx;
  fresh.args[3] = w.r10;
  fresh.args[4] = w.r8;
  fresh.args[5] = w.r9;
  fresh.nr = nr;
  fresh.start_ns = bpf_ktime_get_ns();

  if (nr == __NR_exit || nr == __NR_exit_group) {
    /* Never returns. strace -c does not count these, so neither do totals;
     * the duration threshold cannot be met by a call without a duration. */
    if (!stats_only && min_duration_ns == 0)
      record__emit_plain(pid_tgid, nr, fresh.args, fresh.start_ns, 0, 0, SYSCALLS_F_NO_RETURN);
    return 0;
  }

  *p = fresh;
  return 0;
}

SEC("raw_tp/sys_exit")
int handle_sys_exit(struct bpf_raw_tracepoint_args *ctx) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)pid_tgid;
  struct syscalls_pending *p = bpf_task_storage_get(&pending, bpf_get_current_task_btf(), 0, 0);
  if (!p || p->start_ns == 0) return 0; /* not traced, or no enter seen */

  __u64 now = bpf_ktime_get_ns();
  __u64 start_ns = p->start_ns;
  __u64 duration_ns = now - start_ns;
  long nr = p->nr;
  long ret = ctx->args[1];
  p->start_ns = 0;
  int is_exec = nr == __NR_execve || nr == __NR_execveat;

  if (min_duration_ns != 0 && duration_ns <= min_duration_ns) {
    if (is_exec) bpf_map_delete_elem(&exec_stash, &tid);
    return 0;
  }
  if (stats_only) {
    totals__add(nr, ret, duration_ns);
    return 0;
  }

  const struct capture_spec *spec = 0;
  if (nr >= 0 && nr < SYSCALLS_MAX_NR) {
    __u32 idx = nr;
    barrier_var(idx);
    spec = &capture_specs[idx & (SYSCALLS_MAX_NR - 1)];
  }
  if (!is_exec && (!spec || spec->blob[0].mode == LEN_NONE)) {
    record__emit_plain(pid_tgid, nr, p->args, start_ns, duration_ns, ret, 0);
    return 0;
  }

  if (!is_exec && spec->blob[0].kind == SYSCALLS_BLOB_BYTES && spec->blob[1].mode == LEN_NONE) {
    record__emit_data(pid_tgid, nr, p->args, start_ns, duration_ns, ret, &spec->blob[0]);
    return 0;
  }

  /* Other blob-carrying records: assemble in the per-CPU scratch, then copy. */
  __u32 zero = 0;
  struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);
  if (!s) return 0;
  struct syscalls_syscall_record *r = (void *)s->buf;
  record__fill(r, pid_tgid, nr, p->args, start_ns, duration_ns, ret, 0);
  __u32 off = sizeof(*r);
  if (is_exec && ret != 0) {
    /* Failed exec: the caller's memory is still there, and the kernel has
     * already touched the filename. */
    __u8 file_arg = nr == __NR_execveat ? 1 : 0;
    struct blob_spec path = PATH(file_arg);
    off = blob__capture(s->buf, off, &path, p->args, ret);
    off = blob__argv(s->buf, off, file_arg + 1, p->args[file_arg + 1]);
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
    off = blob__capture(s->buf, off, &spec->blob[0], p->args, ret);
    off = blob__capture(s->buf, off, &spec->blob[1], p->args, ret);
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

SEC("raw_tp/sched_process_fork")
int handle_fork(struct bpf_raw_tracepoint_args *ctx) {
  if (!follow_forks) return 0;
  struct task_struct *parent = (struct task_struct *)ctx->args[0];
  struct task_struct *child = (struct task_struct *)ctx->args[1];
  __u32 parent_tgid = BPF_CORE_READ(parent, tgid);
  __u32 child_tgid = BPF_CORE_READ(child, tgid);
  if (parent_tgid == child_tgid) return 0; /* a new thread, already covered */
  if (!bpf_map_lookup_elem(&targets, &parent_tgid)) return 0;

  /* Runs in the parent before the child is woken: the child's first
   * syscall already finds itself in targets. */
  __u8 one = 1;
  if (bpf_map_update_elem(&targets, &child_tgid, &one, BPF_ANY) != 0) {
    drops__add(SYSCALLS_DROP_TARGETS_FULL);
    return 0;
  }
  struct syscalls_process_record *r =
      process__reserve(SYSCALLS_REC_FORK, child_tgid, BPF_CORE_READ(child, pid));
  if (!r) return 0;
  r->parent_tgid = parent_tgid;
  bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), child->comm);
  bpf_ringbuf_submit(r, 0);
  return 0;
}

SEC("raw_tp/sched_process_exec")
int handle_exec(struct bpf_raw_tracepoint_args *ctx) {
  __u64 pid_tgid = bpf_get_current_pid_tgid();
  __u32 tgid = pid_tgid >> 32;
  __u32 tid = (__u32)pid_tgid;
  struct task_struct *task = bpf_get_current_task_btf();
  if (!bpf_map_lookup_elem(&targets, &tgid)) {
    /* Comm target: the new comm (set from the file name before this
     * tracepoint) is matched here, so the exec'ing call's own return and
     * everything after it are traced. */
    if (!comm_targets_on || tgid == exclude_tgid) return 0;
    char comm[16] = {};
    bpf_get_current_comm(comm, sizeof(comm));
    if (!bpf_map_lookup_elem(&comm_targets, comm)) return 0;
    if (!target__add(tgid, SYSCALLS_ADMIT_COMM, 0)) return 0;
    /* Its sys_enter was not seen: stand in for it so that sys_exit reports
     * the execve/execveat. The call's number is in orig_ax; its argument
     * registers were cleared by the loader, so args stay 0, and start_ns is
     * now (the duration covers exec's tail only). */
    struct syscalls_pending *np =
        bpf_task_storage_get(&pending, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!np) {
      drops__add(SYSCALLS_DROP_PENDING_FULL);
    } else {
      struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
      long nr = BPF_CORE_READ(regs, orig_ax);
      if (nr != __NR_execve && nr != __NR_execveat) nr = __NR_execve;
      __builtin_memset(np->args, 0, sizeof(np->args));
      np->nr = nr;
      np->start_ns = bpf_ktime_get_ns();
    }
  }

  struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
  const char *filename = BPF_CORE_READ(bprm, filename);
  if (!stats_only) {
    struct syscalls_pending *p = bpf_task_storage_get(&pending, task, 0, 0);
    if (p && p->start_ns != 0) exec__stash(tid, p->nr, filename);
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
  if (!bpf_map_lookup_elem(&targets, &tgid)) return 0;
  bpf_map_delete_elem(&exec_stash, &tid); /* `pending` goes with the task */

  /* Fires for every exiting thread; report the process once, when the last
   * thread goes (signal->live has already been decremented). */
  struct task_struct *task = (struct task_struct *)ctx->args[0];
  if (BPF_CORE_READ(task, signal, live.counter) != 0) return 0;
  bpf_map_delete_elem(&targets, &tgid);

  struct syscalls_process_record *r = process__reserve(SYSCALLS_REC_EXIT, tgid, tid);
  if (!r) return 0;
  r->exit_code = BPF_CORE_READ(task, exit_code);
  bpf_get_current_comm(r->comm, sizeof(r->comm));
  bpf_ringbuf_submit(r, 0);
  return 0;
}
