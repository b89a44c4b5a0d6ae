// Certificate tooling for the appliance's mutual TLS: a private CA and the
// server, agent and user certificates it signs (OpenSSL libcrypto).
//
// Layout of a certificate directory (all PEM):
//   ca.pem, ca.key             the CA (EC P-256, self-signed, 10 years)
//   <name>.pem, <name>.key     an issued certificate and its key
// Keys are written mode 0600, certificates 0644 (regardless of umask).
//
// Issued certificates: EC P-256 keys, ECDSA-SHA256 signatures, X.509 v3,
// 128-bit random serials, subject "O=tracer, CN=<name>" (for agents the CN is
// the node id), basicConstraints CA:FALSE, keyUsage digitalSignature,
// extendedKeyUsage serverAuth (server) / clientAuth (agent, user) — servers
// get both so a control plane can also dial out —, and subjectAltName entries:
// the caller's DNS/IP entries (servers) plus exactly one role URI
// "urn:tracer:role:<role>" (role.h) — the only place the role is encoded.
// Profile after RFC 5280 (sections 4.1, 4.2.1.2/3/6/9/12).
//
// Thread-safety: the functions are stateless and safe to call concurrently
// for different directories.
#ifndef TRACER_AUTH_CERTS_H_
#define TRACER_AUTH_CERTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "auth/role.h"

namespace tracer::auth {

// What an issued certificate is for.
enum class CertKind { kServer, kAgent, kUser };

// "server", "agent", "user".
const char* CertKindName(CertKind kind);

// Paths of a certificate and its key.
struct CertPaths {
  std::string cert;  // PEM certificate
  std::string key;   // PEM private key (PKCS#8, unencrypted)
};

// The CA's file paths inside `dir`: dir/ca.pem and dir/ca.key.
CertPaths CaPaths(const std::string& dir);

// The file paths for certificate `name` inside `dir`: dir/<name>.pem, .key.
CertPaths IssuedPaths(const std::string& dir, const std::string& name);

// Creates `dir` (mode 0700) if missing and a new CA in it: an EC P-256 key
// and a self-signed certificate, CN "tracer CA", valid 10 years (3650 days)
// from now, basicConstraints critical CA:TRUE, keyUsage keyCertSign+cRLSign.
// Errors: ALREADY_EXISTS when ca.pem or ca.key exists and !force; INTERNAL
// (with OpenSSL's message) or the errno text when a step fails.
absl::Status CreateCa(const std::string& dir, bool force);

// A certificate to issue.
struct IssueRequest {
  CertKind kind = CertKind::kUser;
  // CN and file name stem: 1..64 of [A-Za-z0-9._-], not starting with '.'
  // and not "ca". For agents: the node id.
  std::string name;
  // Only for kUser: viewer, operator or admin. Agents always get kAgent and
  // servers kServer; giving another role for them is INVALID_ARGUMENT.
  Role role = Role::kViewer;
  // Only for kServer (required there, <= 32): "localhost", "127.0.0.1",
  // "::1", "cp.example.org". IP literals become IP SANs, others DNS SANs.
  std::vector<std::string> sans;
  int validity_days = 825;  // 1..3650
};

// Issues `request` with the CA in `dir` (ca.pem, ca.key) and writes
// <name>.pem (0644) and <name>.key (0600) there. Returns their paths.
// Errors: INVALID_ARGUMENT (bad name, role, SAN, validity; message names the
// field), FAILED_PRECONDITION (no CA in dir), ALREADY_EXISTS (files exist
// and !force), INTERNAL (OpenSSL or I/O failure).
absl::StatusOr<CertPaths> IssueCertificate(const std::string& dir, const IssueRequest& request,
                                           bool force);

// What a certificate says about its holder.
struct CertIdentity {
  std::string subject;            // one-line RFC 2253 form, e.g. "CN=alice,O=tracer"
  std::string common_name;        // CN ("" when absent)
  std::vector<std::string> uris;  // every URI SAN
  std::vector<std::string> dns;   // every DNS SAN
  std::vector<std::string> ips;   // every IP SAN, textual
};

// Parses one PEM certificate (the first in `pem`). Does not verify it.
// Errors: INVALID_ARGUMENT when `pem` holds no certificate.
absl::StatusOr<CertIdentity> ParseCertificatePem(const std::string& pem);

// The role encoded in `id` (its single urn:tracer:role: URI SAN).
// Errors: NOT_FOUND without one; INVALID_ARGUMENT for an unknown role name
// or more than one role URI.
absl::StatusOr<Role> RoleOf(const CertIdentity& id);

}  // namespace tracer::auth

#endif  // TRACER_AUTH_CERTS_H_
