#include "otlp/resource_env.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "otlp/json_string.h"
#include "otlp/semconv.h"

namespace tracer::otlp {
namespace {

constexpr char kResourceAttributesVar[] = "OTEL_RESOURCE_ATTRIBUTES";
constexpr char kServiceNameVar[] = "OTEL_SERVICE_NAME";
constexpr const char* kServiceNameKey = semconv::kServiceName;

absl::string_view TrimOws(absl::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 section 5.6.2 tchar.
bool IsTokenChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// W3C Baggage baggage-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
bool IsBaggageOctet(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x2B) || (c >= 0x2D && c <= 0x3A) ||
         (c >= 0x3C && c <= 0x5B) || (c >= 0x5D && c <= 0x7E);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status MemberError(size_t index, absl::string_view member, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("member ", index, " \"", member, "\": ", why));
}

}  // namespace

absl::StatusOr<ResourceAttributes> ParseResourceAttributes(std::string_view value_in) {
  absl::string_view list(value_in.data(), value_in.size());
  ResourceAttributes out;
  size_t index = 0;
  for (absl::string_view raw : absl::StrSplit(list, ',')) {
    ++index;
    absl::string_view member = TrimOws(raw);
    if (member.empty()) continue;
    const size_t eq = member.find('=');
    if (eq == absl::string_view::npos) {
      return MemberError(index, member, "expected key=value");
    }
    absl::string_view key = TrimOws(member.substr(0, eq));
    absl::string_view encoded = TrimOws(member.substr(eq + 1));
    if (key.empty()) return MemberError(index, member, "empty key");
    for (char c : key) {
      if (!IsTokenChar(c)) {
        return MemberError(index, member,
                           absl::StrCat("key character '", absl::CHexEscape(std::string(1, c)),
                                        "' is not allowed (keys are RFC 9110 tokens)"));
      }
    }
    std::string decoded;
    decoded.reserve(encoded.size());
    for (size_t i = 0; i < encoded.size(); ++i) {
      const char c = encoded[i];
      if (c == '%') {
        const bool complete = i + 2 < encoded.size();
        const int hi = complete ? HexValue(encoded[i + 1]) : -1;
        const int lo = complete ? HexValue(encoded[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          return MemberError(index, member, "bad percent escape (expected '%' and two hex digits)");
        }
        decoded.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
      if (!IsBaggageOctet(static_cast<unsigned char>(c))) {
        if (c == ';') {
          return MemberError(index, member,
                             "';' metadata is not supported (percent-encode it as %3B)");
        }
        return MemberError(index, member,
                           absl::StrCat("character '", absl::CHexEscape(std::string(1, c)),
                                        "' must be percent-encoded (W3C Baggage value)"));
      }
      decoded.push_back(c);
    }
    std::string value = ReplaceInvalidUtf8(decoded);
    bool replaced = false;
    for (auto& [k, v] : out) {
      if (k == key) {
        v = std::move(value);
        replaced = true;
        break;
      }
    }
    if (!replaced) out.emplace_back(std::string(key), std::move(value));
  }
  return out;
}

EnvResource ResourceAttributesFromEnv(
    const std::function<std::optional<std::string>(const std::string&)>& env) {
  EnvResource result;
  std::optional<std::string> list = env(kResourceAttributesVar);
  if (list && !list->empty()) {
    absl::StatusOr<ResourceAttributes> parsed = ParseResourceAttributes(*list);
    if (parsed.ok()) {
      result.attributes = *std::move(parsed);
    } else {
      result.discarded = absl::InvalidArgumentError(absl::StrCat(
          kResourceAttributesVar, ": ", parsed.status().message(), "; the whole value is ignored"));
    }
  }
  std::optional<std::string> service = env(kServiceNameVar);
  if (service && !service->empty()) {
    bool replaced = false;
    for (auto& [k, v] : result.attributes) {
      if (k == kServiceNameKey) {
        v = *service;
        replaced = true;
      }
    }
    if (!replaced) result.attributes.emplace_back(kServiceNameKey, *service);
  }
  return result;
}

void MergeResourceAttributes(const ResourceAttributes& attributes,
                             ::opentelemetry::proto::resource::v1::Resource* resource) {
  if (attributes.empty()) return;
  auto* attrs = resource->mutable_attributes();
  const int existing = attrs->size();
  for (const auto& [key, value] : attributes) {
    bool present = false;
    for (int i = 0; i < existing; ++i) {
      if (attrs->Get(i).key() == key) {
        present = true;
        break;
      }
    }
    if (present) continue;
    auto* kv = attrs->Add();
    kv->set_key(key);
    kv->mutable_value()->set_string_value(value);
  }
}

}  // namespace tracer::otlp
