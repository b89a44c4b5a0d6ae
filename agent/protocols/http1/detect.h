// Cheap HTTP/1.x recognition from the first bytes of a byte stream, used to
// decide whether a tracked connection speaks HTTP at all (anything else is
// ignored, never parsed) and to find where a message starts again after
// bytes were lost (RFC 9112 §3 request-line, §4 status-line).
#ifndef TRACER_AGENT_PROTOCOLS_HTTP1_DETECT_H_
#define TRACER_AGENT_PROTOCOLS_HTTP1_DETECT_H_

#include <string_view>

namespace tracer::http {

// What the first bytes of a stream say.
enum class StartKind {
  kNeedMoreData,  // a proper prefix of a request or status line start
  kRequest,       // "<method> " with a method libhttp-parser knows
  kResponse,      // "HTTP/1." followed by a digit
  kNotHttp,       // cannot be the start of an HTTP/1.x message
};

// Classifies `bytes`, the first bytes of a stream (at most the first 12 are
// looked at). Methods are the ones libhttp-parser 2.9 accepts (RFC 9110 §9
// plus WebDAV and friends), in upper case as RFC 9110 §9.1 requires.
// Pure function; thread-safe.
StartKind ClassifyStart(std::string_view bytes);

// True when `bytes` begins with a complete request-line start ("GET ") for
// `request` == true, or a status-line start ("HTTP/1.1") otherwise. Used to
// resynchronise after a capture gap: a false prefix match is never taken.
// Pure function; thread-safe.
bool StartsMessage(std::string_view bytes, bool request);

// True for the methods the stable HTTP semantic conventions list as known
// (semconv http.request.method: CONNECT, DELETE, GET, HEAD, OPTIONS, PATCH,
// POST, PUT, TRACE). Others are reported as "_OTHER". Thread-safe.
bool IsSemconvKnownMethod(std::string_view method);

}  // namespace tracer::http

#endif  // TRACER_AGENT_PROTOCOLS_HTTP1_DETECT_H_
