// Which agents a session's NodeSelector selects (proto/tracer/v1/session.proto).
#ifndef TRACER_CONTROLPLANE_SESSIONS_NODE_SELECTOR_H_
#define TRACER_CONTROLPLANE_SESSIONS_NODE_SELECTOR_H_

#include "tracer/v1/agent.pb.h"
#include "tracer/v1/session.pb.h"

namespace tracer::controlplane {

// True if `nodes` selects the agent that said `hello`: `all`; or one of
// `names` equals hello.node_id or hello.hostname (exact, case-sensitive); or
// every `labels` pair is present with the same value in hello.labels. An
// empty selector selects nothing. Pure and thread-safe.
bool SelectsAgent(const v1::NodeSelector& nodes, const v1::Hello& hello);

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_SESSIONS_NODE_SELECTOR_H_
