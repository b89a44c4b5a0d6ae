/* The one header shared by bpf/sockets.bpf.c (kernel) and agent/capture/
 * (user space): ring-buffer record layouts, map keys and values, limits and
 * the ABI version of the socket tracker used for HTTP flow capture.
 * Plain C, fixed-width fields, no pointers.
 *
 * "K" below means the kernel program writes the field, "U" user space.
 *
 * What is tracked. Only processes the syscalls program traces: this program
 * shares its `targets` map (user space hands it over with bpf_map__reuse_fd
 * before load), so every way a process becomes a target there (AddTarget,
 * followed forks, trace_all, cgroup and comm targets) applies here too.
 * A socket of such a process is tracked per (tgid, fd) from
 *   - connect() returning 0 or -EINPROGRESS   (role CLIENT), or
 *   - accept()/accept4() returning an fd      (role SERVER)
 * when it is an AF_INET/AF_INET6 SOCK_STREAM socket (checked on the struct
 * socket behind the fd: task->files->fdt->fd[fd]->private_data), until
 *   - close() of that fd (reason CLOSE),
 *   - the process's last thread exits (reason EXIT), or
 *   - the same (tgid, fd) is tracked again, i.e. the fd was closed behind our
 *     back (exec's close-on-exec, dup2 onto it) and reused (reason REPLACED).
 * Sockets that already existed when tracing began, forked children's copies
 * of a parent's fds and fds obtained by dup() are not tracked.
 *
 * Addresses come from the socket itself (sk->__sk_common), after the call
 * returned, so both ends are known for both roles.
 *
 * Data: read, write, readv, writev, recvfrom, sendto, recvmsg, sendmsg that
 * return > 0 on a tracked fd produce one DATA record with the first
 * min(ret, capture_bytes) bytes (for the vector calls the first
 * SOCKETS_MAX_IOV iovecs concatenated). recvfrom/recvmsg with MSG_PEEK are
 * skipped (the bytes are read again later). sendfile with a tracked out_fd
 * produces a DATA record with its length and no bytes. Not covered:
 * recvmmsg/sendmmsg, splice, io_uring, mmap'ed packet rings.
 *
 * Ring-buffer stream (map `sock_events`, its own ring buffer): every record
 * starts with struct sockets_record_header, the same 16-byte layout as
 * struct syscalls_record_header, with type values that never collide with
 * the syscalls program's, so one consumer can route both streams by the
 * first byte.
 *
 *   SOCKETS_REC_OPEN   struct sockets_open_record, 80 bytes
 *     0      16       24      32    36   37   38     40    42    44      48          64          80
 *     +------+--------+-------+-----+----+----+------+-----+-----+-------+-----------+-----------+
 *     |hdr   |conn_id |ts_ns  |fd   |role|fam |rsvd  |lport|rport|rsvd   |laddr[16]  |raddr[16]  |
 *     +------+--------+-------+-----+----+----+------+-----+-----+-------+-----------+-----------+
 *
 *   SOCKETS_REC_DATA   struct sockets_data_record, 64 bytes, then
 *                      `captured` bytes of payload (hdr.size = 64 + captured)
 *     0      16       24       32      40       48   52  53    54    56         60     64
 *     +------+--------+--------+-------+--------+----+---+-----+-----+----------+------+---- ...
 *     |hdr   |conn_id |start_ns|end_ns |length  |fd  |dir|rsvd |rsvd |captured  |rsvd  | bytes
 *     +------+--------+--------+-------+--------+----+---+-----+-----+----------+------+---- ...
 *
 *   SOCKETS_REC_CLOSE  struct sockets_close_record, 40 bytes
 *     0      16       24      32    36     37      40
 *     +------+--------+-------+-----+------+-------+
 *     |hdr   |conn_id |ts_ns  |fd   |reason|rsvd   |
 *     +------+--------+-------+-----+------+-------+
 *
 * hdr = type:u8 flags:u8 size:u16 nr:s32 tgid:u32 tid:u32.
 * All multi-byte fields are in host byte order (little endian on x86-64)
 * except the addresses, which are in network byte order as on the wire.
 */
#ifndef TRACER_BPF_SOCKETS_H_
#define TRACER_BPF_SOCKETS_H_

/* Bump whenever a layout or a map changes meaning. The kernel program exposes
 * it as the read-only global `abi_version`; user space refuses to run when it
 * differs from the value it was compiled with. */
#define SOCKETS_ABI_VERSION 1

/* Largest number of payload bytes one DATA record can carry; the run-time
 * limit (`capture_bytes`, U) may be lower. A power of two (the kernel masks
 * offsets with it). */
#define SOCKETS_CAPTURE_MAX 16384
/* Default run-time limit, bytes per record (per message per direction). */
#define SOCKETS_CAPTURE_DEFAULT 4096
/* iovecs walked per readv/writev/recvmsg/sendmsg; bytes in later iovecs are
 * counted (in `length`) but not copied, and the record has
 * SOCKETS_F_IOV_LIMIT set. */
#define SOCKETS_MAX_IOV 16
/* Tracked sockets across all traced processes. Beyond it, new connections
 * are not tracked and SOCKETS_DROP_TABLE_FULL counts them. */
#define SOCKETS_TABLE_MAX 32768
/* Processes with at least one tracked socket (for the cleanup at exit). */
#define SOCKETS_PROCS_MAX 16384
/* Default ring-buffer size in bytes (U may change it before load). */
#define SOCKETS_RINGBUF_BYTES (16u << 20)

/* The syscalls the tracker follows, as X(name, tracepoint, args):
 * `name` is the call's __NR_ suffix, `tracepoint` the suffix of its
 * syscalls:sys_enter_* / sys_exit_* tracepoints (a string), `args` how many
 * arguments the tracker reads at entry (1, 3 or 4). The kernel program stops
 * at its first test on any other number; user space attaches the per-call
 * tracepoint programs to exactly these, the enter program that reads `args`
 * arguments (the kernel refuses to attach a program reading past the end of
 * a call's tracepoint record, so close's must read one only). */
#define SOCKETS_FOLLOWED_CALLS(X) \
  X(connect, "connect", 3)        \
  X(accept, "accept", 3)          \
  X(accept4, "accept4", 3)        \
  X(close, "close", 1)            \
  X(read, "read", 3)              \
  X(write, "write", 3)            \
  X(readv, "readv", 3)            \
  X(writev, "writev", 3)          \
  X(recvfrom, "recvfrom", 4)      \
  X(sendto, "sendto", 3)          \
  X(recvmsg, "recvmsg", 3)        \
  X(sendmsg, "sendmsg", 3)        \
  X(sendfile, "sendfile64", 3)

/* Record types (sockets_record_header.type). Disjoint from
 * enum syscalls_record_type (1..4). */
enum sockets_record_type {
  SOCKETS_REC_OPEN = 16,
  SOCKETS_REC_DATA = 17,
  SOCKETS_REC_CLOSE = 18,
};

/* sockets_record_header.flags bits (DATA records). */
enum sockets_record_flags {
  /* Reading the process's memory failed; `captured` stops where it failed. */
  SOCKETS_F_COPY_FAILED = 1 << 0,
  /* More iovecs than SOCKETS_MAX_IOV held data; only the first were copied. */
  SOCKETS_F_IOV_LIMIT = 1 << 1,
};

/* sockets_open_record.role; values equal tracer::capture::SocketRole. */
enum sockets_role {
  SOCKETS_ROLE_CLIENT = 1, /* connect() */
  SOCKETS_ROLE_SERVER = 2, /* accept()/accept4() */
};

/* sockets_data_record.direction; values equal tracer::capture::Direction. */
enum sockets_direction {
  SOCKETS_DIR_EGRESS = 1,  /* written/sent by the process */
  SOCKETS_DIR_INGRESS = 2, /* read/received by the process */
};

/* sockets_close_record.reason. */
enum sockets_close_reason {
  SOCKETS_CLOSE_SYSCALL = 1,  /* close(fd) */
  SOCKETS_CLOSE_EXIT = 2,     /* the process's last thread exited */
  SOCKETS_CLOSE_REPLACED = 3, /* (tgid, fd) was tracked again: closed unseen */
};

/* Indexes into the per-CPU `sock_drops` array (K increments, U sums). */
enum sockets_drop_reason {
  SOCKETS_DROP_RINGBUF = 0,      /* ring buffer full: a record was lost */
  SOCKETS_DROP_TABLE_FULL = 1,   /* a connection was not tracked: table full */
  SOCKETS_DROP_PENDING_FULL = 2, /* per-thread storage not allocated: a call was missed */
  SOCKETS_DROP_REASONS = 3,
};

/* First 16 bytes of every record. Same layout as syscalls_record_header. */
struct sockets_record_header {
  __u8 type;  /* enum sockets_record_type (K) */
  __u8 flags; /* enum sockets_record_flags (K) */
  __u16 size; /* bytes of the whole record, payload included (K) */
  __s32 nr;   /* syscall number that produced the record; 0 for exit (K) */
  __u32 tgid; /* process id (K) */
  __u32 tid;  /* thread id (K) */
};

/* SOCKETS_REC_OPEN. 80 bytes. All fields written by K. */
struct sockets_open_record {
  struct sockets_record_header hdr;
  __u64 conn_id;     /* connection id, unique per tracked socket since boot, never 0 */
  __u64 ts_ns;       /* ns, bpf_ktime_get_ns() (CLOCK_MONOTONIC) at sys_exit */
  __s32 fd;          /* the socket's fd in hdr.tgid */
  __u8 role;         /* enum sockets_role */
  __u8 family;       /* AF_INET (2) or AF_INET6 (10): the socket's family; an
                      * AF_INET6 socket may carry v4-mapped addresses */
  __u16 reserved0;   /* 0 */
  __u16 local_port;  /* host order */
  __u16 remote_port; /* host order */
  __u32 reserved1;   /* 0 */
  __u8 local_addr[16];  /* network order; AF_INET: first 4 bytes, rest 0 */
  __u8 remote_addr[16]; /* network order; AF_INET: first 4 bytes, rest 0 */
};

/* SOCKETS_REC_DATA. 64 bytes, then `captured` payload bytes. All fields
 * written by K. */
struct sockets_data_record {
  struct sockets_record_header hdr;
  __u64 conn_id;   /* see sockets_open_record */
  __u64 start_ns;  /* ns at sys_enter */
  __u64 end_ns;    /* ns at sys_exit */
  __u64 length;    /* bytes moved: the syscall's return value (> 0) */
  __s32 fd;        /* the socket's fd */
  __u8 direction;  /* enum sockets_direction */
  __u8 reserved0;  /* 0 */
  __u16 reserved1; /* 0 */
  __u32 captured;  /* payload bytes that follow: min(length, capture_bytes),
                    * fewer with SOCKETS_F_IOV_LIMIT, 0 for sendfile or
                    * SOCKETS_F_COPY_FAILED */
  __u32 reserved2; /* 0 */
};

/* SOCKETS_REC_CLOSE. 40 bytes. All fields written by K. */
struct sockets_close_record {
  struct sockets_record_header hdr;
  __u64 conn_id;   /* see sockets_open_record */
  __u64 ts_ns;     /* ns at close's sys_exit, or at the process exit */
  __s32 fd;        /* the fd that was tracked */
  __u8 reason;     /* enum sockets_close_reason */
  __u8 reserved[3];/* 0 */
};

/* Key of the `socks` map. */
struct sockets_key {
  __u32 tgid;
  __s32 fd;
};

/* Value of the `socks` map (K only). */
struct sockets_conn {
  __u64 conn_id;
};

/* Value of the `sock_pending` task-local storage, kernel-private: the
 * sys_enter half of a thread's socket call. start_ns == 0: none in flight. */
struct sockets_pending {
  __u64 start_ns; /* ns at sys_enter */
  __u64 conn_id;  /* data/close: the tracked connection; else 0 */
  __u64 buf;      /* user pointer: buffer, iovec array or msghdr */
  __u64 count;    /* buffer length or iovec count */
  __s32 nr;       /* syscall number */
  __s32 fd;       /* the fd argument */
};

#endif /* TRACER_BPF_SOCKETS_H_ */
