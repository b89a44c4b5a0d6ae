#include "otlp/json_string.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace tracer::otlp {
namespace {

// Length of the well-formed UTF-8 sequence at p (Unicode 15, table 3-7),
// or 0 if it is not well formed. p < end.
size_t WellFormedUtf8Length(const unsigned char* p, const unsigned char* end) {
  auto cont = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return p + i < end && p[i] >= lo && p[i] <= hi;
  };
  unsigned char c = p[0];
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// Nonzero when one of the eight bytes in `x` is a control character, a
// quote, a backslash or above 0x7f (exact tests for a byte below 0x20 and
// for a zero byte, as in "Bit Twiddling Hacks").
inline uint64_t NeedsEscape(uint64_t x) {
  constexpr uint64_t k01 = 0x0101010101010101ull;
  constexpr uint64_t k80 = 0x8080808080808080ull;
  const uint64_t quote = x ^ (k01 * '"');
  const uint64_t backslash = x ^ (k01 * '\\');
  return (x | ((x - k01 * 0x20) & ~x) | ((quote - k01) & ~quote) |
          ((backslash - k01) & ~backslash)) &
         k80;
}

}  // namespace

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  if (i >= s.size()) return 0;
  if (p[i] < 0x80) return 1;
  return WellFormedUtf8Length(p + i, p + s.size());
}

std::string ReplaceInvalidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out.append("\xef\xbf\xbd");  // U+FFFD
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

void AppendJsonString(std::string_view s, std::string* out) {
  const size_t old = out->size();
  out->resize(old + MaxJsonStringSize(s.size()));
  char* end = WriteJsonString(s, out->data() + old);
  out->resize(static_cast<size_t>(end - out->data()));
}

char* WriteJsonString(std::string_view s, char* out) {
  // The escape of each byte below 0x80: 0 copies it, 'u' writes \u00XX,
  // anything else c writes \c.
  static constexpr auto kEscape = [] {
    std::array<char, 128> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = 'u';
    t['"'] = '"';
    t['\\'] = '\\';
    t['\n'] = 'n';
    t['\r'] = 'r';
    t['\t'] = 't';
    t['\b'] = 'b';
    t['\f'] = 'f';
    return t;
  }();
  static constexpr char kDigits[] = "0123456789abcdef";
  *out++ = '"';
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Eight bytes at a time while none needs an escape.
    while (end - p >= 8) {
      uint64_t x;
      std::memcpy(&x, p, 8);
      const uint64_t special = NeedsEscape(x);
      if (special != 0) break;
      std::memcpy(out, p, 8);
      out += 8;
      p += 8;
    }
    // Fewer than eight bytes left: when the last eight bytes of the string
    // need no escape, copy them (the ones already written were copied as
    // they are, since they need none either) and stop.
    if (end - p < 8 && s.size() >= 8) {
      uint64_t x;
      std::memcpy(&x, end - 8, 8);
      if (NeedsEscape(x) == 0) {
        std::memcpy(out - (p - (end - 8)), end - 8, 8);
        out += end - p;
        break;
      }
    }
    const auto* run = p;
    while (p < end && *p < 0x80 && kEscape[*p] == 0) ++p;
    std::memcpy(out, run, static_cast<size_t>(p - run));
    out += p - run;
    if (p == end) break;
    const unsigned char c = *p;
    if (c < 0x80) {
      const char e = kEscape[c];
      *out++ = '\\';
      if (e == 'u') {
        *out++ = 'u';
        *out++ = '0';
        *out++ = '0';
        *out++ = kDigits[c >> 4];
        *out++ = kDigits[c & 0xf];
      } else {
        *out++ = e;
      }
      ++p;
      continue;
    }
    const size_t n = WellFormedUtf8Length(p, end);
    if (n == 0) {
      std::memcpy(out, "\xef\xbf\xbd", 3);  // U+FFFD
      out += 3;
      ++p;
    } else {
      std::memcpy(out, p, n);
      out += n;
      p += n;
    }
  }
  *out++ = '"';
  return out;
}

}  // namespace tracer::otlp
