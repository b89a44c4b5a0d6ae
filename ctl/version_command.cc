#include "ctl/version_command.h"

#include <memory>

#include "absl/status/status.h"
#include "ctl/remote/control_client.h"
#include "version/version.h"

namespace tracer::ctl {
namespace {

constexpr int kExitUsage = 2;

bool IsConnectionFlag(const std::string& arg) {
  for (const char* flag : {"--server", "--certs", "--user", "--insecure"}) {
    const std::string f(flag);
    if (arg == f || arg.rfind(f + "=", 0) == 0) return true;
  }
  return false;
}

}  // namespace

const char* VersionUsage() {
  return R"(Usage: tracectl version [--client] [--server HOST:PORT] [--certs DIR] [--user NAME] [--insecure]

Prints this tracectl's version and git revision, then the control plane's
version and each agent's (ControlService.GetStatus; a viewer certificate is
enough). --client prints only the first line. When the control plane cannot
be asked, a note says why; the exit code is 1 then only if a connection flag
was given on the command line.
)";
}

int VersionCommand(const std::vector<std::string>& args, const remote::EnvLookup& env,
                   std::ostream& out, std::ostream& err) {
  bool client_only = false;
  bool explicit_remote = false;
  std::vector<std::string> connection_args;
  for (const std::string& a : args) {
    if (a == "-h" || a == "--help") {
      out << VersionUsage();
      return 0;
    }
    if (a == "--client") {
      client_only = true;
      continue;
    }
    if (IsConnectionFlag(a)) explicit_remote = true;
    connection_args.push_back(a);
  }
  out << "client        " << version::VersionLine("tracectl") << "\n";
  out.flush();
  if (client_only) return 0;

  // The connection flags are exactly those of `tracectl status`.
  auto opts = remote::ParseRemote("status", connection_args, env);
  if (!opts.ok()) {
    if (opts.status().code() == absl::StatusCode::kInvalidArgument && explicit_remote) {
      err << "tracectl version: " << opts.status().message() << "\n";
      return kExitUsage;
    }
    err << "tracectl version: control plane not queried: " << opts.status().message() << "\n";
    return explicit_remote ? 1 : 0;
  }
  const std::string& server = opts->connection.server;
  auto fail = [&](const absl::Status& s) {
    err << "tracectl version: control plane at " << server
        << " not reachable: " << absl::StatusCodeToString(s.code()) << ": " << s.message() << "\n";
    return explicit_remote ? 1 : 0;
  };
  auto client = remote::ControlClient::Dial(opts->connection);
  if (!client.ok()) return fail(client.status());
  auto status = (*client)->GetStatus({});
  if (!status.ok()) return fail(status.status());
  out << "controlplane  " << status->controlplane_version() << " (" << server << ")\n";
  for (const auto& agent : status->agents()) {
    const std::string& v = agent.hello().agent_version();
    out << "agent " << agent.agent_id() << "  " << (v.empty() ? "unknown" : v) << " ("
        << (agent.connected() ? "connected" : "disconnected") << ")\n";
  }
  return 0;
}

}  // namespace tracer::ctl
