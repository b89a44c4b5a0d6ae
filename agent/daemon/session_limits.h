// A session's limits on this node (proto/tracer/v1/session.proto, Limits):
// max_spans counts the syscall spans routed to the session here;
// duration_seconds runs from the session's created_unix_nano, or from when
// this agent applied it (Session::deadline). Either ends the session's
// capture on this node.
#ifndef TRACER_AGENT_DAEMON_SESSION_LIMITS_H_
#define TRACER_AGENT_DAEMON_SESSION_LIMITS_H_

#include <string>

#include "absl/time/time.h"
#include "agent/daemon/session_policy.h"

namespace tracer::daemon {

// Whether `s` may take no more syscall spans (max_spans reached).
bool AtSpanLimit(const Session& s);

// Why `s` ends at `now` ("span limit reached (N)", "duration limit reached
// (N s)"), or "" while it is within its limits.
std::string LimitReached(const Session& s, absl::Time now);

}  // namespace tracer::daemon

#endif  // TRACER_AGENT_DAEMON_SESSION_LIMITS_H_
