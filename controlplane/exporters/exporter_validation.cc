#include "controlplane/exporters/exporter_validation.h"

#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "otlp/endpoint.h"

namespace tracer::controlplane {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("exporter.", field, ": ", why));
}

bool IsTokenChar(unsigned char c) {
  return absl::ascii_isalnum(c) ||
         absl::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != absl::string_view::npos;
}

absl::Status CheckFile(absl::string_view field, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  if (path.size() > kMaxFilePathBytes) {
    return Invalid(field, absl::StrCat("longer than ", kMaxFilePathBytes, " bytes"));
  }
  if (path[0] != '/') {
    return Invalid(
        field, absl::StrCat("\"", path, "\" must be an absolute path on the control plane host"));
  }
  auto pem = otlp::ReadPemFile(path, std::string_view(field.data(), field.size()));
  if (!pem.ok()) return Invalid(field, pem.status().message());
  return absl::OkStatus();
}

absl::Status CheckUpTo(absl::string_view field, uint64_t value, uint64_t max) {
  if (value > max) return Invalid(field, absl::StrCat(value, " is above the maximum ", max));
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateExporterName(absl::string_view name) {
  if (name.empty()) return Invalid("name", "is empty");
  if (name.size() > kMaxExporterNameBytes) {
    return Invalid("name", absl::StrCat("longer than ", kMaxExporterNameBytes, " bytes"));
  }
  for (char c : name) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) {
      return Invalid("name", absl::StrCat("\"", absl::CHexEscape(name),
                                          "\": only a-z, 0-9, '_', '.' and '-' are allowed"));
    }
  }
  if (!absl::ascii_isalnum(static_cast<unsigned char>(name[0]))) {
    return Invalid("name", absl::StrCat("\"", name, "\" must start with a letter or digit"));
  }
  if (name == kEmbeddedStoreExporterName) {
    return Invalid("name", absl::StrCat("\"", name, "\" is reserved for the embedded store"));
  }
  return absl::OkStatus();
}

absl::Status ValidateExporterSpec(const v1::ExporterSpec& spec) {
  RETURN_IF_ERROR(ValidateExporterName(spec.name()));

  const std::string& protocol = spec.protocol();
  if (!protocol.empty() && protocol != "grpc" && protocol != "http/protobuf" &&
      protocol != "http/json") {
    return Invalid("protocol", absl::StrCat("\"", absl::CHexEscape(protocol),
                                            "\": expected grpc, http/protobuf or http/json"));
  }
  const bool grpc = protocol.empty() || protocol == "grpc";

  if (spec.endpoint().empty()) return Invalid("endpoint", "is required");
  if (spec.endpoint().size() > kMaxEndpointBytes) {
    return Invalid("endpoint", absl::StrCat("longer than ", kMaxEndpointBytes, " bytes"));
  }
  {
    // Checked before parsing so that the error does not echo a password.
    absl::string_view authority = spec.endpoint();
    if (size_t sep = authority.find("://"); sep != absl::string_view::npos) {
      authority.remove_prefix(sep + 3);
    }
    authority = authority.substr(0, authority.find_first_of("/?#"));
    if (authority.find('@') != absl::string_view::npos) {
      return Invalid("endpoint", "must not carry user:password@ credentials; use headers");
    }
  }
  auto endpoint = otlp::ParseEndpoint(spec.endpoint(), /*allow_no_scheme=*/grpc);
  if (!endpoint.ok()) return Invalid("endpoint", endpoint.status().message());
  if (endpoint->host.empty()) return Invalid("endpoint", "has no host");

  if (static_cast<size_t>(spec.headers_size()) > kMaxExporterHeaders) {
    return Invalid("headers", absl::StrCat("more than ", kMaxExporterHeaders));
  }
  for (int i = 0; i < spec.headers_size(); ++i) {
    const v1::ExporterSpec::Header& h = spec.headers(i);
    const std::string key_field = absl::StrCat("headers[", i, "].key");
    if (h.key().empty()) return Invalid(key_field, "is empty");
    if (h.key().size() > kMaxHeaderKeyBytes) {
      return Invalid(key_field, absl::StrCat("longer than ", kMaxHeaderKeyBytes, " bytes"));
    }
    for (char c : h.key()) {
      if (!IsTokenChar(static_cast<unsigned char>(c))) {
        return Invalid(key_field, absl::StrCat("\"", absl::CHexEscape(h.key()),
                                               "\" is not an HTTP token (RFC 9110 5.6.2)"));
      }
    }
    // The value is a secret: say what is wrong, never what it is.
    const std::string value_field = absl::StrCat("headers[", i, "].value (", h.key(), ")");
    if (h.value().size() > kMaxHeaderValueBytes) {
      return Invalid(value_field, absl::StrCat("longer than ", kMaxHeaderValueBytes, " bytes"));
    }
    for (char c : h.value()) {
      if (c == '\r' || c == '\n' || c == '\0') {
        return Invalid(value_field, "contains CR, LF or NUL");
      }
    }
  }

  const std::string& compression = spec.compression();
  if (!compression.empty() && compression != "none" && compression != "gzip") {
    return Invalid("compression",
                   absl::StrCat("\"", absl::CHexEscape(compression), "\": expected none or gzip"));
  }
  RETURN_IF_ERROR(CheckUpTo("timeout_ms", spec.timeout_ms(), kMaxTimeoutMs));
  RETURN_IF_ERROR(CheckUpTo("max_batch_spans", spec.max_batch_spans(), kMaxBatchSpans));
  RETURN_IF_ERROR(CheckUpTo("max_batch_bytes", spec.max_batch_bytes(), kMaxBatchBytes));
  RETURN_IF_ERROR(CheckUpTo("breaker_failure_threshold", spec.breaker_failure_threshold(),
                            kMaxBreakerFailureThreshold));
  if (absl::Status s =
          CheckUpTo("breaker_open_for_ms", spec.breaker_open_for_ms(), kMaxBreakerOpenForMs);
      !s.ok()) {
    return s;
  }
  RETURN_IF_ERROR(CheckUpTo("retry_initial_interval_ms", spec.retry_initial_interval_ms(),
                            kMaxRetryIntervalMs));
  if (absl::Status s =
          CheckUpTo("retry_max_interval_ms", spec.retry_max_interval_ms(), kMaxRetryIntervalMs);
      !s.ok()) {
    return s;
  }
  if (spec.retry_initial_interval_ms() != 0 && spec.retry_max_interval_ms() != 0 &&
      spec.retry_max_interval_ms() < spec.retry_initial_interval_ms()) {
    return Invalid("retry_max_interval_ms", absl::StrCat(spec.retry_max_interval_ms(),
                                                         " is below retry_initial_interval_ms ",
                                                         spec.retry_initial_interval_ms()));
  }

  if (spec.client_key_file().empty() != spec.client_certificate_file().empty()) {
    return Invalid(spec.client_key_file().empty() ? "client_key_file" : "client_certificate_file",
                   "client_key_file and client_certificate_file go together");
  }
  RETURN_IF_ERROR(CheckFile("certificate_file", spec.certificate_file()));
  RETURN_IF_ERROR(CheckFile("client_key_file", spec.client_key_file()));
  RETURN_IF_ERROR(CheckFile("client_certificate_file", spec.client_certificate_file()));
  return absl::OkStatus();
}

}  // namespace tracer::controlplane
