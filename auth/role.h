// Roles carried in tracer certificates, and their names.
//
// Where the role lives: every certificate issued by auth/certs.h
// carries exactly one subjectAltName URI of the form
//   urn:tracer:role:<name>
// with <name> one of viewer, operator, admin, agent, server. That URI is the
// only place a role is read from (roles.h); the Subject is informational.
#ifndef TRACER_AUTH_ROLE_H_
#define TRACER_AUTH_ROLE_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace tracer::auth {

// Who a peer is allowed to be. Users are ordered viewer < operator < admin;
// kAgent may call only AgentService; kServer (a control plane's own
// certificate) may call nothing.
enum class Role { kViewer, kOperator, kAdmin, kAgent, kServer };

// The URI prefix of the role SAN: "urn:tracer:role:".
inline constexpr absl::string_view kRoleUriPrefix = "urn:tracer:role:";

// "viewer", "operator", "admin", "agent" or "server".
const char* RoleName(Role role);

// Parses a role name (exact, lower case). nullopt for anything else.
std::optional<Role> ParseRole(absl::string_view name);

// The SAN URI that encodes `role`, e.g. "urn:tracer:role:viewer".
std::string RoleUri(Role role);

// Parses a SAN URI of the form kRoleUriPrefix + name; nullopt otherwise.
std::optional<Role> RoleFromUri(absl::string_view uri);

// True when a caller holding `have` may call an RPC that requires `need`.
// User roles compare by rank (viewer < operator < admin); kAgent satisfies
// only kAgent; kServer satisfies nothing; nothing but kAgent satisfies kAgent.
bool RoleSatisfies(Role have, Role need);

}  // namespace tracer::auth

#endif  // TRACER_AUTH_ROLE_H_
