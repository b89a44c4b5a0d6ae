// SpanRouter: the daemon's span stage in the node pipeline. It routes each
// captured event to the session trace its process belongs to:
//  - a process attached for a session (pid target, or found by the /proc
//    scan) starts a trace of that session (Route);
//  - a process the kernel admitted on its own (comm, cgroup, all targets)
//    is routed when its first event arrives, to the first active session
//    (by id) whose target matches the kernel's admission
//    (EventSource::TakeAdmission); one matching no session is remembered as
//    unrouted until its exit or the next capture;
//  - with follow_forks, a forked child joins its parent's trace;
//  - syscalls outside the session's own set or threshold are counted
//    (spans_filtered_out) and dropped; past the session's max_spans none
//    are taken;
//  - socket events go to the trace's HTTP stitcher, also for kHttpLingerNs
//    after the process exited (http_linger.h).
// Each trace's batches pass the session's head sampler
// (agent/pipeline/sampler.h) on the way to `batches`.
//
// Thread-safety: none; the session manager serializes every call (the
// events arrive on the node pipeline's worker thread, everything else on
// the capture thread, under one mutex).
#ifndef TRACER_AGENT_DAEMON_SPAN_ROUTER_H_
#define TRACER_AGENT_DAEMON_SPAN_ROUTER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "agent/capture/event_source.h"
#include "agent/daemon/http_linger.h"
#include "agent/daemon/session_policy.h"
#include "agent/spans/span_builder.h"

namespace tracer::daemon {

struct SpanRouterOptions {
  // Where sampled batches go (NodePipeline::batch_sink()); may be nullptr.
  spans::BatchSink* batches = nullptr;
  std::string host_name;
  size_t max_batch_spans = 512;
  bool read_proc = true;  // SpanBuilderOptions::read_proc
  uint32_t self_pid = 0;  // never routed
};

// Totals since construction, over every trace.
struct SpanRouterCounters {
  uint64_t spans_captured = 0;      // spans built (sampled or not)
  uint64_t spans_sampled_out = 0;   // built, not passed on (sampler)
  uint64_t spans_filtered_out = 0;  // syscalls outside a session's set/threshold
  uint64_t traced_processes = 0;
  uint64_t http_spans = 0;         // HTTP spans built
  uint64_t http_spans_marked = 0;  // of http_spans: with tracer.http.anomaly
};

class SpanRouter : public capture::EventSink {
 public:
  // `sessions` is read (and its span counts written) on every event; not
  // owned, must outlive the router.
  SpanRouter(SpanRouterOptions options, SessionMap* sessions);
  ~SpanRouter() override;

  // The capture events come from (TakeAdmission, AddTarget), or nullptr
  // when there is none. A new capture forgets the unrouted processes.
  void SetSource(capture::EventSource* source);

  // Whether `pid` is in a trace.
  bool Routed(uint32_t pid) const { return routes_.count(pid) > 0; }

  // Traces `pid` in the kernel (AddTarget) for `s` and starts its trace;
  // nothing when there is no capture, for the agent itself, or a pid
  // already routed. A failed AddTarget is logged.
  void Attach(Session& s, uint32_t pid);

  // Ends (open spans ended, flushed) and forgets the traces of `only`, or
  // of every session when nullptr.
  void RemoveTraces(const Session* only);

  // Hands every trace's partial batch on.
  void Flush();

  // Ends the HTTP exchanges of traces whose last process exited more than
  // kHttpLingerNs ago, and drives every HTTP stitcher's timeouts
  // (CLOCK_MONOTONIC ns).
  void TickHttp(uint64_t now_ns);

  // No trace holds a process, lingering ones included.
  bool empty() const { return routes_.empty() && linger_.empty(); }

  const SpanRouterCounters& counters() const { return counters_; }

  void OnSyscall(const capture::SyscallEvent& e) override;
  void OnProcess(const capture::ProcessEvent& e) override;
  void OnSocketOpen(const capture::SocketOpenEvent& e) override;
  void OnSocketData(const capture::SocketDataEvent& e) override;
  void OnSocketClose(const capture::SocketCloseEvent& e) override;

 private:
  // Starts a trace of `s` rooted at `pid` (already traced by the kernel).
  void Route(Session& s, uint32_t pid);
  // For an event of a process the kernel traces but no trace holds: routes
  // it to the session its kernel admission matches. Whether it is routed.
  bool AdoptKernelMatch(uint32_t tgid);
  // The trace of `tgid`, adopting a kernel match first; nullptr if none.
  SessionTrace* TraceOf(uint32_t tgid);
  // The HTTP stitcher for socket events of `tgid` (routed, or exited within
  // kHttpLingerNs), or nullptr.
  capture::EventSink* HttpFor(uint32_t tgid);

  const SpanRouterOptions options_;
  SessionMap* const sessions_;
  capture::EventSource* source_ = nullptr;
  std::map<uint32_t, std::shared_ptr<SessionTrace>> routes_;  // tgid -> trace
  HttpLinger linger_;
  // Traced by the kernel, matching no session (e.g. a pid of a stopped
  // session); forgotten at its exit or when the capture is re-opened.
  std::set<uint32_t> unrouted_;
  SpanRouterCounters counters_;
};

}  // namespace tracer::daemon

#endif  // TRACER_AGENT_DAEMON_SPAN_ROUTER_H_
