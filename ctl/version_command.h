// `tracectl version`: this client's version and git revision, then the
// control plane's version and each agent's, as the control plane reports
// them (ControlService.GetStatus: StatusResponse.controlplane_version and
// AgentInfo.hello.agent_version, proto/tracer/v1/control.proto).
#ifndef TRACER_CTL_VERSION_COMMAND_H_
#define TRACER_CTL_VERSION_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "ctl/remote/remote_options.h"

namespace tracer::ctl {

// Runs `tracectl version [--client] [CONNECTION FLAGS]` (`args` are the
// words after "version"; connection flags as for the remote commands:
// --server, --certs, --user, --insecure and $TRACER_SERVER/_CERTS/_USER).
//
// Output on `out`, the client line always first:
//   client        tracectl 0.1.0 (revision <40 hex>|unknown[, clean|modified])
//   controlplane  0.1.0 (HOST:PORT)
//   agent NODE    0.1.0 (connected|disconnected)      one line per agent
// --client prints only the first line and contacts nothing.
//
// Offline use works: when the control plane cannot be asked (no
// certificates configured, unreachable, refused), a note naming the reason
// goes to `err`. The exit code is then 1 only if the user asked for the
// remote part explicitly, i.e. gave a connection flag on the command line;
// with defaults or environment variables alone it is 0. Usage errors: 2.
// Not thread-safe with other writers of `out`/`err`.
int VersionCommand(const std::vector<std::string>& args, const remote::EnvLookup& env,
                   std::ostream& out, std::ostream& err);

// Usage text of `tracectl version`.
const char* VersionUsage();

}  // namespace tracer::ctl

#endif  // TRACER_CTL_VERSION_COMMAND_H_
