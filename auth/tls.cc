#include "auth/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace tracer::auth {
namespace {

// TLS <= 1.2 suites that need an RSA certificate; see the header.
constexpr char kTls12RsaOnlySuites[] = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384";

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", path, ": not a PEM file"));
  }
  return s;
}

struct Loaded {
  std::string ca, cert, key;
};

// Reads the three files and checks that the key matches the certificate;
// `require_ec` also demands an EC key (see the header's TLS 1.3 note).
absl::StatusOr<Loaded> Load(const TlsFiles& files, bool require_ec) {
  Loaded l;
  auto ca = ReadPem(files.ca, "CA certificate");
  if (!ca.ok()) return ca.status();
  auto cert = ReadPem(files.cert, "certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(files.key, "private key");
  if (!key.ok()) return key.status();
  l.ca = *std::move(ca);
  l.cert = *std::move(cert);
  l.key = *std::move(key);

  BIO* cb = BIO_new_mem_buf(l.cert.data(), static_cast<int>(l.cert.size()));
  X509* x = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  BIO* kb = BIO_new_mem_buf(l.key.data(), static_cast<int>(l.key.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  absl::Status status;
  if (x == nullptr) {
    status = absl::InvalidArgumentError(absl::StrCat("certificate ", files.cert, ": unreadable"));
  } else if (k == nullptr) {
    status = absl::InvalidArgumentError(absl::StrCat("private key ", files.key, ": unreadable"));
  } else if (X509_check_private_key(x, k) != 1) {
    status = absl::InvalidArgumentError(
        absl::StrCat("private key ", files.key, " does not match certificate ", files.cert));
  } else if (require_ec && EVP_PKEY_base_id(k) != EVP_PKEY_EC) {
    status = absl::InvalidArgumentError(
        absl::StrCat("private key ", files.key,
                     ": servers need an EC key (tracectl certs issues P-256) to enforce TLS 1.3"));
  }
  ERR_clear_error();
  X509_free(x);
  EVP_PKEY_free(k);
  if (!status.ok()) return status;
  return l;
}

// Splits host and port of `address`; strips gRPC's "ipv4:"/"ipv6:"/"dns:".
std::string HostOf(std::string address) {
  for (absl::string_view scheme : {"ipv4:", "ipv6:", "dns:///", "dns:"}) {
    if (absl::StartsWith(address, scheme)) {
      address = address.substr(scheme.size());
      break;
    }
  }
  if (!address.empty() && address[0] == '[') {
    size_t close = address.find(']');
    return close == std::string::npos ? "" : address.substr(1, close - 1);
  }
  size_t colon = address.rfind(':');
  if (colon != std::string::npos && address.find(':') == colon) return address.substr(0, colon);
  return address;  // no port, or a bare IPv6 literal
}

}  // namespace

TlsFiles TlsFilesInDir(const std::string& dir, const std::string& name) {
  return {dir + "/ca.pem", absl::StrCat(dir, "/", name, ".pem"),
          absl::StrCat(dir, "/", name, ".key")};
}

void RestrictGrpcTlsTo13() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* old = std::getenv("GRPC_SSL_CIPHER_SUITES");
    if (old != nullptr && std::string(old) != kTls12RsaOnlySuites) {
      LOG(WARNING) << "GRPC_SSL_CIPHER_SUITES=" << old
                   << " is overridden: tracer connections are TLS 1.3 only";
    }
    ::setenv("GRPC_SSL_CIPHER_SUITES", kTls12RsaOnlySuites, 1);
  });
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFiles(
    const TlsFiles& files) {
  auto l = Load(files, /*require_ec=*/true);
  if (!l.ok()) return l.status();
  RestrictGrpcTlsTo13();
  grpc::SslServerCredentialsOptions opts(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_root_certs = l->ca;
  opts.pem_key_cert_pairs.push_back({l->key, l->cert});
  return grpc::SslServerCredentials(opts);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFromFiles(
    const TlsFiles& files) {
  auto l = Load(files, /*require_ec=*/false);
  if (!l.ok()) return l.status();
  RestrictGrpcTlsTo13();
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = l->ca;
  opts.pem_private_key = l->key;
  opts.pem_cert_chain = l->cert;
  return grpc::SslCredentials(opts);
}

absl::Status CheckLoopbackAddress(const std::string& address) {
  std::string host = HostOf(address);
  bool loopback = host == "localhost";
  unsigned char buf[16];
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) loopback = buf[0] == 127;
  if (inet_pton(AF_INET6, host.c_str(), buf) == 1) {
    static const unsigned char kV6Loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    loopback = std::equal(buf, buf + 16, kV6Loopback);
  }
  if (!loopback) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--insecure refuses address '", address,
        "': plain-text gRPC is allowed only on loopback (127.0.0.0/8, [::1], localhost); "
        "use certificates (tracectl certs init/issue) for anything else"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> InsecureLoopbackServerCredentials(
    const std::string& listen_address) {
  RETURN_IF_ERROR(CheckLoopbackAddress(listen_address));
  LOG(WARNING) << "*** INSECURE: serving plain-text gRPC on " << listen_address
               << " with NO authentication; every local process is trusted as admin. "
                  "For testing on loopback only. ***";
  return grpc::InsecureServerCredentials();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> InsecureLoopbackChannelCredentials(
    const std::string& target) {
  RETURN_IF_ERROR(CheckLoopbackAddress(target));
  LOG(WARNING) << "*** INSECURE: plain-text gRPC to " << target
               << " without TLS or certificates (loopback only). ***";
  return grpc::InsecureChannelCredentials();
}

}  // namespace tracer::auth
