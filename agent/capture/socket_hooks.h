// Where the socket tracker's syscall halves attach (bpf/sockets.bpf.c holds
// both forms): the classic syscalls:sys_enter_X / sys_exit_X tracepoints of
// the calls it follows (SOCKETS_FOLLOWED_CALLS in bpf/sockets.h), so that
// every other syscall of the machine runs no program, or, where those
// cannot be attached, raw_tp/sys_enter and raw_tp/sys_exit, which run on
// every syscall. BENCHMARKS.md ("hook floors") has the measured cost of
// each.
#ifndef TRACER_AGENT_CAPTURE_SOCKET_HOOKS_H_
#define TRACER_AGENT_CAPTURE_SOCKET_HOOKS_H_

#include <vector>

#include "absl/status/status.h"

struct bpf_object;
struct bpf_link;

namespace tracer::capture {

enum class SocketHooks {
  kSyscallTracepoints,  // tp/syscalls/sys_{enter,exit}_X of each followed call
  kRawTracepoints,      // raw_tp/sys_enter + raw_tp/sys_exit
};

// The form for a capture with (`syscall_programs` true) or without the
// syscall programs' raw_tp/sys_enter + sys_exit attached.
//
// kSyscallTracepoints for HTTP-only capture (no syscall programs) when
// libbpf can resolve the syscall tracepoints' ids: the tracefs it reads
// (debugfs's tracing/ when that exists, else /sys/kernel/tracing, the order
// libbpf uses) has events/syscalls. That is the capture left running on a
// server, where what counts is the cost per call: +160 ns per followed call
// and nothing on the others, against +500 ns and +110..130 ns with the raw
// pair (BENCHMARKS.md, hook floors). Its price is paid once, at the stop:
// each of the 26 perf-event tracepoints waits for a grace period when
// detached (about 0.7 s in all on this kernel, concurrent detach included,
// against 0.03 s), which would double a traced short command's run; with
// the syscall programs attached every syscall runs a raw tracepoint anyway,
// so kRawTracepoints then. Also kRawTracepoints without tracefs (a
// container or an `ip netns exec` shell often has none mounted). Reads the
// file system; thread-safe.
SocketHooks ChooseSocketHooks(bool syscall_programs);

// Lowercase name for logs: "syscall tracepoints" / "raw tracepoints".
const char* SocketHooksName(SocketHooks hooks);

// Before load, on the socket tracker's object `obj` (opened, not loaded;
// not owned): loads the programs of the chosen form only. The raw form is
// attached with the rest of the skeleton (sockets__attach); the tracepoint
// form's two programs are left out of it (autoattach off) for
// SocketTracepointLinks to attach. The process-exit program is untouched.
void SelectSocketHooks(bpf_object* obj, SocketHooks hooks);

// The tracepoint form attached: the enter and exit programs on the
// sys_enter_X / sys_exit_X tracepoint of every followed call.
//
// Detaching a perf-event tracepoint waits for a grace period of its own
// (tens of ms on a small VM), so 26 of them one after the other add 1.4 s
// to the stop; the destructor detaches them concurrently, one thread each
// (0.7 s: the kernel serialises part of it), and returns when all are gone. Not thread-safe; move
// only.
class SocketTracepointLinks {
 public:
  SocketTracepointLinks() = default;
  ~SocketTracepointLinks() { DetachAll(); }
  SocketTracepointLinks(SocketTracepointLinks&& o) noexcept : links_(std::move(o.links_)) {
    o.links_.clear();
  }
  SocketTracepointLinks& operator=(SocketTracepointLinks&& o) noexcept;
  SocketTracepointLinks(const SocketTracepointLinks&) = delete;
  SocketTracepointLinks& operator=(const SocketTracepointLinks&) = delete;

  // Attaches the loaded object's tracepoint programs (after
  // SelectSocketHooks(kSyscallTracepoints) and load). On error (a
  // tracepoint that does not exist, tracefs gone) detaches what it attached
  // and returns the libbpf error.
  absl::Status Attach(bpf_object* obj);

  // Detaches everything attached so far (concurrently, see above).
  void DetachAll();

  size_t size() const { return links_.size(); }

 private:
  std::vector<bpf_link*> links_;
};

}  // namespace tracer::capture

#endif  // TRACER_AGENT_CAPTURE_SOCKET_HOOKS_H_
