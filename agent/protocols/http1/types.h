// One HTTP/1.x message as reconstructed from captured bytes (RFC 9112): what
// the span builder needs, bounded in size. Bodies are counted, never kept.
#ifndef TRACER_AGENT_PROTOCOLS_HTTP1_TYPES_H_
#define TRACER_AGENT_PROTOCOLS_HTTP1_TYPES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracer::http {

// Longest request-target kept (bytes); longer ones are cut and flagged.
inline constexpr size_t kMaxTargetBytes = 8192;
// Longest header value kept (bytes); longer ones are cut.
inline constexpr size_t kMaxHeaderValueBytes = 1024;
// Most header fields kept per message (only allowlisted names are kept).
inline constexpr size_t kMaxKeptHeaders = 16;

// How a message ended.
enum class MessageEnd {
  kComplete,     // the parser saw the whole message
  kHeadersCut,   // bytes were lost (capture gap) before the headers ended
  kBodyUnknown,  // headers complete, then body framing lost to a gap; the
                 // end is the last byte seen before the next message, a
                 // chunked terminator, the close or an idle timeout
  kParseError,   // libhttp-parser rejected the bytes
  kClosed,       // the connection closed before the message ended
};

// A parsed (possibly partial) request or response.
struct HttpMessage {
  bool is_request = true;
  // CLOCK_MONOTONIC ns: start_ns of the data event holding the first byte,
  // end_ns of the event holding the last byte seen.
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  uint32_t first_tid = 0;  // thread that moved the first byte
  uint32_t last_tid = 0;   // thread that moved the last byte seen
  // Requests: the method as sent ("GET"), empty until the request-line's
  // method is known; the request-target as sent ("/a?b=c"), at most
  // kMaxTargetBytes.
  std::string method;
  std::string target;
  bool target_truncated = false;
  // Responses: the status code, 0 until the status-line was parsed.
  int status_code = 0;
  // HTTP-version; 0.0 until known.
  int http_major = 0;
  int http_minor = 0;
  // Kept header fields in arrival order: lowercase name, value (trimmed by
  // the parser, at most kMaxHeaderValueBytes). Only names the parser was
  // told to keep.
  std::vector<std::pair<std::string, std::string>> headers;
  bool headers_complete = false;
  bool chunked = false;
  // Body bytes (after de-chunking), including bytes counted but not
  // captured. Meaningful only while body_size_known.
  uint64_t body_bytes = 0;
  bool body_size_known = true;

  // The first kept header named `lowercase_name`, or nullptr.
  const std::string* Header(std::string_view lowercase_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lowercase_name) return &value;
    }
    return nullptr;
  }
};

}  // namespace tracer::http

#endif  // TRACER_AGENT_PROTOCOLS_HTTP1_TYPES_H_
