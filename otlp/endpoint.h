// Where and how an exporter connects: splitting OTLP endpoint URLs ("http://host:4318/v1/traces",
// "host:4317", "https://[::1]:4317") into their parts, and reading TLS files.
#ifndef TRACER_OTLP_ENDPOINT_H_
#define TRACER_OTLP_ENDPOINT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tracer::otlp {

struct Endpoint {
  std::string scheme;     // "http", "https", or "" when the URL had none
  std::string host_port;  // "host:port", "host", "[::1]:4317" as written
  std::string host;       // without brackets for IPv6 literals
  int port = 0;           // 0 when the URL had no port
  std::string path;       // "" or starting with '/' (query and fragment kept)
};

// Parses `url`. Accepts "scheme://host[:port][/path]" with scheme http or
// https (case-insensitive) and, when `allow_no_scheme`, "host[:port][/path]".
// Errors: INVALID_ARGUMENT naming the URL (empty host, bad port, other
// scheme, whitespace).
absl::StatusOr<Endpoint> ParseEndpoint(std::string_view url, bool allow_no_scheme);

// Reads a PEM file named in the configuration (CA, client key or
// certificate). `what` names the setting in errors, e.g. "certificate".
// Errors: NOT_FOUND / PERMISSION_DENIED style codes with the path and
// strerror, INVALID_ARGUMENT for an empty file or one without "-----BEGIN".
absl::StatusOr<std::string> ReadPemFile(const std::string& path, std::string_view what);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_ENDPOINT_H_
