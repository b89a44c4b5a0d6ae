#include "common/backoff.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"

namespace tracer::common {

std::function<double()> DefaultUniform01() {
  auto gen = std::make_shared<absl::BitGen>();
  auto mu = std::make_shared<absl::Mutex>();
  return [gen, mu] {
    absl::MutexLock lock(mu.get());
    return absl::Uniform<double>(*gen, 0.0, 1.0);
  };
}

BackoffPolicy ReconnectBackoff(absl::Duration initial, absl::Duration max) {
  BackoffPolicy p;
  p.initial_interval = initial;
  p.max_interval = max;
  p.multiplier = 2.0;
  p.full_jitter = true;
  return p;
}

Backoff::Backoff(const BackoffPolicy& policy, std::function<double()> uniform01)
    : policy_(policy),
      uniform01_(uniform01 ? std::move(uniform01) : DefaultUniform01()),
      current_(std::min(policy.initial_interval, policy.max_interval)) {}

absl::Duration Backoff::Next() {
  absl::Duration wait;
  if (policy_.full_jitter) {
    wait = current_ * uniform01_();
  } else {
    const absl::Duration delta = current_ * policy_.randomization_factor;
    wait = current_ - delta + (2 * delta) * uniform01_();
  }
  current_ = std::min(current_ * policy_.multiplier, policy_.max_interval);
  return std::max(wait, absl::ZeroDuration());
}

void Backoff::Reset() { current_ = std::min(policy_.initial_interval, policy_.max_interval); }

}  // namespace tracer::common
