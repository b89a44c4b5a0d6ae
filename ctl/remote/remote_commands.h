// tracectl's remote commands: `session start|stop|list|show`, `traces
// list|show`, `agents list`, `exporters add|remove|list`, `status` — parse,
// call the control plane, print tables (and the waterfall for `traces
// show`). Exporter header values are never printed (keys show
// "<redacted>").
#ifndef TRACER_CTL_REMOTE_REMOTE_COMMANDS_H_
#define TRACER_CTL_REMOTE_REMOTE_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

#include "ctl/remote/remote_options.h"

namespace tracer::ctl::remote {

// True for the command groups handled here: session, traces, agents,
// exporters, status.
bool IsRemoteGroup(const std::string& group);

// Runs `tracectl GROUP ARGS...`. Results go to `out`, errors to `err` as
// "tracectl GROUP ACTION: <server or local message>". Returns 0 on success,
// 2 for a usage error, 1 when the control plane refused or failed the call
// (its status code is printed: PERMISSION_DENIED, INVALID_ARGUMENT, ...).
int RunRemoteCommand(const std::string& group, const std::vector<std::string>& args,
                     const EnvLookup& env, std::ostream& out, std::ostream& err);

}  // namespace tracer::ctl::remote

#endif  // TRACER_CTL_REMOTE_REMOTE_COMMANDS_H_
