// Retry of failed exports: which failures are retryable, exponential backoff
// with jitter, Retry-After / RetryInfo hints, and a SpanExporter decorator
// that applies them.
//
// Follows the OTLP specification, protocol/otlp.md "Failures" (OTLP/gRPC:
// retryable codes CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
// UNAVAILABLE, DATA_LOSS, and RESOURCE_EXHAUSTED only when the server sent
// RetryInfo; OTLP/HTTP: 429, 502, 503, 504, honouring Retry-After), with the
// backoff of the OpenTelemetry Collector's exporterhelper (initial 5 s,
// multiplier 1.5, randomization 0.5, max interval 30 s, max elapsed 300 s).
#ifndef TRACER_OTLP_RETRY_POLICY_H_
#define TRACER_OTLP_RETRY_POLICY_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/backoff.h"
#include "otlp/exporter.h"

namespace tracer::otlp {

// Retry parameters: the backoff (common/backoff.h; defaults are the
// Collector's) plus whether to retry at all and for how long.
struct RetryPolicy : common::BackoffPolicy {
  bool enabled = true;  // false: one attempt only
  // Give up when the next wait would end later than this after the first
  // attempt started (0 = no limit on elapsed time).
  absl::Duration max_elapsed_time = absl::Seconds(300);
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
// RetryingExporter reads it back.
absl::Status MarkRetryable(absl::Status status,
                           std::optional<absl::Duration> retry_after = std::nullopt);

// Whether MarkRetryable was applied to `status`.
bool IsMarkedRetryable(const absl::Status& status);

// The delay passed to MarkRetryable, if any.
std::optional<absl::Duration> RetryAfterOf(const absl::Status& status);

// How many retries a failed RetryingExporter::Export made before giving up
// (0 if `status` did not come from one).
int RetriesOf(const absl::Status& status);

// Time source and sleeper for retries; injectable so tests do not sleep.
class RetryClock {
 public:
  virtual ~RetryClock() = default;
  virtual absl::Time Now() = 0;
  // Waits `d` or until `cancel` is notified; returns false if cancelled.
  virtual bool SleepFor(absl::Duration d, absl::Notification* cancel) = 0;
};

// The real clock (absl::Now, blocking wait). A process-wide singleton.
RetryClock* RealRetryClock();

// A SpanExporter decorator that re-sends a request after failures its inner
// exporter marked retryable, waiting common::Backoff::Next() or the server's
// Retry-After / RetryInfo delay, whichever is longer, until the request
// succeeds, a non-retryable error comes back, or the next wait would exceed
// max_elapsed_time.
//
// Errors keep the last attempt's code and the backend's message, prefixed
// with the attempt count ("... after 4 attempts in 12.3s: ..."); RetriesOf()
// tells how many retries were made. Thread-safety: like the inner exporter;
// Cancel() may be called from any thread and makes waits (current and
// future) end at once with CANCELLED.
class RetryingExporter : public SpanExporter {
 public:
  // `clock` (nullptr = RealRetryClock()) must outlive the exporter.
  RetryingExporter(std::unique_ptr<SpanExporter> inner, RetryPolicy policy,
                   RetryClock* clock = nullptr, std::function<double()> uniform01 = nullptr);

  absl::StatusOr<ExportResult> Export(const ExportTraceServiceRequest& request) override;
  // The inner exporter's form; serialized requests are retried through its
  // ExportSerialized() like Export()'s.
  RequestForm request_form() const override;
  absl::StatusOr<ExportResult> ExportSerialized(std::string serialized) override;
  absl::Status Shutdown() override;
  void Cancel() override;
  std::string Describe() const override;

 private:
  // Makes `attempt` until it succeeds, fails without the retryable mark or
  // the budget runs out (the contract above).
  absl::StatusOr<ExportResult> Retry(const std::function<absl::StatusOr<ExportResult>()>& attempt);

  std::unique_ptr<SpanExporter> inner_;
  RetryPolicy policy_;
  RetryClock* clock_;
  std::function<double()> uniform01_;
  std::once_flag cancel_once_;
  absl::Notification cancel_;
};

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_RETRY_POLICY_H_
