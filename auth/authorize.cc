#include "auth/authorize.h"

#include "absl/strings/str_cat.h"
#include "auth/certs.h"
#include "auth/tls.h"
#include "glog/logging.h"

namespace tracer::auth {
namespace {

std::string FirstProperty(const grpc::AuthContext& auth, const char* name) {
  auto values = auth.FindPropertyValues(name);
  if (values.empty()) return "";
  return std::string(values[0].data(), values[0].size());
}

}  // namespace

absl::StatusOr<PeerIdentity> PeerIdentityOf(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::string transport =
      auth ? FirstProperty(*auth, GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME) : "";
  if (transport != GRPC_SSL_TRANSPORT_SECURITY_TYPE) {
    // Plain text: only a loopback-only server can get here (tls.h), but the
    // peer is checked too so a misconfigured listener cannot grant admin.
    std::string peer = context.peer();
    if (!CheckLoopbackAddress(peer).ok()) {
      return absl::UnauthenticatedError(
          absl::StrCat("plain-text connection from non-loopback peer ", peer));
    }
    PeerIdentity id;
    id.role = kInsecureLoopbackRole;
    id.subject = "insecure-loopback";
    id.insecure = true;
    return id;
  }
  if (!auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("no verified client certificate");
  }
  std::string pem = FirstProperty(*auth, GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pem.empty()) return absl::UnauthenticatedError("no client certificate");
  auto cert = ParseCertificatePem(pem);
  if (!cert.ok()) return absl::UnauthenticatedError("unreadable client certificate");
  auto role = RoleOf(*cert);
  if (!role.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate ", cert->subject, ": ", role.status().message()));
  }
  PeerIdentity id;
  id.role = *role;
  id.subject = cert->subject;
  id.common_name = cert->common_name;
  return id;
}

grpc::Status Authorize(const grpc::ServerContextBase& context, Role required,
                       absl::string_view method) {
  auto id = PeerIdentityOf(context);
  if (!id.ok()) {
    LOG(WARNING) << "refused " << method << " from " << context.peer()
                 << ": unauthenticated: " << id.status().message();
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(id.status().message()));
  }
  if (id->insecure || RoleSatisfies(id->role, required)) return grpc::Status::OK;
  LOG(WARNING) << "refused " << method << " from " << context.peer() << " (" << id->subject
               << "): role " << RoleName(id->role) << ", needs " << RoleName(required);
  return grpc::Status(
      grpc::StatusCode::PERMISSION_DENIED,
      absl::StrCat(method.empty() ? "this call" : method, " needs role ", RoleName(required), "; ",
                   id->subject, " has role ", RoleName(id->role)));
}

}  // namespace tracer::auth
