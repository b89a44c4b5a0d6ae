#include "ctl/remote/remote_options.h"

#include <getopt.h>

#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "syscalls/syscall_classes.h"
#include "tracer/v1/session_limits.h"

namespace tracer::ctl::remote {
namespace {

// Session bounds are the control plane's (tracer/v1/session_limits.h).
using v1::kMaxCgroupPathBytes;
using v1::kMaxCommBytes;
using v1::kMaxLabelKeyBytes;
using v1::kMaxLabelValueBytes;
using v1::kMaxSelectorLabels;
using v1::kMaxSelectorNameBytes;
using v1::kMaxSelectorNames;
using v1::kMaxSessionIdBytes;
using v1::kMaxSessionNameBytes;
using v1::kMaxSyscallClasses;
using v1::kMaxSyscallNames;
// A HOST:PORT or a service name (DNS name length).
constexpr size_t kMaxStringBytes = 253;

enum LongOnly {
  kServer = 1000,
  kCerts,
  kUser,
  kInsecure,
  kNodes,
  kPid,
  kCgroup,
  kComm,
  kAllProcesses,
  kSyscallClass,
  kFilterDurationGt,
  kHttp,
  kSampler,
  kSamplerArg,
  kDuration,
  kMaxSpans,
  kName,
  kAll,
  kSince,
  kService,
  kLimit,
  kEndpoint,
  kProtocol,
  kHeader,
  kHeaderFromEnv,
  kCompression,
  kTimeout,
  kCa,
  kClientCert,
  kClientKey,
  kBackendInsecure,
  kReplace,
  kMaxBatchSpans,
  kMaxBatchBytes,
  kBreakerFailures,
  kBreakerOpenFor,
  kRetryInitial,
  kRetryMax,
};

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

absl::Status Invalid(absl::string_view msg) { return absl::InvalidArgumentError(msg); }

// getopt_long over `args` (prefixed with a program name).
class Getopt {
 public:
  explicit Getopt(const std::vector<std::string>& args) : storage_{"tracectl"} {
    storage_.insert(storage_.end(), args.begin(), args.end());
    for (std::string& s : storage_) argv_.push_back(s.data());
    argv_.push_back(nullptr);
    optind = 0;
    opterr = 0;
  }
  int Next() {
    return getopt_long(static_cast<int>(argv_.size() - 1), argv_.data(), ":e:fh", kLongOptions,
                       nullptr);
  }
  std::string Current() const { return argv_[optind - 1]; }
  std::vector<std::string> Rest() const {
    return std::vector<std::string>(argv_.begin() + optind, argv_.end() - 1);
  }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> argv_;
};

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

absl::Status OtherFlagError(int c, const Getopt& g) {
  if (c == ':') return Invalid(absl::StrCat("option ", g.Current(), " needs an argument"));
  return Invalid(absl::StrCat("unknown option ", g.Current(), " (see tracectl help remote)"));
}

absl::Status ParseNodes(const std::string& value, tracer::v1::NodeSelector* nodes) {
  nodes->Clear();
  if (value == "all") {
    nodes->set_all(true);
    return absl::OkStatus();
  }
  absl::string_view rest = value;
  if (absl::ConsumePrefix(&rest, "label=")) {
    for (absl::string_view pair : absl::StrSplit(rest, ',')) {
      std::pair<std::string, std::string> kv = absl::StrSplit(pair, absl::MaxSplits('=', 1));
      if (kv.first.empty() || pair.find('=') == absl::string_view::npos) {
        return Invalid(absl::StrCat("--nodes ", value, ": expected label=KEY=VALUE[,KEY=VALUE]"));
      }
      if (kv.first.size() > kMaxLabelKeyBytes || kv.second.size() > kMaxLabelValueBytes) {
        return Invalid(absl::StrCat("--nodes: label ", kv.first, " is too long"));
      }
      (*nodes->mutable_labels())[kv.first] = kv.second;
    }
    if (nodes->labels_size() > static_cast<int>(kMaxSelectorLabels)) {
      return Invalid(absl::StrCat("--nodes: at most ", kMaxSelectorLabels, " labels"));
    }
    return absl::OkStatus();
  }
  for (absl::string_view name : absl::StrSplit(value, ',')) {
    if (name.empty() || name.size() > kMaxSelectorNameBytes) {
      return Invalid(absl::StrCat("--nodes ", value, ": empty or over-long node name"));
    }
    nodes->add_names(std::string(name));
  }
  if (nodes->names_size() > static_cast<int>(kMaxSelectorNames)) {
    return Invalid(absl::StrCat("--nodes: at most ", kMaxSelectorNames, " names"));
  }
  return absl::OkStatus();
}

absl::Status AddClass(const std::string& raw, const std::string& flag, tracer::v1::Capture* cap) {
  std::string cls = raw;
  if (!cls.empty() && cls[0] == '%') cls.erase(0, 1);
  if (!syscalls::SyscallsInClass(cls).ok()) {
    std::string known;
    for (std::string_view name : syscalls::SyscallClassNames()) {
      absl::StrAppend(&known, known.empty() ? "" : ", ", std::string(name));
    }
    return Invalid(absl::StrCat(flag, " ", raw, ": unknown class (known: ", known, ")"));
  }
  cap->add_syscall_classes(cls);
  return absl::OkStatus();
}

// -e trace=a,b,%class: names and classes only (no negation, '?' or regex, which
// a session cannot carry).
absl::Status ParseExpr(const std::string& arg, tracer::v1::Capture* cap) {
  absl::string_view expr = arg;
  if (!absl::ConsumePrefix(&expr, "trace=")) absl::ConsumePrefix(&expr, "t=");
  if (expr.find('=') != absl::string_view::npos) {
    return Invalid(absl::StrCat("-e ", arg, ": only the trace= qualifier is supported"));
  }
  for (absl::string_view item : absl::StrSplit(expr, ',')) {
    std::string e(item);
    if (e.empty()) return Invalid(absl::StrCat("-e ", arg, ": empty element"));
    if (e[0] == '%') {
      RETURN_IF_ERROR(AddClass(e, "-e", cap));
      continue;
    }
    if (e[0] == '!' || e[0] == '?' || e[0] == '/') {
      return Invalid(
          absl::StrCat("-e ", arg, ": '", e, "': sessions take syscall names and %classes only"));
    }
    auto nrs = syscalls::ParseTraceExpression(e);
    if (!nrs.ok()) return Invalid(absl::StrCat("-e ", arg, ": ", nrs.status().message()));
    cap->add_syscalls(e);
  }
  return absl::OkStatus();
}

absl::StatusOr<tracer::v1::Sampling::Sampler> ParseSampler(const std::string& s) {
  using S = tracer::v1::Sampling;
  if (s == "always_on") return S::ALWAYS_ON;
  if (s == "always_off") return S::ALWAYS_OFF;
  if (s == "traceidratio") return S::TRACE_ID_RATIO;
  if (s == "parentbased_always_on") return S::PARENT_BASED_ALWAYS_ON;
  if (s == "parentbased_always_off") return S::PARENT_BASED_ALWAYS_OFF;
  if (s == "parentbased_traceidratio") return S::PARENT_BASED_TRACE_ID_RATIO;
  return Invalid(absl::StrCat("--sampler ", s,
                              ": expected always_on, always_off, traceidratio, "
                              "parentbased_always_on, parentbased_always_off or "
                              "parentbased_traceidratio"));
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

// Handles one `exporters add` flag; false when `c` is not one.
bool ExporterFlag(int c, const EnvLookup& env, tracer::v1::ExporterSpec* spec, bool* replace,
                  absl::Status* status) {
  switch (c) {
    case kEndpoint:
      spec->set_endpoint(optarg);
      if (spec->endpoint().empty() || spec->endpoint().size() > 2048) {
        *status = Invalid("--endpoint: expected a URL of 1..2048 bytes");
      }
      return true;
    case kProtocol:
      spec->set_protocol(optarg);
      if (spec->protocol() != "grpc" && spec->protocol() != "http/protobuf" &&
          spec->protocol() != "http/json") {
        *status = Invalid(
            absl::StrCat("--protocol ", optarg, ": expected grpc, http/protobuf or http/json"));
      }
      return true;
    case kHeader:
    case kHeaderFromEnv: {
      const std::string flag = c == kHeader ? "--header" : "--header-from-env";
      auto kv = KeyValue(flag, optarg);
      if (!kv.ok()) {
        *status = kv.status();
        return true;
      }
      auto* h = spec->add_headers();
      h->set_key(kv->first);
      if (c == kHeader) {
        h->set_value(kv->second);
      } else {
        std::optional<std::string> value = env(kv->second);
        if (!value) {
          *status = Invalid(absl::StrCat(flag, " ", optarg, ": $", kv->second, " is not set"));
          return true;
        }
        h->set_value(*value);
      }
      return true;
    }
    case kCompression:
      spec->set_compression(optarg);
      if (spec->compression() != "none" && spec->compression() != "gzip") {
        *status = Invalid(absl::StrCat("--compression ", optarg, ": expected none or gzip"));
      }
      return true;
    case kTimeout: {
      auto ms = Milliseconds("--timeout", optarg, absl::Minutes(10));
      if (ms.ok()) {
        spec->set_timeout_ms(*ms);
      } else {
        *status = ms.status();
      }
      return true;
    }
    case kCa:
      spec->set_certificate_file(optarg);
      *status = AbsolutePath("--ca", optarg);
      return true;
    case kClientCert:
      spec->set_client_certificate_file(optarg);
      *status = AbsolutePath("--client-cert", optarg);
      return true;
    case kClientKey:
      spec->set_client_key_file(optarg);
      *status = AbsolutePath("--client-key", optarg);
      return true;
    case kBackendInsecure:
      spec->set_insecure(true);
      return true;
    case kReplace:
      *replace = true;
      return true;
    case kMaxBatchSpans: {
      auto n = ParseUint("--max-batch-spans", optarg, 1000000);
      if (n.ok() && *n > 0) {
        spec->set_max_batch_spans(static_cast<uint32_t>(*n));
      } else {
        *status = Invalid(absl::StrCat("--max-batch-spans ", optarg, ": expected 1..1000000"));
      }
      return true;
    }
    case kMaxBatchBytes: {
      auto n = ParseUint("--max-batch-bytes", optarg, uint64_t{64} << 20);
      if (n.ok() && *n > 0) {
        spec->set_max_batch_bytes(*n);
      } else {
        *status = Invalid(absl::StrCat("--max-batch-bytes ", optarg, ": expected 1..67108864"));
      }
      return true;
    }
    case kBreakerFailures: {
      auto n = ParseUint("--breaker-failures", optarg, 1000);
      if (n.ok() && *n > 0) {
        spec->set_breaker_failure_threshold(static_cast<uint32_t>(*n));
      } else {
        *status = Invalid(absl::StrCat("--breaker-failures ", optarg, ": expected 1..1000"));
      }
      return true;
    }
    case kBreakerOpenFor: {
      auto ms = Milliseconds("--breaker-open-for", optarg, absl::Hours(1));
      if (ms.ok()) {
        spec->set_breaker_open_for_ms(*ms);
      } else {
        *status = ms.status();
      }
      return true;
    }
    case kRetryInitial:
    case kRetryMax: {
      const bool initial = c == kRetryInitial;
      auto ms = Milliseconds(initial ? "--retry-initial" : "--retry-max", optarg, absl::Hours(1));
      if (!ms.ok()) {
        *status = ms.status();
      } else if (initial) {
        spec->set_retry_initial_interval_ms(*ms);
      } else {
        spec->set_retry_max_interval_ms(*ms);
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<SessionStartOptions> ParseSessionStart(const std::vector<std::string>& args,
                                                      const EnvLookup& env) {
  SessionStartOptions opts;
  ConnectionDefaults(env, &opts.connection);
  tracer::v1::Session* session = opts.request.mutable_session();
  session->mutable_nodes()->set_all(true);
  tracer::v1::Capture* cap = session->mutable_capture();
  bool have_sampler_arg = false;
  double ratio = 1.0;
  tracer::v1::Sampling::Sampler sampler = tracer::v1::Sampling::ALWAYS_ON;
  int targets = 0;
  Getopt g(args);
  int c;
  absl::Status status;
  while ((c = g.Next()) != -1) {
    if (ConnectionFlag(c, &opts.connection, &status)) {
      if (!status.ok()) return status;
      continue;
    }
    switch (c) {
      case kNodes:
        RETURN_IF_ERROR(ParseNodes(optarg, session->mutable_nodes()));
        break;
      case kPid: {
        auto pid = ParseUint("--pid", optarg, v1::kMaxPid);
        if (!pid.ok() || *pid == 0)
          return Invalid(absl::StrCat("--pid ", optarg, ": not a process id"));
        session->mutable_target()->set_pid(static_cast<uint32_t>(*pid));
        ++targets;
        break;
      }
      case kCgroup: {
        std::string p = optarg;
        if (p.empty() || p[0] != '/' || p.size() > kMaxCgroupPathBytes) {
          return Invalid(absl::StrCat(
              "--cgroup ", p,
              ": expected an absolute cgroup v2 path (e.g. /system.slice/nginx.service)"));
        }
        session->mutable_target()->set_cgroup_path(p);
        ++targets;
        break;
      }
      case kComm: {
        std::string comm = optarg;
        if (comm.empty() || comm.size() > kMaxCommBytes || comm.find('/') != std::string::npos) {
          return Invalid(absl::StrCat(
              "--comm ", comm, ": expected an executable name of 1..15 bytes (the kernel's comm)"));
        }
        session->mutable_target()->set_comm(comm);
        ++targets;
        break;
      }
      case kAllProcesses:
        session->mutable_target()->set_all_processes(true);
        ++targets;
        break;
      case kSyscallClass:
        RETURN_IF_ERROR(AddClass(optarg, "--syscall-class", cap));
        break;
      case 'e':
        RETURN_IF_ERROR(ParseExpr(optarg, cap));
        break;
      case kFilterDurationGt: {
        auto us = ParseUint("--filter-duration-gt", optarg, 3600ull * 1000 * 1000);
        if (!us.ok()) return us.status();
        cap->set_min_duration_us(*us);
        break;
      }
      case 'f':
        cap->set_follow_forks(true);
        break;
      case kHttp:
        cap->set_http(true);
        break;
      case kSampler: {
        auto s = ParseSampler(optarg);
        if (!s.ok()) return s.status();
        sampler = *s;
        break;
      }
      case kSamplerArg:
        if (!absl::SimpleAtod(optarg, &ratio) || !(ratio >= 0.0 && ratio <= 1.0)) {
          return Invalid(absl::StrCat("--sampler-arg ", optarg, ": expected a ratio in 0..1"));
        }
        have_sampler_arg = true;
        break;
      case kDuration: {
        auto d = ParsePositiveDuration("--duration", optarg);
        if (!d.ok()) return d.status();
        uint64_t secs = static_cast<uint64_t>(absl::ToInt64Seconds(*d));
        if (secs == 0) return Invalid(absl::StrCat("--duration ", optarg, ": at least 1s"));
        session->mutable_limits()->set_duration_seconds(secs);
        break;
      }
      case kMaxSpans: {
        auto n = ParseUint("--max-spans", optarg, v1::kMaxSessionSpans);
        if (!n.ok() || *n == 0)
          return Invalid(absl::StrCat("--max-spans ", optarg, ": expected a positive number"));
        session->mutable_limits()->set_max_spans(*n);
        break;
      }
      case kName:
        if (std::string(optarg).size() > kMaxSessionNameBytes) {
          return Invalid(absl::StrCat("--name: at most ", kMaxSessionNameBytes, " bytes"));
        }
        session->set_name(optarg);
        break;
      case 'h':
        opts.help = true;
        return opts;
      case kAll:
      case kSince:
      case kService:
      case kLimit:
        return Invalid(absl::StrCat(g.Current(), " does not apply to session start"));
      default:
        return OtherFlagError(c, g);
    }
  }
  if (!g.Rest().empty()) return Invalid(absl::StrCat("unexpected argument '", g.Rest()[0], "'"));
  if (targets == 0) {
    return Invalid("no target: give one of --pid N, --cgroup PATH, --comm NAME, --all-processes");
  }
  if (targets > 1) {
    return Invalid("give only one target: --pid, --cgroup, --comm or --all-processes");
  }
  if (cap->syscall_classes_size() > static_cast<int>(kMaxSyscallClasses)) {
    return Invalid(
        absl::StrCat("--syscall-class/-e %CLASS: at most ", kMaxSyscallClasses, " classes"));
  }
  if (cap->syscalls_size() > static_cast<int>(kMaxSyscallNames)) {
    return Invalid(absl::StrCat("-e trace=: at most ", kMaxSyscallNames, " syscall names"));
  }
  bool ratio_sampler = sampler == tracer::v1::Sampling::TRACE_ID_RATIO ||
                       sampler == tracer::v1::Sampling::PARENT_BASED_TRACE_ID_RATIO;
  if (have_sampler_arg && !ratio_sampler) {
    return Invalid("--sampler-arg applies only to traceidratio and parentbased_traceidratio");
  }
  session->mutable_sampling()->set_sampler(sampler);
  if (ratio_sampler) session->mutable_sampling()->set_ratio(ratio);
  RETURN_IF_ERROR(CheckConnection(opts.connection));
  return opts;
}

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

const char* RemoteUsage() {
  return R"(Usage: tracectl session start TARGET [CAPTURE] [SAMPLING] [LIMITS] [CONNECTION]
       tracectl session stop SESSION_ID
       tracectl session list [--all]
       tracectl session show SESSION_ID
       tracectl traces list [--since 10m] [--service NAME] [--limit N]
       tracectl traces show TRACE_ID
       tracectl agents list
       tracectl exporters add NAME --endpoint URL [EXPORTER FLAGS]
       tracectl exporters remove NAME
       tracectl exporters list
       tracectl status

Remote sessions: the control plane pushes the session to the selected agents,
which trace the target and upload spans. Viewers may list and show; starting
and stopping sessions needs an operator (or admin) certificate.

session start:
  --nodes all|NAME[,NAME...]|label=KEY=VALUE[,KEY=VALUE...]   (default all)
  Target, exactly one of:
    --pid N | --cgroup PATH | --comm NAME | --all-processes
  Capture:
    --syscall-class C          a strace class: file, desc, network, process, signal, ipc,
                               memory, creds, clock, pure, stat, statfs, ...
                               (repeatable); -e trace=NAME,%CLASS,... likewise
    --filter-duration-gt US    keep syscalls slower than US microseconds
    -f, --follow-forks         also trace children of targets
    --http                     HTTP SERVER/CLIENT spans
  Sampling (deterministic on the trace id, so every node agrees):
    --sampler always_on|always_off|traceidratio|parentbased_always_on|
              parentbased_always_off|parentbased_traceidratio   (default always_on)
    --sampler-arg R            ratio 0..1 for the *traceidratio samplers (default 1)
  Limits:
    --duration D               e.g. 90s, 10m, 2h (default: until stopped)
    --max-spans N              per agent
    --name NAME                a label for humans (<= 128 bytes)

exporters: the OTLP backends the control plane delivers every span to (each
with its own queue cursor: a dead backend catches up later). Adding and
removing needs an admin certificate; header values are secrets and are never
shown again.
  add NAME (1..64 of a-z 0-9 _ . -)
    --endpoint URL             grpc: [http://|https://]host:port (default port
                               4317); http/*: http(s)://host[:port][/path],
                               "/v1/traces" appended when there is no path
    --protocol P               grpc (default), http/protobuf, http/json
    --header KEY=VALUE         request header / gRPC metadata (repeatable)
    --header-from-env KEY=VAR  the same, value read from $VAR (keeps tokens
                               out of the command line and shell history)
    --compression none|gzip    (default none)
    --timeout D                per export attempt, 1ms..10m (default 10s)
    --ca FILE                  CA bundle that verifies the backend (default:
                               system roots); absolute path on the control
                               plane host, like --client-cert/--client-key
    --client-cert FILE --client-key FILE   mutual TLS with the backend
    --backend-insecure         grpc endpoint without scheme: plain text
                               (--insecure is tracectl's own connection)
    --max-batch-spans N        spans per request (default 8192)
    --max-batch-bytes N        bytes per request (default 4194304)
    --breaker-failures N       consecutive failures that open the circuit (5)
    --breaker-open-for D       wait before the half-open probe (30s)
    --retry-initial D          first wait after a retryable failure (5s)
    --retry-max D              longest wait between attempts (30s)
    --replace                  replace an exporter of the same name
  remove NAME                  stop it and drop its queue cursor
  list                         name, protocol, endpoint, version, source and
                               header keys

Connection (every command):
  --server HOST:PORT   control plane (default $TRACER_SERVER or localhost:7443)
  --certs DIR          certificate directory (default $TRACER_CERTS) holding
                       ca.pem, USER.pem and USER.key (tracectl certs issue)
  --user NAME          whose certificate to use (default $TRACER_USER or admin)
  --insecure           plain text without certificates; loopback only
)";
}

}  // namespace tracer::ctl::remote
