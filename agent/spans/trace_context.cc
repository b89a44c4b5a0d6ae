#include "agent/spans/trace_context.h"

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace tracer::spans {
namespace {

// Layout of a version-00 traceparent (§3.2.2): vv-<32>-<16>-ff.
constexpr size_t kVersionLen = 2;
constexpr size_t kTraceIdOffset = 3;
constexpr size_t kTraceIdHexLen = 32;
constexpr size_t kParentIdOffset = kTraceIdOffset + kTraceIdHexLen + 1;  // 36
constexpr size_t kParentIdHexLen = 16;
constexpr size_t kFlagsOffset = kParentIdOffset + kParentIdHexLen + 1;  // 53
constexpr size_t kFlagsHexLen = 2;
constexpr size_t kV0Length = kFlagsOffset + kFlagsHexLen;  // 55

constexpr size_t kMaxListMembers = 32;  // §3.3.1
constexpr size_t kMaxValueLen = 256;    // 0*255(chr) nblk-chr

constexpr char kHex[] = "0123456789abcdef";

// Debian's Abseil has its own string_view type; StrCat/StrSplit want it.
absl::string_view Av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

int LowerHexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("traceparent: ", Av(what)));
}

std::string Hex(const uint8_t* data, size_t n) {
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xf];
  }
  return out;
}

// The field named `name` (for messages) at [offset, offset+len) of `s`,
// which must be followed by '-' when `dash_after` is set.
absl::Status ParseField(std::string_view s, size_t offset, size_t len, std::string_view name,
                        uint8_t* out, bool dash_after) {
  // The field ends at the next '-' (or the end); a different length is
  // reported as such rather than as a stray character.
  size_t end = s.find('-', offset);
  if (end == std::string_view::npos) end = s.size();
  if (end - offset != len) {
    return Invalid(absl::StrCat(Av(name), " must be ", len, " hex digits, got ", end - offset));
  }
  if (!ParseLowerHex(s.substr(offset, len), out, len / 2)) {
    return Invalid(absl::StrCat(Av(name), " must be lowercase hex (0-9a-f)"));
  }
  if (dash_after && (offset + len >= s.size() || s[offset + len] != '-')) {
    return Invalid(absl::StrCat("expected '-' after ", Av(name)));
  }
  return absl::OkStatus();
}

bool IsLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsKeyChar(char c) {
  return IsLcAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

// simple-key = lcalpha 0*255( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
// multi-tenant-key = tenant-id "@" system-id
// tenant-id = ( lcalpha / DIGIT ) 0*240( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
// system-id = lcalpha 0*13( lcalpha / DIGIT / "_" / "-"/ "*" / "/" )
bool ValidKey(std::string_view key) {
  size_t at = key.find('@');
  auto all_key_chars = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), IsKeyChar);
  };
  if (at == std::string_view::npos) {
    return !key.empty() && key.size() <= 256 && IsLcAlpha(key[0]) && all_key_chars(key);
  }
  std::string_view tenant = key.substr(0, at);
  std::string_view system = key.substr(at + 1);
  return !tenant.empty() && tenant.size() <= 241 && (IsLcAlpha(tenant[0]) || IsDigit(tenant[0])) &&
         all_key_chars(tenant) && !system.empty() && system.size() <= 14 && IsLcAlpha(system[0]) &&
         all_key_chars(system);
}

// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr;
// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
bool ValidValue(std::string_view value) {
  if (value.empty() || value.size() > kMaxValueLen || value.back() == ' ') return false;
  for (char c : value) {
    if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
  }
  return true;
}

// One 32-bit random_device draw is a thin seed for a 64-bit engine.
uint64_t RandomSeed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool ParseLowerHex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    int hi = LowerHexValue(hex[2 * i]);
    int lo = LowerHexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string HexId(const TraceId& id) { return Hex(id.data(), id.size()); }
std::string HexId(const SpanId& id) { return Hex(id.data(), id.size()); }

bool IsZero(const TraceId& id) {
  return std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; });
}
bool IsZero(const SpanId& id) {
  return std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; });
}

absl::StatusOr<TraceContext> ParseTraceparent(std::string_view s, std::string_view tracestate) {
  if (s.empty()) return Invalid("empty value");
  // version
  size_t dash = s.find('-');
  if (dash == std::string_view::npos) return Invalid("expected '-' after version");
  if (dash != kVersionLen) {
    return Invalid(absl::StrCat("version must be 2 hex digits, got ", dash));
  }
  uint8_t version = 0;
  if (!ParseLowerHex(s.substr(0, kVersionLen), &version, 1)) {
    return Invalid("version must be lowercase hex (0-9a-f)");
  }
  if (version == 0xff) return Invalid("version ff is invalid");

  if (version == 0) {
    // Check the field shapes first so the message names the real problem
    // (a short trace-id also makes the whole value short).
  } else if (s.size() < kV0Length) {
    // §3.2.4: a higher version shorter than 55 characters is not parsed.
    return Invalid(absl::StrCat("version ", Av(s.substr(0, 2)), " value shorter than ", kV0Length,
                                " characters"));
  }

  TraceContext tc;
  uint8_t flags = 0;
  RETURN_IF_ERROR(
      ParseField(s, kTraceIdOffset, kTraceIdHexLen, "trace-id", tc.trace_id.data(), true));
  RETURN_IF_ERROR(
      ParseField(s, kParentIdOffset, kParentIdHexLen, "parent-id", tc.parent_span_id.data(), true));
  // The flags end at the end of the value or (future versions) at a '-'.
  {
    std::string_view rest = s.substr(kFlagsOffset);
    size_t flags_len = std::min(rest.find('-'), rest.size());
    if (flags_len != kFlagsHexLen) {
      return Invalid(absl::StrCat("trace-flags must be 2 hex digits, got ", flags_len));
    }
    if (!ParseLowerHex(rest.substr(0, kFlagsHexLen), &flags, 1)) {
      return Invalid("trace-flags must be lowercase hex (0-9a-f)");
    }
  }
  if (s.size() > kV0Length) {
    if (version == 0) {
      return Invalid(absl::StrCat("extra data after trace-flags (version 00 is exactly ", kV0Length,
                                  " characters)"));
    }
    // ParseField/flags above guarantee s[55] == '-' here; §3.2.4 ignores
    // whatever follows in a future version.
  }
  if (IsZero(tc.trace_id)) return Invalid("trace-id is all zeros");
  if (IsZero(tc.parent_span_id)) return Invalid("parent-id is all zeros");
  tc.flags = flags & kTraceFlagSampled;

  if (!tracestate.empty()) {
    auto ts = ValidateTracestate(tracestate);
    if (ts.ok()) {
      tc.trace_state = std::move(*ts);
    } else {
      // §3.3.1.1: failing to parse tracestate must not affect traceparent.
      LOG(WARNING) << "ignoring invalid tracestate: " << ts.status().message();
    }
  }
  return tc;
}

absl::StatusOr<std::string> ValidateTracestate(std::string_view tracestate) {
  std::vector<absl::string_view> members;
  absl::flat_hash_set<std::string_view> keys;
  for (absl::string_view raw : absl::StrSplit(Av(tracestate), ',')) {
    std::string_view member = TrimOws(std::string_view(raw.data(), raw.size()));
    if (member.empty()) continue;  // empty members are allowed (§3.3.1)
    if (members.size() == kMaxListMembers) {
      return absl::InvalidArgumentError(
          absl::StrCat("tracestate: more than ", kMaxListMembers, " list members"));
    }
    size_t eq = member.find('=');
    if (eq == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("tracestate: list member '", Av(member), "' has no '='"));
    }
    std::string_view key = member.substr(0, eq);
    std::string_view value = member.substr(eq + 1);
    if (!ValidKey(key)) {
      return absl::InvalidArgumentError(absl::StrCat("tracestate: invalid key '", Av(key), "'"));
    }
    if (!ValidValue(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("tracestate: invalid value for key '", Av(key), "'"));
    }
    if (!keys.insert(key).second) {
      return absl::InvalidArgumentError(absl::StrCat("tracestate: duplicate key '", Av(key), "'"));
    }
    members.push_back(Av(member));
  }
  return absl::StrJoin(members, ",");
}

std::string FormatTraceparent(const TraceContext& context) {
  return absl::StrCat("00-", HexId(context.trace_id), "-", HexId(context.parent_span_id), "-",
                      Hex(&context.flags, 1));
}

LocalIdGenerator::LocalIdGenerator() : rng_(RandomSeed()) {}

LocalIdGenerator::LocalIdGenerator(uint64_t seed) : rng_(seed) {}

TraceId LocalIdGenerator::NewTraceId() {
  TraceId id;
  do {
    uint64_t hi = rng_(), lo = rng_();
    for (int i = 0; i < 8; ++i) {
      id[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
      id[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
    }
  } while (IsZero(id));
  return id;
}

SpanId LocalIdGenerator::NewSpanId() {
  SpanId id;
  do {
    uint64_t v = rng_();
    for (int i = 0; i < 8; ++i) id[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
  } while (IsZero(id));
  return id;
}

IdGenerator::IdGenerator() = default;

IdGenerator::IdGenerator(uint64_t seed) : ids_(seed) {}

TraceId IdGenerator::NewTraceId() {
  absl::MutexLock lock(&mu_);
  return ids_.NewTraceId();
}

SpanId IdGenerator::NewSpanId() {
  absl::MutexLock lock(&mu_);
  return ids_.NewSpanId();
}

}  // namespace tracer::spans
