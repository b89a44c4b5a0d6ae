// gRPC transport credentials from a certificate directory (certs.h): mutual
// TLS 1.3 for the control plane, agents and tracectl, and a loopback-only
// plain-text mode for `--insecure`.
//
// TLS 1.3 minimum. gRPC 1.51's C++ API has no min-TLS-version setter (its
// SSL context is built with TLS 1.2..1.3). What enforces 1.3 here: the TLS 1.2
// cipher list gRPC hands to OpenSSL (GRPC_SSL_CIPHER_SUITES, read once per
// process when the first TLS credentials are built) is set to RSA-only
// ECDHE suites, while every tracer certificate has an EC P-256 key. A TLS 1.2
// handshake with a tracer server therefore finds no usable cipher and fails
// ("no shared cipher"); TLS 1.3 suites are configured separately in OpenSSL
// and unaffected. The server-credential factory refuses non-EC keys so this
// cannot silently weaken. Side effect (process-wide): this process's gRPC TLS
// *clients* only offer RSA-authenticated suites under TLS 1.2, so a TLS-1.2-only
// peer with an ECDSA certificate (e.g. some OTLP backend) cannot be reached
// over gRPC from the same process; TLS 1.3 peers are unaffected.
// Checked by tls_test (openssl s_client -tls1_2 refused, -tls1_3 accepted).
//
// Thread-safety: all functions are safe to call from any thread.
#ifndef TRACER_AUTH_TLS_H_
#define TRACER_AUTH_TLS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace tracer::auth {

// The three PEM files a TLS endpoint needs.
struct TlsFiles {
  std::string ca;    // CA certificate(s) that peers must chain to
  std::string cert;  // own certificate
  std::string key;   // own private key (EC P-256 for servers)
};

// The files of identity `name` in certificate directory `dir`:
// dir/ca.pem, dir/<name>.pem, dir/<name>.key (the layout certs.h writes).
TlsFiles TlsFilesInDir(const std::string& dir, const std::string& name);

// Sets GRPC_SSL_CIPHER_SUITES as described above (overriding any value the
// environment had, with a warning). Idempotent. Called by the credential
// factories below; a main() that builds other gRPC TLS credentials first
// (e.g. an OTLP exporter) must call it before them, or TLS 1.2 stays allowed.
void RestrictGrpcTlsTo13();

// Server credentials: presents `files.cert`/`files.key`, requires a client
// certificate and verifies it against `files.ca` (mutual TLS), TLS 1.3 only.
// Errors: NOT_FOUND/INVALID_ARGUMENT naming the unreadable or malformed file;
// INVALID_ARGUMENT when the key is not an EC key or does not match the cert.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFiles(
    const TlsFiles& files);

// Channel credentials: trusts only `files.ca` (not the system roots) and
// presents `files.cert`/`files.key` as the client certificate. The server's
// certificate must name the dialed host (DNS or IP SAN).
// Errors: as ServerCredentialsFromFiles (any key type is accepted).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFiles(
    const TlsFiles& files);

// OK when `address` (host:port, [v6]:port, or a gRPC "ipv4:"/"ipv6:" URI)
// names a loopback host: 127.0.0.0/8, ::1 or "localhost". Wildcards
// (0.0.0.0, [::]) and every other host are INVALID_ARGUMENT with a message
// saying that --insecure is only for loopback.
absl::Status CheckLoopbackAddress(const std::string& address);

// Plain-text server credentials for `--insecure`, only for a loopback listen
// address (CheckLoopbackAddress); logs a loud warning. Peers of such a server
// are trusted as documented in roles.h.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> InsecureLoopbackServerCredentials(
    const std::string& listen_address);

// Plain-text channel credentials for `--insecure`, only for a loopback
// target; logs a loud warning.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> InsecureLoopbackChannelCredentials(
    const std::string& target);

}  // namespace tracer::auth

#endif  // TRACER_AUTH_TLS_H_
