#include "auth/role.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace tracer::auth {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kAdmin:
      return "admin";
    case Role::kAgent:
      return "agent";
    case Role::kServer:
      return "server";
  }
  return "unknown";
}

std::optional<Role> ParseRole(absl::string_view name) {
  for (Role r : {Role::kViewer, Role::kOperator, Role::kAdmin, Role::kAgent, Role::kServer}) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

std::string RoleUri(Role role) { return absl::StrCat(kRoleUriPrefix, RoleName(role)); }

std::optional<Role> RoleFromUri(absl::string_view uri) {
  if (!absl::ConsumePrefix(&uri, kRoleUriPrefix)) return std::nullopt;
  return ParseRole(uri);
}

namespace {
// Rank of a user role; -1 for roles outside the user order.
int UserRank(Role r) {
  switch (r) {
    case Role::kViewer:
      return 0;
    case Role::kOperator:
      return 1;
    case Role::kAdmin:
      return 2;
    case Role::kAgent:
    case Role::kServer:
      return -1;
  }
  return -1;
}
}  // namespace

bool RoleSatisfies(Role have, Role need) {
  if (need == Role::kAgent) return have == Role::kAgent;
  if (need == Role::kServer) return false;
  int h = UserRank(have);
  return h >= 0 && h >= UserRank(need);
}

}  // namespace tracer::auth
