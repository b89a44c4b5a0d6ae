#include "ctl/certs_command.h"

#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ctl/getopt_args.h"

namespace tracer::ctl {
namespace {

enum LongOnly { kDir = 1000, kForce, kKind, kName, kRole, kSan, kDays };

const option kLongOptions[] = {
    {"dir", required_argument, nullptr, kDir},
    {"force", no_argument, nullptr, kForce},
    {"kind", required_argument, nullptr, kKind},
    {"name", required_argument, nullptr, kName},
    {"role", required_argument, nullptr, kRole},
    {"san", required_argument, nullptr, kSan},
    {"days", required_argument, nullptr, kDays},
    {"help", no_argument, nullptr, 'h'},
    {nullptr, 0, nullptr, 0},
};

absl::Status Invalid(absl::string_view msg) { return absl::InvalidArgumentError(msg); }

}  // namespace

absl::StatusOr<CertsOptions> ParseCertsOptions(const std::vector<std::string>& args) {
  CertsOptions opts;
  if (args.empty()) return Invalid("missing action: init or issue (see tracectl certs --help)");
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    opts.help = true;
    return opts;
  }
  if (args[0] == "init") {
    opts.action = CertsOptions::Action::kInit;
  } else if (args[0] == "issue") {
    opts.action = CertsOptions::Action::kIssue;
  } else {
    return Invalid(absl::StrCat("unknown action '", args[0], "': expected init or issue"));
  }
  GetoptArgs words("tracectl certs", args.begin() + 1, args.end());
  char** argv = words.argv();
  const int argc = words.argc();

  bool have_kind = false, have_role = false;
  int c;
  while ((c = getopt_long(argc, argv, ":h", kLongOptions, nullptr)) != -1) {
    switch (c) {
      case kDir:
        opts.dir = optarg;
        if (opts.dir.empty()) return Invalid("--dir: empty directory name");
        break;
      case kForce:
        opts.force = true;
        break;
      case kKind: {
        std::string k = optarg;
        have_kind = true;
        if (k == "server") {
          opts.issue.kind = auth::CertKind::kServer;
        } else if (k == "agent") {
          opts.issue.kind = auth::CertKind::kAgent;
        } else if (k == "user") {
          opts.issue.kind = auth::CertKind::kUser;
        } else {
          return Invalid(absl::StrCat("--kind ", k, ": expected server, agent or user"));
        }
        break;
      }
      case kName:
        opts.issue.name = optarg;
        break;
      case kRole: {
        auto r = auth::ParseRole(optarg);
        if (!r || (*r != auth::Role::kViewer && *r != auth::Role::kOperator &&
                   *r != auth::Role::kAdmin)) {
          return Invalid(absl::StrCat("--role ", optarg, ": expected viewer, operator or admin"));
        }
        opts.issue.role = *r;
        have_role = true;
        break;
      }
      case kSan:
        // Repeatable, and each value may be a comma-separated list.
        for (absl::string_view s : absl::StrSplit(optarg, ',', absl::SkipEmpty())) {
          opts.issue.sans.emplace_back(s);
        }
        break;
      case kDays: {
        int days;
        if (!absl::SimpleAtoi(optarg, &days) || days < 1 || days > 3650) {
          return Invalid(absl::StrCat("--days ", optarg, ": expected 1..3650"));
        }
        opts.issue.validity_days = days;
        break;
      }
      case 'h':
        opts.help = true;
        return opts;
      case ':':
        return Invalid(absl::StrCat("option ", argv[optind - 1], " needs an argument"));
      default:
        return Invalid(
            absl::StrCat("unknown option ", argv[optind - 1], " (see tracectl certs --help)"));
    }
  }
  if (optind < argc) {
    return Invalid(absl::StrCat("unexpected argument '", argv[optind], "'"));
  }
  if (opts.dir.empty()) return Invalid("--dir DIR is required");
  if (opts.action == CertsOptions::Action::kInit) {
    if (have_kind || !opts.issue.name.empty() || have_role || !opts.issue.sans.empty()) {
      return Invalid("certs init takes only --dir and --force");
    }
    return opts;
  }
  if (!have_kind) return Invalid("--kind server|agent|user is required");
  if (opts.issue.name.empty()) return Invalid("--name NAME is required");
  if (opts.issue.kind == auth::CertKind::kUser && !have_role) {
    return Invalid("--role viewer|operator|admin is required for --kind user");
  }
  if (opts.issue.kind != auth::CertKind::kUser && have_role) {
    return Invalid(absl::StrCat("--role: only users have a role (",
                                auth::CertKindName(opts.issue.kind), " certificates get role '",
                                opts.issue.kind == auth::CertKind::kAgent ? "agent" : "server",
                                "')"));
  }
  if (opts.issue.kind == auth::CertKind::kServer && opts.issue.sans.empty()) {
    return Invalid("--san is required for --kind server (e.g. --san localhost --san 127.0.0.1)");
  }
  if (opts.issue.kind != auth::CertKind::kServer && !opts.issue.sans.empty()) {
    return Invalid("--san: only server certificates take SAN entries");
  }
  return opts;
}

const char* CertsUsage() {
  return R"(Usage: tracectl certs init  --dir DIR [--force]
       tracectl certs issue --dir DIR --kind server|agent|user --name NAME
                            [--role viewer|operator|admin] [--san HOST]...
                            [--days N] [--force]

Create a private certificate authority and issue the certificates that every
tracer connection requires (mutual TLS 1.3).

  init     create DIR/ca.pem and DIR/ca.key: an EC P-256 CA valid 10 years.
           An existing CA is never replaced without --force (replacing it
           invalidates every certificate it issued).
  issue    write DIR/NAME.pem and DIR/NAME.key signed by that CA:
             --kind server   the control plane; --san HOST (repeatable or
                             comma-separated: DNS names and IP addresses the
                             clients dial, e.g. --san localhost,127.0.0.1)
             --kind agent    an agent; NAME is its node id
             --kind user     a tracectl user; --role is required:
                               viewer    list and show
                               operator  also start and stop sessions
                               admin     everything
           --days N  validity (default 825, at most 3650)

The role is stored in the certificate as the subjectAltName URI
urn:tracer:role:ROLE (agents: agent, servers: server).
Keys are written mode 0600, certificates 0644.

Example:
  tracectl certs init  --dir ./pki
  tracectl certs issue --dir ./pki --kind server --name controlplane --san localhost,127.0.0.1
  tracectl certs issue --dir ./pki --kind agent  --name node-1
  tracectl certs issue --dir ./pki --kind user   --name alice --role operator
)";
}

int CertsCommand(const std::vector<std::string>& args) {
  auto opts = ParseCertsOptions(args);
  if (!opts.ok()) {
    std::fprintf(stderr, "tracectl certs: %s\n", std::string(opts.status().message()).c_str());
    return 2;
  }
  if (opts->help) {
    std::fputs(CertsUsage(), stdout);
    return 0;
  }
  if (opts->action == CertsOptions::Action::kInit) {
    absl::Status s = auth::CreateCa(opts->dir, opts->force);
    if (!s.ok()) {
      std::fprintf(stderr, "tracectl certs init: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    auth::CertPaths p = auth::CaPaths(opts->dir);
    std::printf("created CA %s (key %s, mode 0600)\n", p.cert.c_str(), p.key.c_str());
    return 0;
  }
  auto p = auth::IssueCertificate(opts->dir, opts->issue, opts->force);
  if (!p.ok()) {
    std::fprintf(stderr, "tracectl certs issue: %s\n", std::string(p.status().message()).c_str());
    return p.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  auth::Role role = opts->issue.kind == auth::CertKind::kUser    ? opts->issue.role
                    : opts->issue.kind == auth::CertKind::kAgent ? auth::Role::kAgent
                                                                 : auth::Role::kServer;
  std::printf("issued %s certificate %s (key %s, mode 0600), role %s\n",
              auth::CertKindName(opts->issue.kind), p->cert.c_str(), p->key.c_str(),
              auth::RoleName(role));
  return 0;
}

}  // namespace tracer::ctl
