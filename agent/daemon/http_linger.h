// One session's trace on this node, and the HTTP linger of its exited
// processes.
//
// A SessionTrace is one attached root process (and, with follow_forks, its
// descendants) of a session: one pipeline::TraceBuilder (span builder, HTTP
// stitcher with capture.http, the session's sampler) and how many of its
// processes are still routed.
//
// HttpLinger: the socket tracker's ring buffer is not ordered with the
// process records, so socket events of a process that exited may still
// arrive. They are taken for kHttpLingerNs after the exit; a trace whose
// last process exited ends its HTTP exchanges (as closed) when the linger
// does.
#ifndef TRACER_AGENT_DAEMON_HTTP_LINGER_H_
#define TRACER_AGENT_DAEMON_HTTP_LINGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "agent/daemon/session_policy.h"
#include "agent/pipeline/trace_builder.h"

namespace tracer::daemon {

// How long socket events of an exited process are still accepted (ns).
inline constexpr uint64_t kHttpLingerNs = 2'000'000'000;

struct SessionTrace {
  Session* session = nullptr;
  std::unique_ptr<pipeline::TraceBuilder> spans;
  int live = 0;  // routed tgids
};

// Exited processes of HTTP traces. Not thread-safe (the span router's
// thread).
class HttpLinger {
 public:
  // Socket events of `tgid` go to `trace` until CLOCK_MONOTONIC `until_ns`.
  void Add(uint32_t tgid, std::shared_ptr<SessionTrace> trace, uint64_t until_ns);

  // The trace still taking socket events of exited `tgid`, or nullptr.
  SessionTrace* Find(uint32_t tgid) const;

  // Removes the entries of traces for which `pred` is true; each such trace
  // is passed to `removed` once.
  void RemoveIf(const std::function<bool(const SessionTrace&)>& pred,
                const std::function<void(SessionTrace&)>& removed);

  // Removes the entries whose linger ended by `now_ns` and returns their
  // traces (held here: an entry may have been a trace's last reference).
  std::map<SessionTrace*, std::shared_ptr<SessionTrace>> TakeExpired(uint64_t now_ns);

  // Every trace with a lingering process, in tgid order (a trace may come
  // more than once).
  void ForEachTrace(const std::function<void(SessionTrace&)>& fn) const;

  bool empty() const { return lingering_.empty(); }

 private:
  // tgid -> (trace, CLOCK_MONOTONIC ns until which its socket events count).
  std::map<uint32_t, std::pair<std::shared_ptr<SessionTrace>, uint64_t>> lingering_;
};

}  // namespace tracer::daemon

#endif  // TRACER_AGENT_DAEMON_HTTP_LINGER_H_
