// What a delivery worker (backend_worker.h) is configured with and what it
// counts: one backend's transport settings, batch limits and circuit
// breaker, and its counters and gauges.
#ifndef TRACER_OTLP_DELIVERY_BACKEND_OPTIONS_H_
#define TRACER_OTLP_DELIVERY_BACKEND_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "otlp/delivery/payload_format.h"
#include "otlp/exporter_config.h"

namespace tracer::otlp::delivery {

struct CircuitBreakerOptions {
  int failure_threshold = 5;                    // consecutive failures that open it
  absl::Duration open_for = absl::Seconds(30);  // wait before the half-open probe
};

enum class CircuitState { kClosed, kOpen, kHalfOpen };

// "closed", "open", "half-open". Thread-safe.
std::string_view CircuitStateName(CircuitState state);

// One backend.
struct BackendOptions {
  // 1..64 bytes of [a-z0-9_.-]; unique; names the cursor and files.
  std::string name;
  // Transport settings. The worker makes its own attempts and backoff from
  // `exporter.retry` (enabled=false means: a retryable failure is retried
  // after initial_interval without growth); queued spans are retried until
  // delivered or dead-lettered, with no limit on elapsed time.
  otlp::ExporterConfig exporter;
  // Upper bounds of one export request (spans summed over merged records;
  // serialized bytes). A single record larger than either is sent alone.
  size_t max_batch_spans = 8192;
  size_t max_batch_bytes = size_t{4} << 20;
  CircuitBreakerOptions breaker;
  // Whether retryable failures are logged (the first of a batch, and each
  // time the circuit opens). An interactive caller that reports the
  // outcome itself turns it off; refusals and errors are always logged.
  bool log_retries = true;
  // How the records of the log the worker reads hold their batch.
  PayloadFormat payload_format = PayloadFormat::kQueueRecord;
};

// Counters since the worker (or whatever owns it and carries them over)
// started the
// backend, and gauges.
struct BackendStats {
  std::string name;
  std::string endpoint;     // the exporter's Describe()
  uint64_t spans_sent = 0;  // in requests the backend accepted
  uint64_t requests_sent = 0;
  uint64_t spans_rejected = 0;  // partial_success.rejected_spans
  // Spans in failed attempts, by reason: the absl status code's name in
  // snake case ("unavailable", "deadline_exceeded", "invalid_argument", ...)
  // or "http_<status>" when the transport reported an HTTP status.
  std::map<std::string, uint64_t> spans_failed_by_reason;
  uint64_t spans_failed = 0;   // sum of the above
  uint64_t spans_retried = 0;  // spans re-sent after a retryable failure
  uint64_t spans_dead_lettered = 0;
  uint64_t queue_lag_records = 0;  // queued records past this cursor
  uint64_t queue_lag_spans = 0;
  uint64_t queue_dropped_spans = 0;  // deleted by the queue cap before sent
  CircuitState circuit = CircuitState::kClosed;
  std::string last_error;  // "" when the last attempt succeeded
};

}  // namespace tracer::otlp::delivery

#endif  // TRACER_OTLP_DELIVERY_BACKEND_OPTIONS_H_
