#include "ctl/remote/remote_flags.h"

#include <getopt.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tracer::ctl::remote::flags {
namespace {

const option kLongOptions[] = {
    {"server", required_argument, nullptr, kServer},
    {"certs", required_argument, nullptr, kCerts},
    {"user", required_argument, nullptr, kUser},
    {"insecure", no_argument, nullptr, kInsecure},
    {"nodes", required_argument, nullptr, kNodes},
    {"pid", required_argument, nullptr, kPid},
    {"cgroup", required_argument, nullptr, kCgroup},
    {"comm", required_argument, nullptr, kComm},
    {"all-processes", no_argument, nullptr, kAllProcesses},
    {"syscall-class", required_argument, nullptr, kSyscallClass},
    {"expr", required_argument, nullptr, 'e'},
    {"filter-duration-gt", required_argument, nullptr, kFilterDurationGt},
    {"follow-forks", no_argument, nullptr, 'f'},
    {"http", no_argument, nullptr, kHttp},
    {"sampler", required_argument, nullptr, kSampler},
    {"sampler-arg", required_argument, nullptr, kSamplerArg},
    {"duration", required_argument, nullptr, kDuration},
    {"max-spans", required_argument, nullptr, kMaxSpans},
    {"name", required_argument, nullptr, kName},
    {"all", no_argument, nullptr, kAll},
    {"since", required_argument, nullptr, kSince},
    {"service", required_argument, nullptr, kService},
    {"limit", required_argument, nullptr, kLimit},
    {"endpoint", required_argument, nullptr, kEndpoint},
    {"protocol", required_argument, nullptr, kProtocol},
    {"header", required_argument, nullptr, kHeader},
    {"header-from-env", required_argument, nullptr, kHeaderFromEnv},
    {"compression", required_argument, nullptr, kCompression},
    {"timeout", required_argument, nullptr, kTimeout},
    {"ca", required_argument, nullptr, kCa},
    {"client-cert", required_argument, nullptr, kClientCert},
    {"client-key", required_argument, nullptr, kClientKey},
    {"backend-insecure", no_argument, nullptr, kBackendInsecure},
    {"replace", no_argument, nullptr, kReplace},
    {"max-batch-spans", required_argument, nullptr, kMaxBatchSpans},
    {"max-batch-bytes", required_argument, nullptr, kMaxBatchBytes},
    {"breaker-failures", required_argument, nullptr, kBreakerFailures},
    {"breaker-open-for", required_argument, nullptr, kBreakerOpenFor},
    {"retry-initial", required_argument, nullptr, kRetryInitial},
    {"retry-max", required_argument, nullptr, kRetryMax},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

}  // namespace

Getopt::Getopt(const std::vector<std::string>& args)
    : args_("tracectl", args.begin(), args.end()) {}

int Getopt::Next() {
  return getopt_long(args_.argc(), args_.argv(), ":e:fh", kLongOptions, nullptr);
}

std::string Getopt::Current() const { return args_.argv()[optind - 1]; }

std::vector<std::string> Getopt::Rest() const {
  return std::vector<std::string>(args_.argv() + optind, args_.argv() + args_.argc());
}

absl::Status Invalid(absl::string_view msg) { return absl::InvalidArgumentError(msg); }

absl::Status OtherFlagError(int c, const Getopt& g) {
  if (c == ':') return Invalid(absl::StrCat("option ", g.Current(), " needs an argument"));
  return Invalid(absl::StrCat("unknown option ", g.Current(), " (see tracectl help remote)"));
}

void ConnectionDefaults(const EnvLookup& env, ConnectionOptions* c) {
  if (auto v = env("TRACER_SERVER"); v && !v->empty()) c->server = *v;
  if (auto v = env("TRACER_CERTS"); v && !v->empty()) c->certs_dir = *v;
  if (auto v = env("TRACER_USER"); v && !v->empty()) c->user = *v;
}

// Handles a connection flag; false when `c` is not one.
bool ConnectionFlag(int c, ConnectionOptions* conn, absl::Status* status) {
  switch (c) {
    case kServer:
      conn->server = optarg;
      if (conn->server.empty() || conn->server.size() > kMaxStringBytes) {
        *status = Invalid("--server: expected HOST:PORT");
      }
      return true;
    case kCerts:
      conn->certs_dir = optarg;
      if (conn->certs_dir.empty()) *status = Invalid("--certs: empty directory name");
      return true;
    case kUser:
      conn->user = optarg;
      if (conn->user.empty()) *status = Invalid("--user: empty name");
      return true;
    case kInsecure:
      conn->insecure = true;
      return true;
    default:
      return false;
  }
}

absl::Status CheckConnection(const ConnectionOptions& c) {
  if (c.insecure) return absl::OkStatus();  // loopback is checked when dialing
  if (c.certs_dir.empty()) {
    return Invalid(
        "no certificates: give --certs DIR (with ca.pem, USER.pem, USER.key; or $TRACER_CERTS), "
        "or --insecure for a control plane on loopback");
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ParseUint(const std::string& flag, const char* arg, uint64_t max) {
  uint64_t v;
  if (!absl::SimpleAtoi(arg, &v) || v > max) {
    return Invalid(absl::StrCat(flag, " ", arg, ": expected a whole number up to ", max));
  }
  return v;
}

absl::StatusOr<absl::Duration> ParsePositiveDuration(const std::string& flag, const char* arg) {
  absl::Duration d;
  if (!absl::ParseDuration(arg, &d) || d <= absl::ZeroDuration() || d > absl::Hours(24 * 366)) {
    return Invalid(absl::StrCat(flag, " ", arg, ": expected a duration such as 90s, 10m, 2h"));
  }
  return d;
}

bool IsHex(const std::string& s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// KEY=VALUE of --header / --header-from-env.
absl::StatusOr<std::pair<std::string, std::string>> KeyValue(const std::string& flag,
                                                             const std::string& arg) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Invalid(absl::StrCat(flag, ": expected KEY=", flag == "--header" ? "VALUE" : "VAR"));
  }
  return std::make_pair(arg.substr(0, eq), arg.substr(eq + 1));
}

absl::Status AbsolutePath(const std::string& flag, const std::string& path) {
  if (path.empty() || path[0] != '/') {
    return Invalid(absl::StrCat(flag, " ", path,
                                ": give an absolute path (it is read on the control plane host)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> Milliseconds(const std::string& flag, const char* arg,
                                      absl::Duration max) {
  absl::Duration d;
  if (!absl::ParseDuration(arg, &d) || d < absl::Milliseconds(1) || d > max) {
    return Invalid(absl::StrCat(flag, " ", arg, ": expected a duration from 1ms to ",
                                absl::FormatDuration(max), " (e.g. 10s, 500ms)"));
  }
  return static_cast<uint32_t>(absl::ToInt64Milliseconds(d));
}

}  // namespace tracer::ctl::remote::flags
