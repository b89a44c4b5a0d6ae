// The HTTP status an OTLP/HTTP export failure carried, attached to the
// absl::Status as a payload so that callers (per-backend failure counters)
// need not parse messages.
#ifndef TRACER_OTLP_HTTP_STATUS_H_
#define TRACER_OTLP_HTTP_STATUS_H_

#include <optional>

#include "absl/status/status.h"

namespace tracer::otlp {

// Returns `status` (not OK) with the HTTP response status `http_status`
// (100..599) attached. Transports call this on failures that had an HTTP
// answer. Keeps every other payload (e.g. MarkRetryable's).
absl::Status WithHttpStatus(absl::Status status, int http_status);

// The HTTP status attached by WithHttpStatus (OtlpHttpExporter attaches it
// to every failure that had an HTTP answer); nullopt without it.
// Thread-safe.
std::optional<int> HttpStatusOf(const absl::Status& status);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_HTTP_STATUS_H_
