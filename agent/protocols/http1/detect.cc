#include "agent/protocols/http1/detect.h"

#include <algorithm>
#include <array>

namespace tracer::http {
namespace {

// libhttp-parser 2.9's method table (HTTP_METHOD_MAP), each with its space.
constexpr std::array<std::string_view, 34> kMethods = {
    "DELETE ",     "GET ",      "HEAD ",       "POST ",     "PUT ",    "CONNECT ",   "OPTIONS ",
    "TRACE ",      "COPY ",     "LOCK ",       "MKCOL ",    "MOVE ",   "PROPFIND ",  "PROPPATCH ",
    "SEARCH ",     "UNLOCK ",   "BIND ",       "REBIND ",   "UNBIND ", "ACL ",       "REPORT ",
    "MKACTIVITY ", "CHECKOUT ", "MERGE ",      "M-SEARCH ", "NOTIFY ", "SUBSCRIBE ", "UNSUBSCRIBE ",
    "PATCH ",      "PURGE ",    "MKCALENDAR ", "LINK ",     "UNLINK ", "SOURCE ",
};

constexpr std::string_view kResponsePrefix = "HTTP/1.";

bool IsPrefixOf(std::string_view a, std::string_view b) {
  return a.size() <= b.size() && b.substr(0, a.size()) == a;
}

}  // namespace

StartKind ClassifyStart(std::string_view bytes) {
  bool maybe = false;
  for (std::string_view m : kMethods) {
    if (IsPrefixOf(m, bytes)) return StartKind::kRequest;
    if (IsPrefixOf(bytes, m)) maybe = true;
  }
  if (bytes.size() > kResponsePrefix.size()) {
    if (IsPrefixOf(kResponsePrefix, bytes)) {
      const char d = bytes[kResponsePrefix.size()];
      if (d >= '0' && d <= '9') return StartKind::kResponse;
    }
  } else if (IsPrefixOf(bytes, kResponsePrefix)) {
    maybe = true;
  }
  return maybe ? StartKind::kNeedMoreData : StartKind::kNotHttp;
}

bool StartsMessage(std::string_view bytes, bool request) {
  const StartKind k = ClassifyStart(bytes);
  return request ? k == StartKind::kRequest : k == StartKind::kResponse;
}

bool IsSemconvKnownMethod(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kKnown = {
      "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"};
  return std::find(kKnown.begin(), kKnown.end(), method) != kKnown.end();
}

}  // namespace tracer::http
