#include "auth/certs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"

namespace tracer::auth {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free_all(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

constexpr int kCaValidityDays = 3650;

// The OpenSSL error queue as text (and cleared), for INTERNAL errors.
absl::Status OpenSslError(absl::string_view what) {
  std::string detail;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!detail.empty()) detail += "; ";
    detail += buf;
  }
  return absl::InternalError(absl::StrCat(what, ": ", detail.empty() ? "OpenSSL failure" : detail));
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Writes `data` to `path` with exactly `mode` (via a temporary file and an
// atomic rename, so a reader never sees a half-written key).
absl::Status WriteFileMode(const std::string& path, const std::string& data, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return absl::InternalError(absl::StrCat("open ", tmp, ": ", std::strerror(errno)));
  // umask may have removed bits; the mode is part of the contract.
  if (::fchmod(fd, mode) != 0) {
    int err = errno;
    ::close(fd);
    return absl::InternalError(absl::StrCat("chmod ", tmp, ": ", std::strerror(err)));
  }
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return absl::InternalError(absl::StrCat("write ", tmp, ": ", std::strerror(err)));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return absl::InternalError(absl::StrCat("sync ", tmp, ": ", std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("rename ", tmp, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status EnsureDir(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("--dir: empty directory name");
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("mkdir ", dir, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("--dir ", dir, ": not a directory"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PkeyPtr> NewP256Key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generating an EC P-256 key");
  return key;
}

absl::StatusOr<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("encoding the private key");
  }
  char* data;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

absl::StatusOr<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslError("encoding the certificate");
  }
  char* data;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

absl::StatusOr<X509Ptr> CertFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) {
    ERR_clear_error();
    return absl::InvalidArgumentError("no PEM certificate found");
  }
  return cert;
}

absl::StatusOr<PkeyPtr> KeyFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return absl::InvalidArgumentError("no PEM private key found");
  }
  return key;
}

absl::Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(absl::StrCat("adding extension ", OBJ_nid2sn(nid), "=", value));
  }
  return absl::OkStatus();
}

// A new certificate with serial, validity, subject, issuer and public key set.
absl::StatusOr<X509Ptr> NewCert(EVP_PKEY* subject_key, const std::string& cn, X509* issuer,
                                int days) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return OpenSslError("X509_new");
  // 128-bit positive random serial (RFC 5280 4.1.2.2: at most 20 octets).
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_new(), BN_free);
  if (!bn || BN_rand(bn.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpenSslError("serial number");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) == nullptr) {
    return OpenSslError("validity");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("tracer"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    return OpenSslError("subject name");
  }
  X509_NAME* issuer_name = issuer ? X509_get_subject_name(issuer) : name;
  if (X509_set_issuer_name(cert.get(), issuer_name) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1) {
    return OpenSslError("issuer / public key");
  }
  return cert;
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.' || name == "ca") return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// DNS names per RFC 1123 labels (letters, digits, '-', dots; optional leading
// "*." wildcard); bounded so nothing odd reaches the SAN config string.
bool ValidDnsName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  std::string rest = s;
  if (rest.rfind("*.", 0) == 0) rest = rest.substr(2);
  for (char c : rest) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return !rest.empty() && rest.front() != '.' && rest.back() != '.' && rest.front() != '-';
}

}  // namespace

const char* CertKindName(CertKind kind) {
  switch (kind) {
    case CertKind::kServer:
      return "server";
    case CertKind::kAgent:
      return "agent";
    case CertKind::kUser:
      return "user";
  }
  return "unknown";
}

CertPaths CaPaths(const std::string& dir) { return {dir + "/ca.pem", dir + "/ca.key"}; }

CertPaths IssuedPaths(const std::string& dir, const std::string& name) {
  return {absl::StrCat(dir, "/", name, ".pem"), absl::StrCat(dir, "/", name, ".key")};
}

absl::Status CreateCa(const std::string& dir, bool force) {
  CertPaths paths = CaPaths(dir);
  if (!force && (Exists(paths.cert) || Exists(paths.key))) {
    return absl::AlreadyExistsError(
        absl::StrCat("a CA already exists in ", dir, " (", paths.cert,
                     "); refusing to overwrite it: every certificate it issued would stop working. "
                     "Use --force to replace it."));
  }
  RETURN_IF_ERROR(EnsureDir(dir));
  auto key = NewP256Key();
  if (!key.ok()) return key.status();
  auto cert = NewCert(key->get(), "tracer CA", nullptr, kCaValidityDays);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  for (auto [nid, value] : std::initializer_list<std::pair<int, const char*>>{
           {NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
           {NID_key_usage, "critical,keyCertSign,cRLSign"},
           {NID_subject_key_identifier, "hash"},
       }) {
    RETURN_IF_ERROR(AddExt(c, c, nid, value));
  }
  if (X509_sign(c, key->get(), EVP_sha256()) == 0) return OpenSslError("signing the CA");
  auto key_pem = KeyToPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  auto cert_pem = CertToPem(c);
  if (!cert_pem.ok()) return cert_pem.status();
  RETURN_IF_ERROR(WriteFileMode(paths.key, *key_pem, 0600));
  return WriteFileMode(paths.cert, *cert_pem, 0644);
}

absl::StatusOr<CertPaths> IssueCertificate(const std::string& dir, const IssueRequest& req,
                                           bool force) {
  if (!ValidName(req.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--name '", req.name,
                     "': expected 1..64 of [A-Za-z0-9._-], not starting with '.', not 'ca'"));
  }
  if (req.validity_days < 1 || req.validity_days > kCaValidityDays) {
    return absl::InvalidArgumentError(
        absl::StrCat("--days ", req.validity_days, ": expected 1..", kCaValidityDays));
  }
  Role role = req.role;
  switch (req.kind) {
    case CertKind::kServer:
      role = Role::kServer;
      if (req.sans.empty()) {
        return absl::InvalidArgumentError(
            "--san: a server certificate needs at least one (e.g. --san localhost --san "
            "127.0.0.1)");
      }
      break;
    case CertKind::kAgent:
      role = Role::kAgent;
      break;
    case CertKind::kUser:
      if (role != Role::kViewer && role != Role::kOperator && role != Role::kAdmin) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--role ", RoleName(role), ": a user is a viewer, an operator or an admin"));
      }
      break;
  }
  if (req.kind != CertKind::kServer && !req.sans.empty()) {
    return absl::InvalidArgumentError("--san: only server certificates take SAN entries");
  }
  if (req.sans.size() > 32) return absl::InvalidArgumentError("--san: at most 32 entries");
  std::vector<std::string> san_items;
  for (const std::string& san : req.sans) {
    if (IsIpLiteral(san)) {
      san_items.push_back("IP:" + san);
    } else if (ValidDnsName(san)) {
      san_items.push_back("DNS:" + san);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--san '", san, "': neither an IP address nor a DNS name"));
    }
  }
  san_items.push_back("URI:" + RoleUri(role));

  CertPaths ca_paths = CaPaths(dir);
  auto ca_pem = ReadFile(ca_paths.cert);
  auto ca_key_pem = ReadFile(ca_paths.key);
  if (!ca_pem.ok() || !ca_key_pem.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no CA in ", dir, " (need ca.pem and ca.key): run `tracectl certs init --dir ", dir, "`"));
  }
  auto ca_cert = CertFromPem(*ca_pem);
  if (!ca_cert.ok())
    return absl::FailedPreconditionError(absl::StrCat(ca_paths.cert, ": no certificate"));
  auto ca_key = KeyFromPem(*ca_key_pem);
  if (!ca_key.ok())
    return absl::FailedPreconditionError(absl::StrCat(ca_paths.key, ": no private key"));
  if (X509_check_private_key(ca_cert->get(), ca_key->get()) != 1) {
    ERR_clear_error();
    return absl::FailedPreconditionError(
        absl::StrCat(ca_paths.key, " does not belong to ", ca_paths.cert));
  }

  CertPaths out = IssuedPaths(dir, req.name);
  if (!force && (Exists(out.cert) || Exists(out.key))) {
    return absl::AlreadyExistsError(
        absl::StrCat(out.cert, " already exists; use --force to replace it"));
  }
  auto key = NewP256Key();
  if (!key.ok()) return key.status();
  auto cert = NewCert(key->get(), req.name, ca_cert->get(), req.validity_days);
  if (!cert.ok()) return cert.status();
  X509* c = cert->get();
  const char* eku = req.kind == CertKind::kServer ? "serverAuth,clientAuth" : "clientAuth";
  for (auto [nid, value] : std::initializer_list<std::pair<int, std::string>>{
           {NID_basic_constraints, "critical,CA:FALSE"},
           {NID_key_usage, "critical,digitalSignature"},
           {NID_ext_key_usage, eku},
           {NID_subject_key_identifier, "hash"},
           {NID_authority_key_identifier, "keyid:always"},
           {NID_subject_alt_name, absl::StrJoin(san_items, ",")},
       }) {
    RETURN_IF_ERROR(AddExt(c, ca_cert->get(), nid, value));
  }
  if (X509_sign(c, ca_key->get(), EVP_sha256()) == 0)
    return OpenSslError("signing the certificate");
  auto key_pem = KeyToPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  auto cert_pem = CertToPem(c);
  if (!cert_pem.ok()) return cert_pem.status();
  RETURN_IF_ERROR(WriteFileMode(out.key, *key_pem, 0600));
  RETURN_IF_ERROR(WriteFileMode(out.cert, *cert_pem, 0644));
  return out;
}

absl::StatusOr<CertIdentity> ParseCertificatePem(const std::string& pem) {
  auto cert = CertFromPem(pem);
  if (!cert.ok()) return cert.status();
  CertIdentity id;
  X509_NAME* subject = X509_get_subject_name(cert->get());
  {
    BioPtr bio(BIO_new(BIO_s_mem()));
    X509_NAME_print_ex(bio.get(), subject, 0, XN_FLAG_RFC2253);
    char* data;
    long len = BIO_get_mem_data(bio.get(), &data);
    id.subject.assign(data, static_cast<size_t>(len));
  }
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx >= 0) {
    ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n >= 0) {
      id.common_name.assign(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
      OPENSSL_free(utf8);
    }
  }
  std::unique_ptr<GENERAL_NAMES, NamesFree> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr)));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
      if (gn->type == GEN_URI || gn->type == GEN_DNS) {
        const ASN1_IA5STRING* s =
            gn->type == GEN_URI ? gn->d.uniformResourceIdentifier : gn->d.dNSName;
        std::string v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                      static_cast<size_t>(ASN1_STRING_length(s)));
        (gn->type == GEN_URI ? id.uris : id.dns).push_back(std::move(v));
      } else if (gn->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* s = gn->d.iPAddress;
        char buf[INET6_ADDRSTRLEN] = {0};
        int len = ASN1_STRING_length(s);
        const unsigned char* p = ASN1_STRING_get0_data(s);
        if (len == 4 && inet_ntop(AF_INET, p, buf, sizeof(buf))) id.ips.emplace_back(buf);
        if (len == 16 && inet_ntop(AF_INET6, p, buf, sizeof(buf))) id.ips.emplace_back(buf);
      }
    }
  }
  return id;
}

absl::StatusOr<Role> RoleOf(const CertIdentity& id) {
  std::optional<Role> found;
  for (const std::string& uri : id.uris) {
    if (uri.rfind(std::string(kRoleUriPrefix), 0) != 0) continue;
    std::optional<Role> r = RoleFromUri(uri);
    if (!r) return absl::InvalidArgumentError(absl::StrCat("unknown role URI ", uri));
    if (found) return absl::InvalidArgumentError("more than one role URI in the certificate");
    found = r;
  }
  if (!found) return absl::NotFoundError("the certificate carries no urn:tracer:role: URI");
  return *found;
}

}  // namespace tracer::auth
