#include "otlp/config.h"

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "otlp/endpoint.h"

namespace tracer::otlp {
namespace {

constexpr char kPrefix[] = "OTEL_EXPORTER_OTLP_";
constexpr char kTracesPrefix[] = "OTEL_EXPORTER_OTLP_TRACES_";

// A setting's value and the variable it came from (for error messages).
struct Setting {
  std::string value;
  std::string source;
};

// The TRACES_ variable if set and non-empty, else the generic one.
std::optional<Setting> Lookup(const EnvLookup& env, const std::string& suffix) {
  for (const char* prefix : {kTracesPrefix, kPrefix}) {
    std::string name = absl::StrCat(prefix, suffix);
    std::optional<std::string> v = env(name);
    if (v && !v->empty()) return Setting{*v, name};
  }
  return std::nullopt;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view s, absl::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    const int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
    const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": bad percent escape \"", s.substr(i, 3), "\""));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool IsTokenChar(unsigned char c) {
  return absl::ascii_isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

absl::StatusOr<std::string> HttpTracesUrl(const std::string& url, bool append_always,
                                          const std::string& source) {
  auto ep = ParseEndpoint(url, /*allow_no_scheme=*/false);
  if (!ep.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", ep.status().message()));
  }
  if (!append_always && !ep->path.empty() && ep->path != "/") return url;
  std::string base = url;
  if (base.empty() || base.back() != '/') base.push_back('/');
  return base + "v1/traces";
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

absl::StatusOr<Protocol> ParseProtocol(std::string_view value) {
  if (value == "grpc") return Protocol::kGrpc;
  if (value == "http/protobuf") return Protocol::kHttpProtobuf;
  if (value == "http/json") return Protocol::kHttpJson;
  return absl::InvalidArgumentError(absl::StrCat("unknown OTLP protocol \"", std::string(value),
                                                 "\" (want grpc, http/protobuf or http/json)"));
}

absl::StatusOr<Headers> ParseHeaders(std::string_view list_in) {
  Headers headers;
  absl::string_view list(list_in.data(), list_in.size());
  int index = 0;
  for (absl::string_view member : absl::StrSplit(list, ',')) {
    ++index;
    member = absl::StripAsciiWhitespace(member);
    if (member.empty()) continue;
    const std::string where = absl::StrCat("header ", index, " (\"", member, "\")");
    size_t eq = member.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(where, " is not key=value"));
    }
    auto key = PercentDecode(absl::StripAsciiWhitespace(member.substr(0, eq)), where);
    if (!key.ok()) return key.status();
    auto value = PercentDecode(absl::StripAsciiWhitespace(member.substr(eq + 1)), where);
    if (!value.ok()) return value.status();
    if (key->empty()) return absl::InvalidArgumentError(absl::StrCat(where, " has an empty key"));
    for (unsigned char c : *key) {
      if (!IsTokenChar(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": key \"", *key, "\" is not an HTTP token"));
      }
    }
    for (char c : *value) {
      if (c == '\r' || c == '\n' || c == '\0') {
        return absl::InvalidArgumentError(absl::StrCat(where, ": value contains CR, LF or NUL"));
      }
    }
    headers.emplace_back(std::move(*key), std::move(*value));
  }
  return headers;
}

absl::StatusOr<ExporterConfig> ExporterConfigFromEnv(const EnvLookup& env,
                                                     const ConfigOverrides& overrides) {
  ExporterConfig config;
  auto invalid = [](const std::string& source, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", what));
  };

  // Protocol first: it decides the endpoint rules.
  config.protocol = overrides.default_protocol;
  if (overrides.protocol) {
    config.protocol = *overrides.protocol;
  } else if (auto s = Lookup(env, "PROTOCOL")) {
    auto p = ParseProtocol(s->value);
    if (!p.ok()) return invalid(s->source, std::string(p.status().message()));
    config.protocol = *p;
  }
  const bool http = config.protocol != Protocol::kGrpc;

  // Endpoint.
  std::optional<std::string> traces_endpoint = env(absl::StrCat(kTracesPrefix, "ENDPOINT"));
  std::optional<std::string> base_endpoint = env(absl::StrCat(kPrefix, "ENDPOINT"));
  if (overrides.endpoint) {
    if (http) {
      auto url = HttpTracesUrl(*overrides.endpoint, /*append_always=*/false, "--otlp-endpoint");
      if (!url.ok()) return url.status();
      config.endpoint = *url;
    } else {
      config.endpoint = *overrides.endpoint;
    }
  } else if (traces_endpoint && !traces_endpoint->empty()) {
    config.endpoint = *traces_endpoint;
    auto ep = ParseEndpoint(config.endpoint, /*allow_no_scheme=*/!http);
    if (!ep.ok()) {
      return invalid("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", std::string(ep.status().message()));
    }
  } else if (base_endpoint && !base_endpoint->empty()) {
    if (http) {
      auto url =
          HttpTracesUrl(*base_endpoint, /*append_always=*/true, "OTEL_EXPORTER_OTLP_ENDPOINT");
      if (!url.ok()) return url.status();
      config.endpoint = *url;
    } else {
      config.endpoint = *base_endpoint;
    }
  } else {
    config.endpoint = http ? "http://localhost:4318/v1/traces" : "http://localhost:4317";
  }
  if (!http) {
    auto ep = ParseEndpoint(config.endpoint, /*allow_no_scheme=*/true);
    if (!ep.ok()) return ep.status();
  }

  // Headers.
  if (overrides.headers) {
    auto h = ParseHeaders(*overrides.headers);
    if (!h.ok()) return invalid("--otlp-headers", std::string(h.status().message()));
    config.headers = *std::move(h);
  } else if (auto s = Lookup(env, "HEADERS")) {
    auto h = ParseHeaders(s->value);
    if (!h.ok()) return invalid(s->source, std::string(h.status().message()));
    config.headers = *std::move(h);
  }

  if (auto s = Lookup(env, "COMPRESSION")) {
    std::string v = absl::AsciiStrToLower(s->value);
    if (v == "gzip") {
      config.compression = Compression::kGzip;
    } else if (v == "none") {
      config.compression = Compression::kNone;
    } else {
      return invalid(s->source,
                     absl::StrCat("unknown compression \"", s->value, "\" (want gzip or none)"));
    }
  }

  if (overrides.timeout) {
    config.timeout = *overrides.timeout;
  } else if (auto s = Lookup(env, "TIMEOUT")) {
    int64_t ms = 0;
    if (!absl::SimpleAtoi(s->value, &ms) || ms <= 0) {
      return invalid(s->source, absl::StrCat("timeout \"", s->value,
                                             "\" is not a positive number of milliseconds"));
    }
    config.timeout = absl::Milliseconds(ms);
  }

  if (auto s = Lookup(env, "CERTIFICATE")) config.certificate_file = s->value;
  std::optional<Setting> key = Lookup(env, "CLIENT_KEY");
  std::optional<Setting> cert = Lookup(env, "CLIENT_CERTIFICATE");
  if (key.has_value() != cert.has_value()) {
    return invalid(key ? key->source : cert->source,
                   "a client key and a client certificate go together; set both or neither");
  }
  if (key) {
    config.client_key_file = key->value;
    config.client_certificate_file = cert->value;
  }

  if (auto s = Lookup(env, "INSECURE")) {
    std::string v = absl::AsciiStrToLower(s->value);
    if (v == "true") {
      config.insecure = true;
    } else if (v == "false") {
      config.insecure = false;
    } else {
      return invalid(s->source, absl::StrCat("\"", s->value, "\" is not true or false"));
    }
  }
  return config;
}

}  // namespace tracer::otlp
