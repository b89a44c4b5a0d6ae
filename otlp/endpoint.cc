#include "otlp/endpoint.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tracer::otlp {

absl::StatusOr<Endpoint> ParseEndpoint(std::string_view url_in, bool allow_no_scheme) {
  const std::string url(url_in);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint \"", url, "\": ", std::string(why)));
  };
  if (url.empty()) return bad("empty");
  for (char c : url) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c < 0x20) {
      return bad("contains whitespace or control characters");
    }
  }
  Endpoint ep;
  std::string rest = url;
  size_t sep = rest.find("://");
  if (sep != std::string::npos) {
    ep.scheme = absl::AsciiStrToLower(rest.substr(0, sep));
    if (ep.scheme != "http" && ep.scheme != "https") {
      return bad("scheme must be http or https");
    }
    rest = rest.substr(sep + 3);
  } else if (!allow_no_scheme) {
    return bad("needs an http:// or https:// scheme");
  }
  size_t slash = rest.find_first_of("/?#");
  if (slash != std::string::npos) {
    ep.path = rest.substr(slash);
    if (ep.path[0] != '/') ep.path = "/" + ep.path;
    rest = rest.substr(0, slash);
  }
  ep.host_port = rest;
  std::string port;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) return bad("unterminated IPv6 literal");
    ep.host = rest.substr(1, close - 1);
    std::string after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after IPv6 literal");
      port = after.substr(1);
      if (port.empty()) return bad("empty port");
    }
  } else {
    size_t colon = rest.rfind(':');
    if (colon != std::string::npos) {
      ep.host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return bad("empty port");
    } else {
      ep.host = rest;
    }
  }
  if (ep.host.empty()) return bad("no host");
  if (ep.host.find('@') != std::string::npos) return bad("user info is not supported");
  if (!port.empty()) {
    if (!absl::SimpleAtoi(port, &ep.port) || ep.port <= 0 || ep.port > 65535) {
      return bad(absl::StrCat("bad port \"", port, "\""));
    }
  }
  return ep;
}

absl::StatusOr<std::string> ReadPemFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno != 0 ? errno : ENOENT;
    return absl::Status(
        absl::ErrnoToStatusCode(err),
        absl::StrCat(std::string(what), " file \"", path, "\": ", std::strerror(err)));
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string pem = content.str();
  if (pem.find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), " file \"", path, "\" is not PEM"));
  }
  return pem;
}

}  // namespace tracer::otlp
