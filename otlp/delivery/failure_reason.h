// The reason label of a failed export attempt, as counted in
// BackendStats::spans_failed_by_reason and written to dead-letter error
// lines.
#ifndef TRACER_OTLP_DELIVERY_FAILURE_REASON_H_
#define TRACER_OTLP_DELIVERY_FAILURE_REASON_H_

#include <string>

#include "absl/status/status.h"

namespace tracer::otlp::delivery {

// "http_<status>" when the transport reported an HTTP status
// (otlp::HttpStatusOf, e.g. "http_503"), else the status code's name
// in snake case ("unavailable", "deadline_exceeded", "invalid_argument",
// ...). `status` must not be OK ("ok" is returned if it is). Thread-safe.
std::string FailureReason(const absl::Status& status);

}  // namespace tracer::otlp::delivery

#endif  // TRACER_OTLP_DELIVERY_FAILURE_REASON_H_
