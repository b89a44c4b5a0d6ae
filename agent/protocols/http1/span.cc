#include "agent/protocols/http1/span.h"

#include <algorithm>
#include <array>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/protocols/http1/detect.h"
#include "otlp/semconv.h"
#include "otlp/wire/to_message.h"

namespace tracer::http {
namespace {

using opentelemetry::proto::trace::v1::Span;
using otlp::wire::Attribute;

constexpr std::string_view kRedacted = "REDACTED";

// absl here is built with its own string_view type.
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// "host", "host:port", "[v6]", "[v6]:port" (RFC 9110 §7.2).
struct HostPort {
  std::string host;
  std::optional<int> port;
};

HostPort SplitHost(std::string_view h) {
  HostPort out;
  if (absl::StartsWith(A(h), "[")) {
    const size_t close = h.find(']');
    if (close == std::string_view::npos) {
      out.host = std::string(h);
      return out;
    }
    out.host = std::string(h.substr(1, close - 1));
    h.remove_prefix(close + 1);
    int port = 0;
    if (absl::StartsWith(A(h), ":") && absl::SimpleAtoi(A(h.substr(1)), &port) && port > 0 &&
        port < 65536) {
      out.port = port;
    }
    return out;
  }
  const size_t colon = h.rfind(':');
  int port = 0;
  if (colon != std::string_view::npos && absl::SimpleAtoi(A(h.substr(colon + 1)), &port) &&
      port > 0 && port < 65536) {
    out.host = std::string(h.substr(0, colon));
    out.port = port;
  } else {
    out.host = std::string(h);
  }
  return out;
}

bool IsSensitiveQueryKey(std::string_view key) {
  return key == "AWSAccessKeyId" || key == "Signature" || key == "sig" || key == "X-Goog-Signature";
}

// "http://user:pass@host/x" -> "http://REDACTED:REDACTED@host/x" (semconv
// url.full: credentials must not be recorded).
std::string RedactUserInfo(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const size_t auth_start = scheme + 3;
  const size_t auth_end = std::min(url.find_first_of("/?#", auth_start), url.size());
  const size_t at = url.substr(0, auth_end).rfind('@');
  if (at == std::string_view::npos || at < auth_start) return std::string(url);
  return absl::StrCat(A(url.substr(0, auth_start)), "REDACTED:REDACTED", A(url.substr(at)));
}

std::string RedactTarget(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  return absl::StrCat(A(target.substr(0, q + 1)), RedactQuery(target.substr(q + 1)));
}

}  // namespace

std::string_view HttpSpanRecord::Keep(std::string v) {
  if (strings_used_ == strings_.size()) strings_.emplace_back();
  std::string& slot = strings_[strings_used_++];
  slot = std::move(v);
  return slot;
}

std::vector<std::string_view>& HttpSpanRecord::NewArray() {
  if (arrays_used_ == arrays_.size()) arrays_.emplace_back();
  std::vector<std::string_view>& array = arrays_[arrays_used_++];
  array.clear();
  return array;
}

void HttpSpanRecord::Reset() {
  record_ = otlp::wire::SpanRecord();
  attributes_.clear();
  strings_used_ = 0;
  arrays_used_ = 0;
}

namespace {

std::string ProtocolVersion(const HttpMessage& m) {
  return absl::StrCat(m.http_major, ".", m.http_minor);
}

}  // namespace

bool IsSensitiveHeader(std::string_view n) {
  return n == "authorization" || n == "cookie" || n == "set-cookie" || n == "proxy-authorization";
}

std::string_view AnomalyName(Anomaly a) {
  switch (a) {
    case Anomaly::kNone:
      return "";
    case Anomaly::kTimeout:
      return "timeout";
    case Anomaly::kClosedBeforeResponse:
    case Anomaly::kClosedMidMessage:
      return "connection_closed";
    case Anomaly::kResponseWithoutRequest:
      return "response_without_request";
    case Anomaly::kRequestNotCaptured:
      return "request_not_captured";
    case Anomaly::kRequestIncomplete:
      return "request_incomplete";
    case Anomaly::kResponseIncomplete:
      return "response_incomplete";
    case Anomaly::kPendingOverflow:
      return "pending_overflow";
    case Anomaly::kConnectionEvicted:
      return "connection_evicted";
  }
  return "";
}

std::string RedactQuery(std::string_view query) {
  std::string out;
  out.reserve(query.size());
  bool first = true;
  for (absl::string_view param : absl::StrSplit(A(query), '&')) {
    if (!first) out.push_back('&');
    first = false;
    const size_t eq = param.find('=');
    if (eq != absl::string_view::npos && IsSensitiveQueryKey(std::string_view(param.data(), eq))) {
      absl::StrAppend(&out, param.substr(0, eq + 1), A(kRedacted));
    } else {
      out.append(param.data(), param.size());
    }
  }
  return out;
}

void BuildHttpSpanRecord(const ExchangeView& x, const SpanIds& ids, const HttpSpanOptions& options,
                         HttpSpanRecord& out) {
  out.Reset();
  otlp::wire::SpanRecord& span = out.record_;
  span.trace_id = ids.trace_id;
  span.span_id = ids.span_id;
  if (ids.parent_span_id) span.parent_span_id = *ids.parent_span_id;
  span.flags = ids.flags;
  span.trace_state = ids.trace_state;
  const bool server = x.role == capture::SocketRole::kServer;
  span.kind = server ? otlp::wire::SpanKind::kServer : otlp::wire::SpanKind::kClient;

  const HttpMessage* req = x.request;
  const HttpMessage* resp = x.response;
  const uint64_t start =
      req != nullptr ? req->start_ns : (resp != nullptr ? resp->start_ns : x.end_ns);
  uint64_t end = x.end_ns;
  if (resp != nullptr && x.response_end) end = resp->end_ns;
  if (end == 0 && req != nullptr) end = req->end_ns;
  span.start_time_unix_nano = options.clock.ToUnixNs(start);
  span.end_time_unix_nano = options.clock.ToUnixNs(std::max(start, end));

  std::vector<Attribute>& attrs = out.attributes_;
  attrs.reserve(16);  // a complete exchange has 12 to 14
  const auto add_string = [&attrs](std::string_view key, std::string_view value) {
    attrs.push_back(Attribute::String(key, value));
  };
  const auto add_int = [&attrs](std::string_view key, int64_t value) {
    attrs.push_back(Attribute::Int(key, value));
  };
  const auto add_headers = [&attrs, &out, &options](std::string_view prefix, const HttpMessage& m,
                                                    const std::vector<std::string>& allow) {
    for (const std::string& name : allow) {
      const bool sensitive = IsSensitiveHeader(name);
      if (sensitive && options.sensitive_headers == SensitiveHeaderPolicy::kOmit) continue;
      std::vector<std::string_view>* array = nullptr;
      for (const auto& [hname, value] : m.headers) {
        if (hname != name) continue;
        if (array == nullptr) array = &out.NewArray();
        const bool mask = sensitive && options.sensitive_headers != SensitiveHeaderPolicy::kReveal;
        array->push_back(mask ? kRedacted : std::string_view(value));
      }
      if (array != nullptr) {
        attrs.push_back(Attribute::StringArray(out.Keep(absl::StrCat(A(prefix), name)), *array));
      }
    }
  };
  std::string_view method = req != nullptr ? std::string_view(req->method) : "";
  const bool known = !method.empty() && IsSemconvKnownMethod(method);
  span.name = known ? method : std::string_view("HTTP");
  if (known) {
    add_string(otlp::semconv::kHttpRequestMethod, method);
  } else if (req != nullptr) {
    add_string(otlp::semconv::kHttpRequestMethod, "_OTHER");
    if (!method.empty()) add_string(otlp::semconv::kHttpRequestMethodOriginal, method);
  }
  add_string(otlp::semconv::kUrlScheme, "http");

  const std::string* host_header = req != nullptr ? req->Header("host") : nullptr;
  const capture::SocketAddress& server_sock = server ? x.local : x.remote;
  HostPort host;
  if (host_header != nullptr && !host_header->empty()) host = SplitHost(*host_header);
  if (host.host.empty()) host.host = server_sock.AddressString();
  if (!host.port && server_sock.port != 0) host.port = server_sock.port;

  if (req != nullptr && !req->target.empty()) {
    const std::string& t = req->target;
    if (server) {
      std::string_view path = t;
      std::string_view query;
      if (absl::StartsWith(t, "http://") || absl::StartsWith(t, "https://")) {
        // absolute-form (RFC 9112 §3.2.2): the path starts after the authority.
        const size_t s = path.find('/', path.find("://") + 3);
        path = s == std::string_view::npos ? "/" : path.substr(s);
      }
      const size_t q = path.find('?');
      if (q != std::string_view::npos) {
        query = path.substr(q + 1);
        path = path.substr(0, q);
      }
      const size_t frag = path.find('#');
      if (frag != std::string_view::npos) path = path.substr(0, frag);
      add_string(otlp::semconv::kUrlPath, path);
      if (!query.empty()) add_string(otlp::semconv::kUrlQuery, out.Keep(RedactQuery(query)));
    } else if (absl::StartsWith(t, "http://") || absl::StartsWith(t, "https://")) {
      add_string(otlp::semconv::kUrlFull, out.Keep(RedactUserInfo(RedactTarget(t))));
    } else if (absl::StartsWith(t, "/")) {
      std::string authority = host_header != nullptr && !host_header->empty()
                                  ? *host_header
                                  : (x.remote.family == capture::SocketAddress::Family::kIpv6
                                         ? absl::StrCat("[", host.host, "]")
                                         : host.host);
      if ((host_header == nullptr || host_header->empty()) && host.port && *host.port != 80) {
        absl::StrAppend(&authority, ":", *host.port);
      }
      add_string(otlp::semconv::kUrlFull,
                 out.Keep(absl::StrCat("http://", authority, RedactTarget(t))));
    }
  }
  if (!host.host.empty()) {
    add_string(otlp::semconv::kServerAddress, out.Keep(std::move(host.host)));
  }
  if (host.port) add_int(otlp::semconv::kServerPort, *host.port);
  if (x.remote.family != capture::SocketAddress::Family::kUnknown) {
    const std::string_view peer = out.Keep(x.remote.AddressString());
    if (server) {
      add_string(otlp::semconv::kClientAddress, peer);
      add_int(otlp::semconv::kClientPort, x.remote.port);
    }
    add_string(otlp::semconv::kNetworkPeerAddress, peer);
    add_int(otlp::semconv::kNetworkPeerPort, x.remote.port);
  }
  if (req != nullptr && req->http_major > 0) {
    add_string(otlp::semconv::kNetworkProtocolVersion, out.Keep(ProtocolVersion(*req)));
  } else if (resp != nullptr && resp->http_major > 0) {
    add_string(otlp::semconv::kNetworkProtocolVersion, out.Keep(ProtocolVersion(*resp)));
  }
  if (req != nullptr) {
    if (const std::string* ua = req->Header("user-agent")) {
      add_string(otlp::semconv::kUserAgentOriginal, *ua);
    }
  }
  const int code = resp != nullptr ? resp->status_code : 0;
  if (code > 0) add_int(otlp::semconv::kHttpResponseStatusCode, code);
  if (req != nullptr && x.request_end == MessageEnd::kComplete && req->body_size_known) {
    add_int(otlp::semconv::kHttpRequestBodySize, static_cast<int64_t>(req->body_bytes));
  }
  if (resp != nullptr && x.response_end == MessageEnd::kComplete && resp->body_size_known) {
    add_int(otlp::semconv::kHttpResponseBodySize, static_cast<int64_t>(resp->body_bytes));
  }
  if (req != nullptr) {
    add_headers(otlp::semconv::kHttpRequestHeaderPrefix, *req, options.request_headers);
    add_int(otlp::semconv::kThreadId, req->first_tid);
  }
  if (resp != nullptr) {
    add_headers(otlp::semconv::kHttpResponseHeaderPrefix, *resp, options.response_headers);
  }

  std::string_view status_message;
  std::string_view error_type;
  switch (x.anomaly) {
    case Anomaly::kTimeout:
      status_message = "timeout";
      error_type = "timeout";
      break;
    case Anomaly::kClosedBeforeResponse:
      status_message = "connection closed before the response";
      error_type = "connection_closed";
      break;
    case Anomaly::kClosedMidMessage:
      status_message =
          resp != nullptr ? "connection closed mid-response" : "connection closed mid-request";
      error_type = "connection_closed";
      break;
    case Anomaly::kResponseWithoutRequest:
      status_message = "response without request";
      break;
    default:
      break;
  }
  const bool code_error = code >= 500 || (!server && code >= 400);
  if (code_error && error_type.empty()) error_type = out.Keep(absl::StrCat(code));
  if (!error_type.empty()) add_string(otlp::semconv::kErrorType, error_type);
  if (x.anomaly != Anomaly::kNone) add_string("tracer.http.anomaly", AnomalyName(x.anomaly));
  if (code_error || !status_message.empty()) {
    span.status_code = otlp::wire::StatusCode::kError;
    // semconv: no description for a plain HTTP status error.
    span.status_message = status_message;
  }
  span.attributes = attrs;
}

void BuildHttpSpan(const ExchangeView& x, const SpanIds& ids, const HttpSpanOptions& options,
                   Span& span) {
  HttpSpanRecord record;
  BuildHttpSpanRecord(x, ids, options, record);
  otlp::wire::ToMessage(record.record(), &span);
}

}  // namespace tracer::http
