// The agent's identity as sent in Hello (proto/tracer/v1/agent.proto):
// node id, hostname, kernel release, version, capabilities and labels.
#ifndef TRACER_AGENT_DAEMON_NODE_IDENTITY_H_
#define TRACER_AGENT_DAEMON_NODE_IDENTITY_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "tracer/v1/agent.pb.h"

namespace tracer::daemon {

// Parses node labels "k=v,k2=v2" (the --labels flag). Keys and values are
// trimmed; keys 1..63 bytes of [A-Za-z0-9._/-], values <= 256 bytes, at most
// 32 pairs (session.proto's NodeSelector bound). An empty string gives no
// labels. Errors: INVALID_ARGUMENT naming the offending element.
absl::StatusOr<std::map<std::string, std::string>> ParseLabels(std::string_view text);

// The node id: `flag_value` when not empty, else the first line of
// `machine_id_path` (systemd's /etc/machine-id), else the hostname.
// Errors: INVALID_ARGUMENT when the result is empty or longer than 128 bytes.
absl::StatusOr<std::string> ResolveNodeId(const std::string& flag_value,
                                          const std::string& machine_id_path = "/etc/machine-id");

// A Hello with hostname (gethostname), kernel_release (uname -r),
// agent_version (version/semver.h), protocol_version PROTOCOL_VERSION_1, and the
// given node id, capabilities and labels. Thread-safe.
tracer::v1::Hello MakeHello(const std::string& node_id,
                            const std::map<std::string, std::string>& labels,
                            const std::vector<std::string>& capabilities);

}  // namespace tracer::daemon

#endif  // TRACER_AGENT_DAEMON_NODE_IDENTITY_H_
