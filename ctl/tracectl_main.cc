// tracectl: the operator's command line. `tracectl run` traces one command
// with no daemons (and `tracectl resend` sends what a failed run kept); the remote subcommands
// (sessions, traces, agents, exporters, status) talk to the control plane.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "ctl/certs_command.h"
#include "ctl/remote/remote_commands.h"
#include "ctl/remote/remote_options.h"
#include "ctl/resend_command.h"
#include "ctl/run_command.h"
#include "ctl/run_options.h"
#include "ctl/version_command.h"
#include "glog/logging.h"
#include "version/semver.h"
#include "version/version.h"

namespace {

const char kUsage[] = R"(Usage: tracectl COMMAND [ARGS...]

Commands:
  run       trace a command's (or a process's) syscalls as OpenTelemetry spans
  resend    send the spans a run kept because its export failed (tracectl resend DIR)
  certs     create a CA and issue server, agent and user certificates (mTLS)
  session   start|stop|list|show remote tracing sessions on the agents
  traces    list|show traces in the control plane's store (show: a waterfall)
  agents    list the agents known to the control plane
  exporters add|remove|list the OTLP backends the control plane delivers to
  status    agents and exporters: connected, lag, WAL bytes, drops, spans/s,
            spans sent/failed (by reason)/retried/dead-lettered, circuit
  version   client, control plane and agent versions (--client: this binary only)
  help      show this help, or `tracectl help COMMAND` for one command

Run `tracectl run --help` for the tracing flags.
)";

// The process environment, for `tracectl version`'s TRACER_* variables.
tracer::ctl::remote::EnvLookup ProcessEnvLookup() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tracer::ctl;
  // A CLI: diagnostics go to stderr, not to log files.
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = google::GLOG_WARNING;
  google::InitGoogleLogging(argv[0]);
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  std::string cmd = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    if (!rest.empty() && rest[0] == "run") {
      std::fputs(RunUsage(), stdout);
    } else if (!rest.empty() && rest[0] == "resend") {
      std::fputs(ResendUsage(), stdout);
    } else if (!rest.empty() && rest[0] == "certs") {
      std::fputs(CertsUsage(), stdout);
    } else if (!rest.empty() && rest[0] == "version") {
      std::fputs(VersionUsage(), stdout);
    } else if (!rest.empty() && remote::IsRemoteGroup(rest[0])) {
      std::fputs(remote::RemoteUsage(), stdout);
    } else {
      std::fputs(kUsage, stdout);
    }
    return 0;
  }
  if (cmd == "--version") {
    std::printf("%s\n", tracer::version::VersionLine("tracectl").c_str());
    return 0;
  }
  if (cmd == "version") return VersionCommand(rest, ProcessEnvLookup(), std::cout, std::cerr);
  if (cmd == "certs") return CertsCommand(rest);
  if (remote::IsRemoteGroup(cmd)) {
    auto env = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    };
    return remote::RunRemoteCommand(cmd, rest, env, std::cout, std::cerr);
  }
  if (cmd == "resend") {
    auto options = ParseResendOptions(rest);
    if (!options.ok()) {
      std::fprintf(stderr, "tracectl resend: %s\n",
                   std::string(options.status().message()).c_str());
      return kExitUsage;
    }
    if (options->help) {
      std::fputs(ResendUsage(), stdout);
      return 0;
    }
    return ResendCommand(*options, ProcessEnv());
  }
  if (cmd == "run") {
    auto options = ParseRunOptions(rest, ProcessEnv());
    if (!options.ok()) {
      std::fprintf(stderr, "tracectl run: %s\n", std::string(options.status().message()).c_str());
      return kExitUsage;
    }
    if (options->help) {
      std::fputs(RunUsage(), stdout);
      return 0;
    }
    return RunCommand(*options);
  }
  std::fprintf(stderr, "tracectl: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return kExitUsage;
}
