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
#ifndef CONTROLPLANE_EXPORT_RETRY_POLICY_H_
#define CONTROLPLANE_EXPORT_RETRY_POLICY_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "controlplane/export/exporter.h"

namespace tracer::exporting {

// Backoff parameters. Defaults are the Collector's.
struct RetryPolicy {
  bool enabled = true;                                 // false: one attempt only
  absl::Duration initial_interval = absl::Seconds(5);  // first wait before jitter
  absl::Duration max_interval = absl::Seconds(30);     // cap on one wait before jitter
  // Give up when the next wait would end later than this after the first
  // attempt started (0 = no limit on elapsed time).
  absl::Duration max_elapsed_time = absl::Seconds(300);
  double multiplier = 1.5;            // growth of the interval per retry
  double randomization_factor = 0.5;  // wait = interval * [1 - f, 1 + f]
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

// Exponential backoff with jitter (the Collector's algorithm). Not
// thread-safe; one per export call.
class Backoff {
 public:
  // `uniform01` returns values in [0, 1); the default uses absl::BitGen.
  explicit Backoff(const RetryPolicy& policy, std::function<double()> uniform01 = nullptr);

  // The wait before the next retry: the current interval randomized by
  // +-randomization_factor, after which the interval grows by `multiplier`
  // up to max_interval.
  absl::Duration Next();

 private:
  RetryPolicy policy_;
  std::function<double()> uniform01_;
  absl::Duration current_;
};

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
// exporter marked retryable, waiting Backoff::Next() or the server's
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
  absl::Status Shutdown() override;
  void Cancel() override;
  std::string Describe() const override;

 private:
  std::unique_ptr<SpanExporter> inner_;
  RetryPolicy policy_;
  RetryClock* clock_;
  std::function<double()> uniform01_;
  std::once_flag cancel_once_;
  absl::Notification cancel_;
};

}  // namespace tracer::exporting

#endif  // CONTROLPLANE_EXPORT_RETRY_POLICY_H_
