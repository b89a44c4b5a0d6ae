// strace's quoting of byte strings captured from a traced process.
//
// Untrusted input: any bytes, any length; output is printable ASCII only.
// Thread-safe (pure functions).
#ifndef TRACER_AGENT_STRACE_QUOTE_H_
#define TRACER_AGENT_STRACE_QUOTE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace tracer::strace {

// Returns `bytes` in double quotes the way strace prints strings (its
// string_quote()): \t \n \v \f \r \" \\ escaped, bytes 0x20..0x7e as is, any
// other byte in octal, as short as possible ("\0", "\33", "\377") unless the
// next byte is a digit, when three digits are used ("\0001"). If `more` is
// true the source continued past `bytes` and strace's `...` follows the
// closing quote: "abc"...
std::string QuoteBytes(std::string_view bytes, bool more);

}  // namespace tracer::strace

#endif  // TRACER_AGENT_STRACE_QUOTE_H_
