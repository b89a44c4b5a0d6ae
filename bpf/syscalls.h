/* The one header shared by bpf/syscalls.bpf.c (kernel) and agent/capture/
 * (user space): ring-buffer record layouts, map value layouts and the
 * constants both sides need. Plain C, fixed-width fields, no pointers.
 *
 * "K" below means the kernel program writes the field, "U" means user space
 * writes it (before load, through the skeleton's .rodata, or via map updates).
 *
 * Ring-buffer stream: every record starts with the same 16 bytes
 * (struct syscalls_record_header). `type` says which layout follows.
 *
 *   SYSCALLS_REC_SYSCALL   one completed syscall (or an exit/exit_group at
 *                          entry, flag SYSCALLS_F_NO_RETURN)
 *
 *     0       8       16      24      32      40                  88
 *     +-------+-------+-------+-------+-------+-------- ... -------+
 *     |hdr    |ids    |start  |durat. |ret    |args[0..5]         | blobs...
 *     +-------+-------+-------+-------+-------+-------- ... -------+
 *     hdr = type:u8 flags:u8 size:u16 nr:s32; ids = tgid:u32 tid:u32
 *
 *     followed by zero or more blobs up to `size`, each
 *       +-----------+------+-------+--------+-----------+-------------+
 *       | arg_index | kind | flags | rsvd   | len:u32   | len bytes   |
 *       +-----------+------+-------+--------+-----------+-------------+
 *     packed back to back (no padding), 8-byte blob header.
 *
 *   SYSCALLS_REC_FORK/EXEC/EXIT   struct syscalls_process_record (312 bytes)
 *
 * All multi-byte fields are in host byte order (little endian on x86-64).
 */
#ifndef TRACER_BPF_SYSCALLS_H_
#define TRACER_BPF_SYSCALLS_H_

/* Bump whenever a layout or a map changes meaning. The kernel program exposes
 * it as the read-only global `abi_version`; user space refuses to run when it
 * differs from the value it was compiled with. */
#define SYSCALLS_ABI_VERSION 3

/* Traced processes (ABI 3): bit (tgid % 64) of word tgid / 64 of the .bss
 * array `traced_tgids` is set while tgid is traced; both sides set and clear
 * bits with atomic or/and (U through the skeleton's mmap of .bss). It covers
 * every pid the kernel can hand out (PID_MAX_LIMIT on 64-bit). The `targets`
 * hash map holds the same set for the socket program, which shares it; K
 * and U update both. */
#define SYSCALLS_TGID_LIMIT (1u << 22)
#define SYSCALLS_TGID_WORDS (SYSCALLS_TGID_LIMIT / 64)

/* Syscall in flight per thread (ABI 3): the array map `inflight`, indexed by
 * thread id, holds the sys_enter time (ns, 0: none in flight; bit 0 marks
 * rt_sigreturn, whose number sys_exit cannot read back). U sizes it to
 * the kernel's pid_max before load (8 bytes per id: 256 KiB for 32768,
 * 32 MiB for the largest pid_max, 4194304); a thread whose id lies beyond it
 * (pid_max raised after load) is not traced and counted
 * (SYSCALLS_DROP_PENDING_FULL). The arguments are read
 * from the saved user registers at sys_exit, except for execve/execveat,
 * whose registers the new image replaces: theirs are kept at sys_enter in
 * `exec_args` (tid -> __u64[6]). The syscall number is read back from the
 * saved orig_ax at sys_exit. */
#define SYSCALLS_INFLIGHT_DEFAULT 32768

/* Kernel-side target matching (ABI 2): besides the pids in `targets`, a
 * process is admitted (its tgid added to `targets` by K) when
 *   - trace_all is set (every process but the excluded tgid), or
 *   - its cgroup v2 id, or the id of one of its ancestors at a level set in
 *     cgroup_target_levels, is a key of `cgroup_targets`, or
 *   - at sched_process_exec its new comm is a key of `comm_targets`.
 * The first two are checked at the first sys_enter of an untraced thread,
 * the last at exec, before the exec'ing call returns. Each admission leaves
 * a struct syscalls_admission in the `admissions` LRU map (key: tgid) so user
 * space can tell which target matched without reading /proc. */
#define SYSCALLS_COMM_TARGETS_MAX 64
#define SYSCALLS_CGROUP_TARGETS_MAX 64
#define SYSCALLS_ADMISSIONS_MAX 8192
/* Deepest cgroup v2 level (root = 0) a cgroup target may sit at. */
#define SYSCALLS_CGROUP_MAX_LEVEL 31

/* Why K admitted a process (syscalls_admission.reason). */
enum syscalls_admit_reason {
  SYSCALLS_ADMIT_TRACE_ALL = 1,
  SYSCALLS_ADMIT_CGROUP = 2,
  SYSCALLS_ADMIT_COMM = 3,
};

/* Value of the `admissions` map (key: tgid). Written by K at admission; U
 * reads and deletes it. */
struct syscalls_admission {
  __u64 cgroup_id; /* CGROUP: the key of cgroup_targets that matched; else 0 */
  __u32 reason;    /* enum syscalls_admit_reason */
  __u32 reserved;  /* 0 */
  char comm[16];   /* task comm at admission, NUL-padded (COMM: the key) */
};

/* Syscall numbers covered by the filter bitmap and the stats table
 * (x86-64 numbers are < 512). Larger numbers are traced when no filter is
 * set but not counted in stats mode. */
#define SYSCALLS_MAX_NR 512
#define SYSCALLS_FILTER_WORDS (SYSCALLS_MAX_NR / 64)

/* Blob caps (bytes of payload, excluding any NUL terminator). */
#define SYSCALLS_PATH_CAP 256     /* one path string */
#define SYSCALLS_DATA_CAP 64      /* read/write/send/recv data, first bytes */
#define SYSCALLS_SOCKADDR_CAP 128 /* struct sockaddr_* */
#define SYSCALLS_ARGV_CAP 512     /* all execve argv strings with separators */
/* argv strings read at most for a FAILED execve (read from the caller's
 * memory at sys_exit). A successful execve's argv comes from the new image's
 * argument area in one piece, limited only by SYSCALLS_ARGV_CAP. */
#define SYSCALLS_ARGV_MAX_ARGS 8

/* Largest record the kernel emits: header + filename blob + argv blob. */
#define SYSCALLS_MAX_RECORD_BYTES 1024

/* Default ring-buffer size in bytes (U may change it before load). */
#define SYSCALLS_RINGBUF_BYTES (64u << 20)

/* Record types (syscalls_record_header.type). */
enum syscalls_record_type {
  SYSCALLS_REC_SYSCALL = 1,
  SYSCALLS_REC_FORK = 2,
  SYSCALLS_REC_EXEC = 3,
  SYSCALLS_REC_EXIT = 4,
};

/* syscalls_record_header.flags bits. */
enum syscalls_record_flags {
  /* SYSCALL: exit/exit_group, emitted at entry; ret and duration_ns are 0. */
  SYSCALLS_F_NO_RETURN = 1 << 0,
  /* EXEC: filename was longer than the record holds. */
  SYSCALLS_F_FILENAME_TRUNCATED = 1 << 1,
};

/* Blob kinds (syscalls_blob.kind); values equal tracer::capture::BlobKind. */
enum syscalls_blob_kind {
  SYSCALLS_BLOB_STRING = 1,   /* NUL-terminated string; len excludes the NUL */
  SYSCALLS_BLOB_BYTES = 2,    /* first bytes of a data buffer */
  SYSCALLS_BLOB_SOCKADDR = 3, /* struct sockaddr as passed by the caller */
  SYSCALLS_BLOB_ARGV = 4,     /* argv strings separated by '\0', no final NUL */
};

/* syscalls_blob.flags bits. */
enum syscalls_blob_flags {
  /* Fewer bytes were copied than existed (cap reached, more argv strings, or
   * an argv string that filled the remaining space). */
  SYSCALLS_BLOB_F_TRUNCATED = 1 << 0,
};

/* Indexes into the per-CPU `drops` array (K increments, U sums over CPUs). */
enum syscalls_drop_reason {
  SYSCALLS_DROP_RINGBUF = 0,     /* ring buffer full: a record was lost */
  SYSCALLS_DROP_PENDING_FULL = 1, /* thread id beyond `inflight`: a syscall was missed */
  SYSCALLS_DROP_EXEC_STASH = 2,  /* execve filename/argv could not be kept */
  SYSCALLS_DROP_TARGETS_FULL = 3, /* a forked child, or a process matched by
                                   * trace_all/cgroup/comm, could not be added */
  SYSCALLS_DROP_REASONS = 4,
};

/* First 16 bytes of every ring-buffer record. All fields written by K. */
struct syscalls_record_header {
  __u8 type;   /* enum syscalls_record_type */
  __u8 flags;  /* enum syscalls_record_flags */
  __u16 size;  /* bytes of the whole record, header and blobs included */
  __s32 nr;    /* SYSCALL: syscall number; 0 for process records */
  __u32 tgid;  /* process id (thread group id) */
  __u32 tid;   /* thread id */
};

/* SYSCALLS_REC_SYSCALL. 88 bytes, then blobs. All fields written by K. */
struct syscalls_syscall_record {
  struct syscalls_record_header hdr;
  __u64 start_ns;    /* ns, bpf_ktime_get_ns() (CLOCK_MONOTONIC) at sys_enter */
  __u64 duration_ns; /* ns, sys_exit time minus start_ns; 0 when NO_RETURN */
  __s64 ret;         /* return value; -4095..-1 is -errno; 0 when NO_RETURN */
  __u64 args[6];     /* raw register arguments (rdi rsi rdx r10 r8 r9), as saved at
                      * syscall entry; read at sys_exit (execve/execveat: at sys_enter) */
};

/* Header of one captured argument payload, followed by `len` bytes. */
struct syscalls_blob {
  __u8 arg_index; /* which of args[0..5] the bytes came from (K) */
  __u8 kind;      /* enum syscalls_blob_kind (K) */
  __u8 flags;     /* enum syscalls_blob_flags (K) */
  __u8 reserved;  /* 0 */
  __u32 len;      /* bytes of payload that follow (K) */
};

/* SYSCALLS_REC_FORK / _EXEC / _EXIT. 312 bytes. All fields written by K.
 * hdr.nr is 0; hdr.tgid is the process the event is about (the child for
 * FORK); hdr.tid is the thread that caused the event (the child's for FORK). */
struct syscalls_process_record {
  struct syscalls_record_header hdr;
  __u64 ts_ns;        /* ns, bpf_ktime_get_ns() at the event */
  __u32 parent_tgid;  /* FORK: the forking process; else 0 */
  __s32 exit_code;    /* EXIT: task->exit_code, wait(2) status (code << 8 | signal) */
  __u16 filename_len; /* EXEC: bytes of filename used (no NUL); else 0 */
  __u16 reserved[3];  /* 0 */
  char comm[16];      /* task comm at the event, NUL-padded */
  char filename[SYSCALLS_PATH_CAP]; /* EXEC: bprm->filename, not NUL-terminated */
};

/* Value of the per-CPU `totals` array, indexed by syscall number (stats mode).
 * K adds; U sums over CPUs. */
struct syscalls_totals {
  __u64 calls;    /* completed calls (plus exit/exit_group at entry) */
  __u64 errors;   /* calls that returned -4095..-1 */
  __u64 total_ns; /* ns, summed duration */
};

#endif /* TRACER_BPF_SYSCALLS_H_ */
