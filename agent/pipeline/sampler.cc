#include "agent/pipeline/sampler.h"

#include <cstdint>

namespace tracer::pipeline {

bool TraceIdRatioSample(double ratio, const spans::TraceId& trace_id) {
  if (!(ratio > 0.0)) return false;  // also NaN
  if (ratio >= 1.0) return true;
  uint64_t lower = 0;
  for (int i = 8; i < 16; ++i) lower = (lower << 8) | trace_id[i];
  const uint64_t bound = static_cast<uint64_t>(ratio * static_cast<double>(uint64_t{1} << 63));
  return (lower >> 1) < bound;
}

bool ShouldSample(const tracer::v1::Sampling& sampling, const spans::TraceId& trace_id,
                  std::optional<bool> parent_sampled) {
  using S = tracer::v1::Sampling;
  switch (sampling.sampler()) {
    case S::SAMPLER_UNSPECIFIED:
    case S::ALWAYS_ON:
      return true;
    case S::ALWAYS_OFF:
      return false;
    case S::TRACE_ID_RATIO:
      return TraceIdRatioSample(sampling.ratio(), trace_id);
    case S::PARENT_BASED_ALWAYS_ON:
      return parent_sampled.value_or(true);
    case S::PARENT_BASED_ALWAYS_OFF:
      return parent_sampled.value_or(false);
    case S::PARENT_BASED_TRACE_ID_RATIO:
      return parent_sampled.has_value() ? *parent_sampled
                                        : TraceIdRatioSample(sampling.ratio(), trace_id);
    default:  // values from a newer control plane: do not drop data
      return true;
  }
}

}  // namespace tracer::pipeline
