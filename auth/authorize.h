// Who is calling: the peer's identity and role from a gRPC server call, and
// the per-RPC authorization check every tracer service runs first.
//
// Rules (DESIGN.md "Security"; role encoding in role.h):
// - TLS peers: the verified client certificate's role URI decides. viewer <
//   operator < admin; an agent certificate is accepted only where kAgent is
//   required (AgentService) and nowhere else; a server certificate nowhere.
// - Plain-text (`--insecure`, loopback-only servers; tls.h): a peer whose
//   address is loopback is trusted with kInsecureLoopbackRole (admin) and is
//   also accepted for AgentService, so a local agent and tracectl work without
//   certificates; a non-loopback peer on a plain-text server is refused.
#ifndef TRACER_AUTH_AUTHORIZE_H_
#define TRACER_AUTH_AUTHORIZE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "auth/role.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace tracer::auth {

// The role of a loopback peer on a plain-text (`--insecure`) server.
inline constexpr Role kInsecureLoopbackRole = Role::kAdmin;

// The caller of one RPC.
struct PeerIdentity {
  Role role = Role::kViewer;
  std::string subject;      // "CN=alice,O=tracer"; "insecure-loopback" without TLS
  std::string common_name;  // CN: user name or agent node id ("" without TLS)
  bool insecure = false;    // plain-text loopback peer (see the rules above)
};

// Reads the caller's identity from `context` (its AuthContext's
// "x509_pem_cert" property, or the transport type and peer address without
// TLS). Errors: UNAUTHENTICATED with the reason (no certificate, no or an
// unknown role in it, plain text from a non-loopback peer).
absl::StatusOr<PeerIdentity> PeerIdentityOf(const grpc::ServerContextBase& context);

// The first statement of every RPC handler:
//   if (auto s = Authorize(*ctx, Role::kOperator, "StartSession"); !s.ok()) return s;
// Returns OK when the caller holds `required` (RoleSatisfies, or the
// insecure-loopback rule); UNAUTHENTICATED when it has no usable identity;
// PERMISSION_DENIED when its role is too low or of the wrong kind. Every
// refusal is logged (WARNING) with the subject, peer address and `method`.
grpc::Status Authorize(const grpc::ServerContextBase& context, Role required,
                       absl::string_view method = "");

}  // namespace tracer::auth

#endif  // TRACER_AUTH_AUTHORIZE_H_
