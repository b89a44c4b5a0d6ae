// Command lines of tracectl's remote commands (session, traces, agents,
// exporters, status): how to reach the control plane, and the flags of each
// command.
// Validation here is for clear, early errors; the control plane validates
// every request again (its word is final).
#ifndef TRACER_CTL_REMOTE_REMOTE_OPTIONS_H_
#define TRACER_CTL_REMOTE_REMOTE_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tracer/v1/control.pb.h"

namespace tracer::ctl::remote {

// How tracectl dials the control plane.
//   --server HOST:PORT   default $TRACER_SERVER, else localhost:7443
//   --certs DIR          default $TRACER_CERTS; files read from DIR:
//                          ca.pem          the CA that signed the server
//                          <user>.pem/.key this user's certificate and key
//   --user NAME          default $TRACER_USER, else "admin" (the file stem)
//   --insecure           plain text, loopback servers only (no --certs)
struct ConnectionOptions {
  std::string server = "localhost:7443";
  std::string certs_dir;
  std::string user = "admin";
  bool insecure = false;
};

// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// `tracectl session start` flags, parsed into the request to send.
struct SessionStartOptions {
  ConnectionOptions connection;
  tracer::v1::StartSessionRequest request;
  bool help = false;
};

// A remote command other than `session start`.
struct RemoteOptions {
  ConnectionOptions connection;
  std::string command;    // "session stop", "session list", "session show",
                          // "traces list", "traces show", "agents list",
                          // "exporters add", "exporters remove",
                          // "exporters list", "status"
  std::string argument;   // SESSION_ID, TRACE_ID (lower-case hex) or exporter NAME
  bool all = false;       // session list --all: include stopped sessions
  uint64_t since_ns = 0;  // traces list --since DURATION, as a duration in ns
  std::string service;    // traces list --service NAME
  uint32_t limit = 0;     // traces list --limit N (0: server default)
  // exporters add: the request (exporter.name is `argument`).
  tracer::v1::AddExporterRequest add_exporter;
  bool help = false;
};

// Parses the words after `tracectl session start`. INVALID_ARGUMENT with a
// message naming the flag: target missing or given twice, unknown syscall,
// class or sampler, --sampler-arg outside 0..1 or on a non-ratio sampler,
// bad duration/number, too many names or labels, over-long strings, and
// connection errors (see ParseConnectionFlagsOnly).
absl::StatusOr<SessionStartOptions> ParseSessionStart(const std::vector<std::string>& args,
                                                      const EnvLookup& env);

// Parses `tracectl GROUP [ACTION] ARGS...` for the other remote commands:
// `group` is "session" (stop|list|show), "traces" (list|show), "agents"
// (list), "exporters" (add|remove|list) or "status"; `args` are the words
// after the group. INVALID_ARGUMENT for unknown actions or flags,
// missing/extra ids, a trace id that is not 32 hex digits, bad
// --since/--limit; for `exporters add`: no --endpoint, an unknown
// --protocol or --compression, a --header without KEY=VALUE, a
// --header-from-env variable that is unset, a --timeout outside 1ms..10m,
// relative TLS file paths, --client-cert without --client-key or vice versa.
// `env` also serves --header-from-env.
absl::StatusOr<RemoteOptions> ParseRemote(const std::string& group,
                                          const std::vector<std::string>& args,
                                          const EnvLookup& env);

// Usage text of the remote commands.
const char* RemoteUsage();

}  // namespace tracer::ctl::remote

#endif  // TRACER_CTL_REMOTE_REMOTE_OPTIONS_H_
