// ParseRemote (remote_options.h): the remote commands other than
// `session start` (status, session stop/list/show, traces, agents,
// exporters) and their flags and arguments.
#include "ctl/remote/remote_options.h"

#include <getopt.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "ctl/remote/exporter_flags.h"
#include "ctl/remote/remote_flags.h"
#include "tracer/v1/session_limits.h"

namespace tracer::ctl::remote {

using flags::CheckConnection;
using flags::ConnectionDefaults;
using flags::ConnectionFlag;
using flags::ExporterFlag;
using flags::Getopt;
using flags::Invalid;
using flags::IsHex;
using flags::kAll;
using flags::kLimit;
using flags::kMaxStringBytes;
using flags::kService;
using flags::kSince;
using flags::OtherFlagError;
using flags::ParsePositiveDuration;
using flags::ParseUint;
using v1::kMaxSessionIdBytes;

absl::StatusOr<RemoteOptions> ParseRemote(const std::string& group,
                                          const std::vector<std::string>& args,
                                          const EnvLookup& env) {
  RemoteOptions opts;
  ConnectionDefaults(env, &opts.connection);
  std::vector<std::string> rest = args;
  if (group == "status") {
    opts.command = "status";
  } else if (group == "session" || group == "traces" || group == "agents" || group == "exporters") {
    if (rest.empty() || rest[0].empty() || rest[0][0] == '-') {
      if (!rest.empty() && (rest[0] == "-h" || rest[0] == "--help")) {
        opts.help = true;
        return opts;
      }
      return Invalid(absl::StrCat("tracectl ", group, ": missing action"));
    }
    std::string action = rest[0];
    rest.erase(rest.begin());
    std::set<std::string> allowed;
    if (group == "session") allowed = {"stop", "list", "show"};  // start: ParseSessionStart
    if (group == "traces") allowed = {"list", "show"};
    if (group == "agents") allowed = {"list"};
    if (group == "exporters") allowed = {"add", "remove", "list"};
    if (allowed.count(action) == 0) {
      return Invalid(absl::StrCat("tracectl ", group, ": unknown action '", action, "'"));
    }
    opts.command = absl::StrCat(group, " ", action);
  } else {
    return Invalid(absl::StrCat("unknown remote command '", group, "'"));
  }
  Getopt g(rest);
  int c;
  absl::Status status;
  std::vector<std::string> bad;
  while ((c = g.Next()) != -1) {
    if (ConnectionFlag(c, &opts.connection, &status)) {
      if (!status.ok()) return status;
      continue;
    }
    if (opts.command == "exporters add") {
      bool replace = false;
      if (ExporterFlag(c, env, opts.add_exporter.mutable_exporter(), &replace, &status)) {
        if (!status.ok()) return status;
        if (replace) opts.add_exporter.set_replace(true);
        continue;
      }
    }
    switch (c) {
      case kAll:
        if (opts.command != "session list") bad.push_back("--all");
        opts.all = true;
        break;
      case kSince: {
        if (opts.command != "traces list") bad.push_back("--since");
        auto d = ParsePositiveDuration("--since", optarg);
        if (!d.ok()) return d.status();
        opts.since_ns = static_cast<uint64_t>(absl::ToInt64Nanoseconds(*d));
        break;
      }
      case kService:
        if (opts.command != "traces list") bad.push_back("--service");
        opts.service = optarg;
        if (opts.service.empty() || opts.service.size() > kMaxStringBytes) {
          return Invalid("--service: expected a service name of 1..253 bytes");
        }
        break;
      case kLimit: {
        if (opts.command != "traces list") bad.push_back("--limit");
        auto n = ParseUint("--limit", optarg, 1000);
        if (!n.ok() || *n == 0)
          return Invalid(absl::StrCat("--limit ", optarg, ": expected 1..1000"));
        opts.limit = static_cast<uint32_t>(*n);
        break;
      }
      case 'h':
        opts.help = true;
        return opts;
      case ':':
      case '?':
        return OtherFlagError(c, g);
      default:
        return Invalid(absl::StrCat(g.Current(), " does not apply to ", opts.command));
    }
  }
  if (!bad.empty()) return Invalid(absl::StrCat(bad[0], " does not apply to ", opts.command));
  std::vector<std::string> positional = g.Rest();
  bool takes_id = opts.command == "session stop" || opts.command == "session show" ||
                  opts.command == "traces show";
  if (opts.command == "exporters add" || opts.command == "exporters remove") {
    if (positional.size() != 1) {
      return Invalid(absl::StrCat("tracectl ", opts.command, " takes one exporter NAME"));
    }
    opts.argument = positional[0];
    if (opts.argument.empty() || opts.argument.size() > 64) {
      return Invalid("NAME: expected 1..64 of a-z, 0-9, '_', '.', '-'");
    }
    opts.add_exporter.mutable_exporter()->set_name(opts.argument);
    if (opts.command == "exporters add") {
      const tracer::v1::ExporterSpec& spec = opts.add_exporter.exporter();
      if (spec.endpoint().empty()) {
        return Invalid("tracectl exporters add: --endpoint URL is required");
      }
      if (spec.client_key_file().empty() != spec.client_certificate_file().empty()) {
        return Invalid("--client-cert and --client-key go together");
      }
    }
  } else if (takes_id) {
    const char* what = opts.command == "traces show" ? "TRACE_ID" : "SESSION_ID";
    if (positional.size() != 1) {
      return Invalid(absl::StrCat("tracectl ", opts.command, " takes one ", what));
    }
    opts.argument = positional[0];
    if (opts.command == "traces show") {
      opts.argument = absl::AsciiStrToLower(opts.argument);
      if (opts.argument.size() != 32 || !IsHex(opts.argument)) {
        return Invalid(absl::StrCat("TRACE_ID ", positional[0], ": expected 32 hex digits"));
      }
    } else if (opts.argument.empty() || opts.argument.size() > kMaxSessionIdBytes) {
      return Invalid(absl::StrCat("SESSION_ID: expected 1..", kMaxSessionIdBytes, " bytes"));
    }
  } else if (!positional.empty()) {
    return Invalid(absl::StrCat("unexpected argument '", positional[0], "'"));
  }
  RETURN_IF_ERROR(CheckConnection(opts.connection));
  return opts;
}

}  // namespace tracer::ctl::remote
