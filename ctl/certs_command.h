// `tracectl certs init|issue`: the private CA and the certificates for the
// control plane (server), agents and users (auth/certs.h).
#ifndef TRACER_CTL_CERTS_COMMAND_H_
#define TRACER_CTL_CERTS_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/certs.h"

namespace tracer::ctl {

// A parsed `tracectl certs ...` command line.
struct CertsOptions {
  enum class Action { kInit, kIssue };
  Action action = Action::kInit;
  std::string dir;           // --dir DIR (required)
  bool force = false;        // --force: replace existing files
  auth::IssueRequest issue;  // for kIssue: --kind, --name, --role, --san, --days
  bool help = false;         // -h/--help
};

// Parses the words after `tracectl certs` (ACTION then flags). Returns
// INVALID_ARGUMENT naming the flag for unknown actions/flags, a missing
// --dir/--kind/--name, an unknown kind or role, --role on a non-user,
// --san on a non-server or a bad --days.
absl::StatusOr<CertsOptions> ParseCertsOptions(const std::vector<std::string>& args);

// The usage text of `tracectl certs`.
const char* CertsUsage();

// Runs `tracectl certs` with `args`; prints results to stdout and errors to
// stderr. Returns 0 on success, 2 for usage errors, 1 when creating the files
// failed (e.g. an existing CA without --force).
int CertsCommand(const std::vector<std::string>& args);

}  // namespace tracer::ctl

#endif  // TRACER_CTL_CERTS_COMMAND_H_
