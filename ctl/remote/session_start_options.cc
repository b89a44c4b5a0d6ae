// ParseSessionStart (remote_options.h): the target, capture, sampling and
// limits of `tracectl session start`, checked against the control plane's
// own session bounds (tracer/v1/session_limits.h).
#include <getopt.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "ctl/remote/remote_flags.h"
#include "ctl/remote/remote_options.h"
#include "syscalls/syscall_classes.h"
#include "tracer/v1/session_limits.h"

namespace tracer::ctl::remote {
namespace {

using flags::CheckConnection;
using flags::ConnectionDefaults;
using flags::ConnectionFlag;
using flags::Getopt;
using flags::Invalid;
using flags::kAll;
using flags::kAllProcesses;
using flags::kCgroup;
using flags::kComm;
using flags::kDuration;
using flags::kFilterDurationGt;
using flags::kHttp;
using flags::kLimit;
using flags::kMaxSpans;
using flags::kName;
using flags::kNodes;
using flags::kPid;
using flags::kSampler;
using flags::kSamplerArg;
using flags::kService;
using flags::kSince;
using flags::kSyscallClass;
using flags::OtherFlagError;
using flags::ParsePositiveDuration;
using flags::ParseUint;
using v1::kMaxCgroupPathBytes;
using v1::kMaxCommBytes;
using v1::kMaxLabelKeyBytes;
using v1::kMaxLabelValueBytes;
using v1::kMaxSelectorLabels;
using v1::kMaxSelectorNameBytes;
using v1::kMaxSelectorNames;
using v1::kMaxSessionNameBytes;
using v1::kMaxSyscallClasses;
using v1::kMaxSyscallNames;

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

}  // namespace tracer::ctl::remote
