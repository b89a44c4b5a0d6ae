// EventSource: where capture events come from. The live implementation loads
// the BPF programs of bpf/syscalls.bpf.c; tests can replay recorded events
// through the same interface without root.
#ifndef TRACER_AGENT_CAPTURE_EVENT_SOURCE_H_
#define TRACER_AGENT_CAPTURE_EVENT_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/capture/events.h"

namespace tracer::capture {

// Default size of each ring buffer (syscall records; socket records with
// `sockets`), in bytes. Sized to the rate: the fastest producer measured
// (dd bs=1 traced in full: about 1.3 million syscall records of 80 bytes per
// second, about 100 MiB/s) fills 8 MiB in about 80 ms, 40 times the 2 ms
// slice in which the poller looks at the ring (BpfEventSource), so a
// consumer thread that is descheduled for tens of milliseconds loses
// nothing. A burst beyond it is counted per CPU (CaptureCounters::
// ringbuf_drops_per_cpu, SocketCounters::ringbuf_drops), never silent.
inline constexpr uint32_t kDefaultRingbufBytes = 8u << 20;

// Run-time settings of a capture, fixed before the programs load.
struct CaptureOptions {
  // Follow forks: children of traced processes are added to the target map
  // in the kernel at fork time, so their first syscalls are not missed.
  bool follow_forks = false;
  // Aggregate per-syscall calls/errors/time in the kernel (strace -c style)
  // instead of sending one record per syscall; read with Totals(). Counts
  // what `strace -f -c` counts: completed calls only, so exit/exit_group
  // (which never return) are not counted. Process records (fork/exec/exit)
  // are still delivered through Poll().
  bool stats_only = false;
  // Syscall numbers to trace; empty means all (unless no_syscalls).
  std::vector<int> syscalls;
  // strace's `-e trace=none`: no syscall is recorded or counted; process
  // lifecycle records (and socket events with `sockets`) still arrive. The
  // per-syscall programs are then not attached at all (no cost on other
  // processes' syscalls), so SetTraceAll(true) and AddCgroupTarget(), which
  // admit at a selected syscall, are FAILED_PRECONDITION.
  bool no_syscalls = false;
  // Syscalls that took at most this long (ns) are neither recorded nor
  // counted (the --filter-duration-gt threshold, applied in the kernel).
  uint64_t min_duration_ns = 0;
  // Size in bytes of each ring buffer (a power of two of at least the
  // 4096-byte page; Create() fails with INVALID_ARGUMENT otherwise).
  uint32_t ringbuf_bytes = kDefaultRingbufBytes;
  // Process never admitted by the kernel-side matching (SetTraceAll,
  // AddCgroupTarget, AddCommTarget), so a tracer never traces itself. 0: the
  // process that opens the source (getpid()). AddTarget() is not affected.
  uint32_t exclude_tgid = 0;
  // HTTP flow capture: also load bpf/sockets.bpf.c, which tracks the
  // AF_INET/AF_INET6 stream sockets of exactly the processes traced here
  // (connect/accept/accept4 to close or exit) and copies the first bytes of
  // every read/write-family call on them. Its records arrive through the
  // same Poll() as EventSink::OnSocketOpen/OnSocketData/OnSocketClose (see
  // socket_events.h, bpf/sockets.h), in a second ring buffer of
  // `ringbuf_bytes`. Counters().sockets reports what it saw and dropped.
  bool sockets = false;
  // sockets: payload bytes copied per data event (per syscall, so per
  // direction per message); the rest is counted in the event's `length`.
  // 0..16384 (SOCKETS_CAPTURE_MAX); 0 reports lengths only.
  uint32_t socket_capture_bytes = 4096;
  // Where the cgroup v2 hierarchy is mounted; AddCgroupTarget() paths are
  // relative to it. Empty: /sys/fs/cgroup if that is cgroup v2 (unified
  // mode), else /sys/fs/cgroup/unified (systemd's hybrid mode).
  std::string cgroup_root;
};

// Why the kernel started tracing a process on its own (not through
// AddTarget() or a followed fork). See bpf/syscalls.h, "Kernel-side target
// matching".
struct KernelAdmission {
  enum class Reason : uint8_t {
    kTraceAll = 1,  // SetTraceAll(true)
    kCgroup = 2,    // a cgroup added with AddCgroupTarget()
    kComm = 3,      // a comm added with AddCommTarget(), matched at exec
  };
  Reason reason = Reason::kTraceAll;
  // kCgroup: the id AddCgroupTarget() returned for the target that matched
  // (the process's cgroup or an ancestor of it). Otherwise 0.
  uint64_t cgroup_id = 0;
  // The process's comm when it was admitted (kComm: the matched comm).
  std::string comm;
};

// Receives undecoded ring-buffer records (layouts in bpf/syscalls.h), for
// consumers that copy them away quickly and decode later with
// DecodeSyscallRecord() (agent/capture/record_decoder.h), off the polling thread.
// With CaptureOptions::sockets, the socket tracker's records (bpf/sockets.h)
// come through here too: IsSocketRecord() tells them apart by their first
// byte and DecodeSocketRecord() (socket_record_decoder.h) decodes them.
// `data` is valid only during the call.
class RawRecordSink {
 public:
  virtual ~RawRecordSink() = default;
  virtual void OnRawRecord(const void* data, size_t size) = 0;
};

// A source of capture events. Not thread-safe: one thread configures it and
// calls Poll(); Counters() and Totals() may be called from that thread only.
class EventSource {
 public:
  virtual ~EventSource() = default;

  // Starts tracing process `tgid` (all its threads). With follow_forks, its
  // future children are traced too. Errors: INVALID_ARGUMENT for 0 or a pid
  // the kernel cannot hand out (>= 2^22), INTERNAL if the map update fails.
  virtual absl::Status AddTarget(uint32_t tgid) = 0;

  // Kernel-side targets. Each makes the kernel add matching processes to the
  // traced set by itself, so no syscall of theirs is missed between a
  // process appearing and user space noticing it. Untraced processes keep
  // paying one hash lookup per syscall while none of these is in force.
  // Matched processes are traced with all their threads, like AddTarget();
  // with follow_forks their children are too. The excluded process
  // (CaptureOptions::exclude_tgid) never matches. Which target admitted a
  // process can be asked once with TakeAdmission(). There is no removal:
  // close the source to stop. Sources without kernel-side matching return
  // UNIMPLEMENTED.

  // Traces every process that exec's a file whose comm (the kernel's
  // 15-byte task name, i.e. the first 15 bytes of the file name) equals
  // `comm`, from the exec on: the execve/execveat return (with filename and
  // argv; its start_ns is the exec point, its args 0) and every syscall
  // after it. Processes already running are not matched (use AddTarget()).
  // Errors: INVALID_ARGUMENT unless 1..15 bytes without NUL;
  // RESOURCE_EXHAUSTED beyond 64 comms; INTERNAL on a map failure.
  virtual absl::Status AddCommTarget(const std::string& comm) {
    return absl::UnimplementedError("this event source has no comm targets");
  }

  // Traces every process in the cgroup v2 `cgroup_path` ("/", or "/a/b" as
  // in /proc/PID/cgroup's "0::" line, relative to CaptureOptions::
  // cgroup_root) or in a cgroup below it, from its next syscall on
  // (processes moved in later too). Returns the cgroup's id (the kernel's
  // cgroup id, the directory's inode number), as reported by
  // TakeAdmission(). Errors: INVALID_ARGUMENT for a relative path, "." or
  // ".." components, or deeper than 31 levels; NOT_FOUND if it does not
  // exist; FAILED_PRECONDITION if cgroup_root is not a cgroup v2 mount or
  // with CaptureOptions::no_syscalls; RESOURCE_EXHAUSTED beyond 64
  // cgroups; INTERNAL on a map failure.
  virtual absl::StatusOr<uint64_t> AddCgroupTarget(const std::string& cgroup_path) {
    return absl::UnimplementedError("this event source has no cgroup targets");
  }

  // true: every process (except the excluded one) is traced from its next
  // selected syscall on. false: processes admitted so far stay traced; no
  // new ones are admitted this way. FAILED_PRECONDITION for true with
  // CaptureOptions::no_syscalls.
  virtual absl::Status SetTraceAll(bool enabled) {
    return absl::UnimplementedError("this event source has no trace-all mode");
  }

  // Why the kernel admitted process `tgid` on its own, or nullopt if it did
  // not (or this was already asked: the answer is handed over once). The
  // answer is kept until asked, for the most recent 8192 admissions.
  virtual std::optional<KernelAdmission> TakeAdmission(uint32_t tgid) { return std::nullopt; }

  // Delivers pending events to `sink`, waiting up to `timeout_ms` (0: no
  // wait) for the first. Returns the number of events delivered. Errors:
  // INTERNAL on a ring-buffer failure (EINTR is not an error).
  virtual absl::StatusOr<int> Poll(EventSink& sink, int timeout_ms) = 0;

  // Like Poll(), but hands over each record undecoded. Sources without raw
  // records return UNIMPLEMENTED.
  virtual absl::StatusOr<int> PollRaw(RawRecordSink& sink, int timeout_ms) {
    return absl::UnimplementedError("this event source has no raw records");
  }

  // Drop and delivery counters so far (ring-buffer drops per CPU).
  virtual CaptureCounters Counters() const = 0;

  // Stats mode: per-syscall totals aggregated in the kernel, one entry per
  // syscall number seen, sorted by number. Empty when stats_only is false.
  virtual absl::StatusOr<std::vector<SyscallTotals>> Totals() const = 0;
};

// Opens, configures, loads and attaches the syscall-capture BPF programs.
// Requires root (CAP_BPF + CAP_PERFMON); returns PERMISSION_DENIED with a
// clear message otherwise, FAILED_PRECONDITION if BTF or tracepoints are
// missing, INTERNAL for other libbpf failures (with libbpf's errno text).
absl::StatusOr<std::unique_ptr<EventSource>> OpenBpfEventSource(const CaptureOptions& options);

}  // namespace tracer::capture

#endif  // TRACER_AGENT_CAPTURE_EVENT_SOURCE_H_
