// Decoded capture events: the user-space view of what the kernel programs in
// bpf/ report. Everything downstream of capture (span building, statistics,
// replays in tests) consumes these types, never the raw ring-buffer layout,
// which stays private to agent/capture/ and bpf/syscalls.h.
#ifndef TRACER_AGENT_CAPTURE_EVENTS_H_
#define TRACER_AGENT_CAPTURE_EVENTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "agent/capture/socket_events.h"

namespace tracer::capture {

// Kind of payload captured from user memory for one syscall argument.
enum class BlobKind : uint8_t {
  kString = 1,    // NUL-terminated string (a path); bytes exclude the NUL
  kBytes = 2,     // raw buffer contents (read/write data), first bytes only
  kSockaddr = 3,  // struct sockaddr as passed to connect/bind/accept
  kArgv = 4,      // execve argv: strings separated by '\0'
};

// Bytes copied from user memory for one argument, bounded in the kernel.
// `data` points into the event's storage and is valid only as long as the
// SyscallEvent that holds it.
struct Blob {
  uint8_t arg_index = 0;  // which of args[0..5] this came from
  BlobKind kind = BlobKind::kString;
  bool truncated = false;  // the kernel copied fewer bytes than existed
  std::string_view data;   // the captured bytes
};

// One completed syscall of a traced thread (sys_enter + sys_exit).
struct SyscallEvent {
  uint32_t tgid = 0;         // process id (thread group id)
  uint32_t tid = 0;          // thread id
  int32_t nr = -1;           // x86-64 syscall number
  uint64_t args[6] = {};     // raw register arguments at sys_enter
  int64_t ret = 0;           // return value; -4095..-1 is -errno
  uint64_t start_ns = 0;     // CLOCK_MONOTONIC (bpf_ktime_get_ns) at sys_enter
  uint64_t duration_ns = 0;  // sys_exit time minus start_ns
  bool no_return = false;    // exit/exit_group: reported at entry, ret unknown
  std::vector<Blob> blobs;   // captured argument payloads, by arg_index order

  // Returns the blob captured for argument `index`, or nullptr.
  const Blob* BlobFor(int index) const {
    for (const Blob& b : blobs)
      if (b.arg_index == index) return &b;
    return nullptr;
  }
};

// A process lifecycle change observed by the sched_process_* tracepoints.
struct ProcessEvent {
  enum class Kind : uint8_t {
    kFork = 1,  // new process (not thread) `tgid` forked by `parent_tgid`
    kExec = 2,  // `tgid` executed `filename`
    kExit = 3,  // the whole process `tgid` exited with `exit_code`
  };
  Kind kind = Kind::kFork;
  uint32_t tgid = 0;
  uint32_t parent_tgid = 0;  // kFork: the forking process
  uint64_t ts_ns = 0;        // CLOCK_MONOTONIC
  int32_t exit_code = 0;     // kExit: wait(2) status (exit code << 8 | signal)
  std::string filename;      // kExec: the executed path as the kernel saw it
  std::string comm;          // task comm (<= 15 chars) at the event
};

// Receives decoded events in kernel order per CPU (roughly time order
// overall). Called from the thread that calls EventSource::Poll(); the
// references are valid only during the call.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnSyscall(const SyscallEvent& event) = 0;
  virtual void OnProcess(const ProcessEvent& event) = 0;
  // Socket events of traced processes (CaptureOptions::sockets only; see
  // socket_events.h). Default: ignored.
  virtual void OnSocketOpen(const SocketOpenEvent& event) {}
  virtual void OnSocketData(const SocketDataEvent& event) {}
  virtual void OnSocketClose(const SocketCloseEvent& event) {}
};

// Per-syscall totals aggregated in the kernel (stats mode, like strace -c).
struct SyscallTotals {
  int32_t nr = -1;
  uint64_t calls = 0;
  uint64_t errors = 0;    // returns in -4095..-1
  uint64_t total_ns = 0;  // summed duration
};

// What the capture layer dropped or saw, never silently.
struct CaptureCounters {
  std::vector<uint64_t> ringbuf_drops_per_cpu;  // records lost: ring buffer full
  uint64_t events = 0;                          // records delivered to the sink
  uint64_t missed_syscalls = 0;                 // not traced: thread id beyond the in-flight table
  uint64_t exec_args_lost = 0;                  // execve filename/argv not kept (map full)
  uint64_t forks_not_followed = 0;              // children not traced: target map full
  uint64_t invalid_records = 0;                 // records user space could not decode
  SocketCounters sockets;                       // CaptureOptions::sockets only; else zeros
};

}  // namespace tracer::capture

#endif  // TRACER_AGENT_CAPTURE_EVENTS_H_
