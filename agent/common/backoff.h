// Reconnect backoff shared by the agent's long-lived gRPC streams.
#ifndef TRACER_AGENT_COMMON_BACKOFF_H_
#define TRACER_AGENT_COMMON_BACKOFF_H_

#include <algorithm>
#include <cstdint>

#include "absl/random/random.h"
#include "absl/time/time.h"

namespace tracer::agent {

// Exponential backoff with "full jitter": after `failures` consecutive
// failed attempts (0 = none), waits a uniformly random time in
// [0, min(initial * 2^failures, max)]. Spreads reconnecting agents out so a
// restarted control plane is not hit by all of them at once.
inline absl::Duration FullJitterBackoff(int failures, absl::Duration initial, absl::Duration max,
                                        absl::BitGen& rng) {
  absl::Duration cap = initial;
  for (int i = 0; i < failures && cap < max; ++i) cap *= 2;
  cap = std::min(cap, max);
  return absl::Nanoseconds(absl::Uniform<int64_t>(rng, 0, absl::ToInt64Nanoseconds(cap) + 1));
}

}  // namespace tracer::agent

#endif  // TRACER_AGENT_COMMON_BACKOFF_H_
