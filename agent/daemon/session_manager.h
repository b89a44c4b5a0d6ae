// SessionManager: applies the control plane's Policy (proto/tracer/v1/
// session.proto) to the node's capture and turns captured events into the
// sessions' spans (DESIGN.md, "Control path").
//
// For each ACTIVE session:
//  - Target: pid -> that process; comm -> every process whose comm equals
//    it; cgroup_path -> every process whose cgroup v2 path is the path or
//    below it; all_processes -> every process. The agent's own process is
//    never traced. comm, cgroup and all targets are matched in the kernel
//    (EventSource::AddCommTarget / AddCgroupTarget / SetTraceAll): a process
//    that exec's the comm is traced from its execve's return on, one in the
//    cgroup (or every process) from its next syscall on, with nothing missed
//    in between; the kernel's admission (EventSource::TakeAdmission) says
//    which session a newly seen process belongs to. /proc is scanned once,
//    when a session is applied, for processes that were already running
//    (comm from /proc/<pid>/comm, cgroup from /proc/<pid>/cgroup's "0::"
//    line, all: every process with a command line, i.e. no kernel threads).
//    A process matching several sessions goes to the first by session id.
//  - Capture: the syscall set (classes + names, syscalls/), the
//    duration threshold and follow_forks. One kernel capture serves every
//    session with the union of their sets; each session's own set and
//    threshold are then applied in user space (counted as filtered out).
//    The capture is re-opened whenever that union changes.
//  - Spans: every attached root process (and, with follow_forks, its
//    descendants) is one trace built by a spans::SpanBuilder with resource
//    attribute tracer.session.id = the session id; the head-sampling
//    decision is made per trace id (agent/pipeline/sampler.h); spans of
//    unsampled traces are counted (spans_sampled_out) and not passed on.
//    Sampled batches go through the node pipeline's WAL stage to the sink
//    (the uploader).
//  - HTTP (capture.http): the capture also tracks the targets' TCP sockets
//    (CaptureOptions::sockets); each trace of such a session feeds its
//    processes' socket events to an http::HttpFlowTracker whose SERVER and
//    CLIENT spans join the trace (children of their process span, or of the
//    caller's span when a request carries traceparent) through
//    SpanBuilder::AddSpan, so they are sampled, batched and sent like
//    syscall spans. Socket events of a process that exited are still taken
//    for kHttpLingerNs (the socket tracker's ring buffer is not ordered with
//    the process records); exchanges still open then end as closed.
//  - Limits: max_spans (syscall spans routed to the session on this node)
//    and duration_seconds (from created_unix_nano, or from when this agent
//    applied it) end the session's capture here.
//
// Pipeline: one pipeline::NodePipeline (node_pipeline.h) for the manager's
// life: each capture opened is attached to it, so the capture thread only
// copies ring-buffer records (RecordSpill) and the pipeline's worker thread
// decodes them and feeds the SpanRouter (span_router.h: routing to
// sessions, span building, HTTP, sampling), whose batches pass the WAL
// stage (SessionManagerOptions::wal) on their way to the sink. A capture
// is drained through the pipeline before it is closed.
//
// Files: session_policy.h (a session, validated), kernel_targets.h (the
// capture the sessions need, kernel-side targets), proc_scan.h (the /proc
// scan), span_router.h (routing), http_linger.h (a trace, the HTTP linger),
// session_manager.cc (the policy hand-over, capture life cycle, limits,
// counters).
//
// Threading: Apply() and Counters() from any thread; RunOnce() and
// Shutdown() from one capture thread, which owns the EventSource (it polls
// it; target calls it makes from the router, AddTarget and TakeAdmission,
// are BPF map updates, safe beside the poll). The sessions and the router
// are shared by the capture thread and the pipeline's worker under one
// mutex. Apply() hands the policy to the capture thread and waits until it
// was applied.
#ifndef TRACER_AGENT_DAEMON_SESSION_MANAGER_H_
#define TRACER_AGENT_DAEMON_SESSION_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/capture/event_source.h"
#include "agent/daemon/control_client.h"
#include "agent/daemon/http_linger.h"
#include "agent/daemon/kernel_targets.h"
#include "agent/daemon/session_policy.h"
#include "agent/daemon/span_router.h"
#include "agent/pipeline/node_pipeline.h"
#include "agent/spans/span_builder.h"
#include "storage/wal.h"
#include "tracer/v1/agent.pb.h"

namespace tracer::daemon {

using EventSourceFactory = std::function<absl::StatusOr<std::unique_ptr<capture::EventSource>>(
    const capture::CaptureOptions&)>;

struct SessionManagerOptions {
  // Opens the kernel capture (capture::OpenBpfEventSource in the daemon).
  EventSourceFactory open_source;
  // When set, every sampled batch is appended to this write-ahead log
  // (pipeline::WalStage, synced) before it reaches `sink`. Not owned; must
  // outlive the manager.
  storage::Wal* wal = nullptr;
  // Receives sampled span batches (thread-safe sink, e.g. the uploader);
  // from the WAL stage's writer thread with a `wal`, else from the thread
  // building spans. Not owned; must outlive the manager.
  spans::BatchSink* sink = nullptr;
  std::string host_name;
  size_t max_batch_spans = 512;
  // Partial batches are handed over at least this often.
  absl::Duration flush_interval = absl::Seconds(1);
  // Root of the proc file system (tests may point elsewhere).
  std::string proc_root = "/proc";
  // Passed to SpanBuilderOptions::read_proc.
  bool read_proc = true;
  // Never traced (the agent itself; also CaptureOptions::exclude_tgid of
  // every capture opened). 0: getpid().
  uint32_t self_pid = 0;
  // Called on the capture thread when a session ends by a limit, with the
  // status of the current policy (to report it to the control plane).
  std::function<void(const tracer::v1::PolicyStatus&)> on_status_change;
};

// Totals since construction (all sessions).
struct SessionManagerCounters {
  uint64_t spans_captured = 0;      // spans built (sampled or not)
  uint64_t spans_sampled_out = 0;   // built, not passed on (sampler)
  uint64_t spans_filtered_out = 0;  // syscalls outside a session's set/threshold
  uint64_t kernel_drops = 0;        // ring-buffer drops, over every capture opened,
                                    // plus records lost at the pipeline's spill bound
  uint64_t captures_opened = 0;
  uint64_t active_sessions = 0;
  uint64_t traced_processes = 0;
  uint64_t http_spans = 0;         // HTTP spans built (included in spans_captured
                                   // once batched, unless dropped as unsampled)
  uint64_t http_spans_marked = 0;  // of http_spans: with tracer.http.anomaly
  uint64_t wal_spans_failed = 0;   // spans whose WAL append failed (not forwarded)
};

class SessionManager : public PolicyHandler {
 public:
  explicit SessionManager(SessionManagerOptions options);
  ~SessionManager() override;

  // PolicyHandler: queues `policy` for the capture thread and waits (up to
  // 30 s) until RunOnce applied it. Sessions not ACTIVE, or absent, are
  // stopped here (their open spans are ended and flushed). Per session:
  // applied = false with the reason when the target or capture set is
  // invalid (e.g. "target.pid 123: no such process", an unknown syscall
  // name) or the capture could not be opened.
  tracer::v1::PolicyStatus Apply(const tracer::v1::Policy& policy) override;

  // Capture thread: applies a queued policy, polls events (waiting up to
  // `poll_timeout_ms` when there is a capture, sleeping that long when not),
  // re-scans targets, flushes, enforces limits.
  void RunOnce(int poll_timeout_ms);

  // Capture thread: ends every session (open spans ended, flushed to the
  // sink), closes the capture and the pipeline (every batch appended to
  // the WAL and forwarded; a WAL error is logged and counted in
  // wal_spans_failed). Further Apply() calls fail their sessions.
  void Shutdown();

  SessionManagerCounters Counters() const;

  // The per-session state and span counts as of the last flush interval (or
  // policy change), for heartbeats. Thread-safe.
  tracer::v1::PolicyStatus StatusSnapshot() const;

 private:
  class LockedEvents;

  void ApplyNow(const tracer::v1::Policy& policy, tracer::v1::PolicyStatus* status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  void EndSession(Session& s, const std::string& why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  // Re-opens the capture if the union of the active sessions' capture sets
  // changed, or a kernel-side target (comm, cgroup, all) is no longer wanted
  // (or closes it when none is active); an old capture is drained through
  // the pipeline first (state_mu_ is released meanwhile, so its events reach
  // the sessions). Re-attaches pid targets and installs the kernel-side
  // targets.
  absl::Status SyncCapture() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  // Closes the current capture, if any, after draining it.
  void CloseCapture() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  // One /proc scan for processes already running that match a comm, cgroup
  // or all target.
  void Rescan() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  tracer::v1::PolicyStatus CurrentStatus() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  // Capture thread: applies the policy Apply() queued, if any, and answers it.
  void ApplyPending();
  // Ends sessions past a limit (max_spans, duration_seconds).
  void CheckLimits() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);
  void PublishCounters() ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_mu_);

  const SessionManagerOptions options_;
  const uint32_t self_pid_;

  // Capture-thread state.
  std::unique_ptr<capture::EventSource> source_;
  std::optional<capture::CaptureOptions> source_options_;
  KernelTargets kernel_targets_;
  uint64_t policy_version_ = 0;
  absl::Time last_flush_ = absl::InfinitePast();
  uint64_t drops_closed_sources_ = 0;
  uint64_t captures_opened_ = 0;
  bool shut_down_ = false;

  // Before the router, whose traces hand their batches to it; detached by
  // the destructor before the router goes.
  pipeline::NodePipeline pipeline_;

  // Shared by the capture thread and the pipeline's worker: the sessions
  // and the router (its traces and span builders).
  mutable absl::Mutex state_mu_;
  SessionMap sessions_ ABSL_GUARDED_BY(state_mu_);
  SpanRouter router_ ABSL_GUARDED_BY(state_mu_);
  // The router as the pipeline's event sink, each event under state_mu_.
  std::unique_ptr<LockedEvents> events_;

  // Hand-over between Apply() and the capture thread.
  mutable absl::Mutex mu_;
  std::optional<tracer::v1::Policy> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t pending_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t done_ticket_ ABSL_GUARDED_BY(mu_) = 0;
  tracer::v1::PolicyStatus done_status_ ABSL_GUARDED_BY(mu_);
  SessionManagerCounters published_ ABSL_GUARDED_BY(mu_);
  tracer::v1::PolicyStatus published_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tracer::daemon

#endif  // TRACER_AGENT_DAEMON_SESSION_MANAGER_H_
