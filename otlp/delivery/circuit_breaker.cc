#include "otlp/delivery/circuit_breaker.h"

#include <algorithm>

namespace tracer::otlp::delivery {

std::string_view CircuitStateName(CircuitState state) {
  switch (state) {
    case CircuitState::kClosed:
      return "closed";
    case CircuitState::kOpen:
      return "open";
    case CircuitState::kHalfOpen:
      return "half-open";
  }
  return "?";
}

CircuitBreaker::CircuitBreaker(const CircuitBreakerOptions& options)
    : threshold_(std::max(1, options.failure_threshold)),
      open_for_(std::max(absl::ZeroDuration(), options.open_for)) {}

absl::Duration CircuitBreaker::WaitBeforeAttempt(absl::Time now) {
  if (state_ != CircuitState::kOpen) return absl::ZeroDuration();
  if (now < open_until_) return open_until_ - now;
  state_ = CircuitState::kHalfOpen;
  return absl::ZeroDuration();
}

void CircuitBreaker::OnSuccess() {
  state_ = CircuitState::kClosed;
  consecutive_failures_ = 0;
}

bool CircuitBreaker::OnFailure(absl::Time now) {
  ++consecutive_failures_;
  if (state_ == CircuitState::kHalfOpen ||
      (state_ == CircuitState::kClosed && consecutive_failures_ >= threshold_)) {
    state_ = CircuitState::kOpen;
    open_until_ = now + open_for_;
    return true;
  }
  return false;
}

}  // namespace tracer::otlp::delivery
