#include "agent/strace/quote.h"

namespace tracer::strace {

std::string QuoteBytes(std::string_view bytes, bool more) {
  std::string out;
  out.reserve(bytes.size() + 2 + (more ? 3 : 0));
  out += '"';
  for (size_t i = 0; i < bytes.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\v':
        out += "\\v";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\r':
        out += "\\r";
        continue;
      default:
        break;
    }
    if (c >= 0x20 && c <= 0x7e) {
      out += static_cast<char>(c);
      continue;
    }
    out += '\\';
    // A following digit would be read as part of a short octal escape.
    bool next_is_digit = i + 1 < bytes.size() && bytes[i + 1] >= '0' && bytes[i + 1] <= '9';
    if (next_is_digit || (c >> 6) != 0) out += static_cast<char>('0' + (c >> 6));
    if (next_is_digit || (c >> 3) != 0) out += static_cast<char>('0' + ((c >> 3) & 7));
    out += static_cast<char>('0' + (c & 7));
  }
  out += '"';
  if (more) out += "...";
  return out;
}

}  // namespace tracer::strace
