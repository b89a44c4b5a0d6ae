// Exponential backoff with jitter: the one implementation behind every retry
// and reconnect loop of the project (OTLP export retries, the control
// plane's backend workers, the agent's control and upload streams).
//
// Two jitter shapes, both well known:
// - proportional (the OpenTelemetry Collector's exporterhelper, from
//   cenkalti/backoff): wait = interval * U[1 - f, 1 + f], f the
//   randomization factor;
// - full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
//   wait = U[0, interval], which spreads a fleet of reconnecting agents out
//   so a restarted control plane is not hit by all of them at once.
// After each wait the interval grows by `multiplier`, capped at max_interval.
#ifndef TRACER_COMMON_BACKOFF_H_
#define TRACER_COMMON_BACKOFF_H_

#include <functional>

#include "absl/time/time.h"

namespace tracer::common {

// Backoff parameters. The defaults are the Collector's (initial 5 s,
// multiplier 1.5, randomization 0.5, max interval 30 s).
struct BackoffPolicy {
  absl::Duration initial_interval = absl::Seconds(5);  // first interval, before jitter
  absl::Duration max_interval = absl::Seconds(30);     // cap on the interval, before jitter
  double multiplier = 1.5;                             // growth of the interval per wait
  double randomization_factor = 0.5;                   // proportional jitter: +-f
  // Full jitter instead: U[0, interval] (randomization_factor unused). A
  // wait then never exceeds max_interval.
  bool full_jitter = false;
};

// The reconnect shape of long-lived streams: full jitter, doubling from
// `initial` up to `max`.
BackoffPolicy ReconnectBackoff(absl::Duration initial, absl::Duration max);

// A sequence of waits for one run of consecutive failures. Not thread-safe:
// one per retry loop.
class Backoff {
 public:
  // `uniform01` returns values in [0, 1) (for tests); nullptr uses a
  // thread-safe absl::BitGen.
  explicit Backoff(const BackoffPolicy& policy, std::function<double()> uniform01 = nullptr);

  // The next wait (never negative); then the interval grows.
  absl::Duration Next();

  // Back to the initial interval, after a success.
  void Reset();

 private:
  BackoffPolicy policy_;
  std::function<double()> uniform01_;
  absl::Duration current_;
};

// A thread-safe source of U[0, 1) doubles backed by absl::BitGen.
std::function<double()> DefaultUniform01();

}  // namespace tracer::common

#endif  // TRACER_COMMON_BACKOFF_H_
