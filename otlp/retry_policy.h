// Which failed exports are retryable, the backoff parameters, and the
// Retry-After / RetryInfo hints a transport attaches to its errors. The one
// retry loop that applies them is the export engine's BackendWorker
// (otlp/delivery/backend_worker.h); transports make one attempt per call.
//
// Follows the OTLP specification, protocol/otlp.md "Failures" (OTLP/gRPC:
// retryable codes CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
// UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED only when the server sent
// RetryInfo; OTLP/HTTP: 429, 502, 503, 504, honouring Retry-After), with the
// backoff of the OpenTelemetry Collector's exporterhelper (initial 5 s,
// multiplier 1.5, randomization 0.5, max interval 30 s).
#ifndef TRACER_OTLP_RETRY_POLICY_H_
#define TRACER_OTLP_RETRY_POLICY_H_

#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/backoff.h"

namespace tracer::otlp {

// Retry parameters: the backoff (common/backoff.h; defaults are the
// Collector's) plus whether the interval grows. The export engine retries a
// queued batch until it is delivered or dead-lettered, so there is no limit
// on elapsed time.
struct RetryPolicy : common::BackoffPolicy {
  // false: a retryable failure is retried after initial_interval, without
  // growth (BackendOptions in otlp/delivery/backend_options.h).
  bool enabled = true;
};

// True for the gRPC status codes the OTLP specification lists as retryable.
// RESOURCE_EXHAUSTED only when the server sent a google.rpc.RetryInfo detail.
// `code` is an absl::StatusCode (numerically equal to grpc::StatusCode).
bool IsRetryableGrpcCode(absl::StatusCode code, bool has_retry_info);

// True for the HTTP statuses the OTLP specification lists as retryable
// (429, 502, 503, 504).
bool IsRetryableHttpStatus(int http_status);

// Parses an HTTP Retry-After value (RFC 9110 section 10.2.3): delay-seconds or
// an IMF-fixdate relative to `now`. nullopt when malformed; a date in the
// past gives zero.
std::optional<absl::Duration> ParseRetryAfter(std::string_view value, absl::Time now);

// Marks `status` (not OK) as retryable, with an optional server-requested
// minimum delay (Retry-After, RetryInfo.retry_delay). Transports call this;
// the export engine's BackendWorker reads it back.
absl::Status MarkRetryable(absl::Status status,
                           std::optional<absl::Duration> retry_after = std::nullopt);

// Whether MarkRetryable was applied to `status`.
bool IsMarkedRetryable(const absl::Status& status);

// The delay passed to MarkRetryable, if any.
std::optional<absl::Duration> RetryAfterOf(const absl::Status& status);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_RETRY_POLICY_H_
