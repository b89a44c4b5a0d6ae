// A per-backend circuit breaker: closed while attempts succeed; open (no
// attempts) for a while after `failure_threshold` consecutive failures;
// then half-open, letting one probe through whose result closes or
// re-opens it. The classic pattern (Nygard, "Release It!"), as the
// Collector's and Envoy's outlier handling apply it to backends.
#ifndef TRACER_OTLP_DELIVERY_CIRCUIT_BREAKER_H_
#define TRACER_OTLP_DELIVERY_CIRCUIT_BREAKER_H_

#include "absl/time/time.h"
#include "otlp/delivery/backend_options.h"

namespace tracer::otlp::delivery {

// Not thread-safe: one per backend worker, which owns it. Times are passed
// in so the state machine is testable without sleeping.
class CircuitBreaker {
 public:
  // `options.failure_threshold` < 1 is treated as 1; a negative open_for
  // as zero.
  explicit CircuitBreaker(const CircuitBreakerOptions& options);

  // How long to wait before the next attempt may start at `now`: zero when
  // closed or half-open; while open, the rest of `open_for` (once that has
  // passed the breaker becomes half-open and zero is returned).
  absl::Duration WaitBeforeAttempt(absl::Time now);

  // The attempt succeeded (or the backend answered at all): closes the
  // breaker and resets the failure count.
  void OnSuccess();

  // The attempt failed at `now`. Closed: counts it and opens the breaker
  // when the count reaches failure_threshold. Half-open: the probe failed,
  // the breaker re-opens for another open_for. Returns true if this call
  // opened the breaker.
  bool OnFailure(absl::Time now);

  CircuitState state() const { return state_; }
  int consecutive_failures() const { return consecutive_failures_; }
  // When an open breaker lets the half-open probe through.
  absl::Time open_until() const { return open_until_; }

 private:
  const int threshold_;
  const absl::Duration open_for_;
  CircuitState state_ = CircuitState::kClosed;
  int consecutive_failures_ = 0;
  absl::Time open_until_ = absl::InfinitePast();
};

}  // namespace tracer::otlp::delivery

#endif  // TRACER_OTLP_DELIVERY_CIRCUIT_BREAKER_H_
