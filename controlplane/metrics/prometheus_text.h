// Rendering of metric families in the Prometheus text exposition format,
// version 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats:
// "# HELP name text", "# TYPE name counter|gauge", one
// `name{label="value",...} value` line per sample).
#ifndef TRACER_CONTROLPLANE_METRICS_PROMETHEUS_TEXT_H_
#define TRACER_CONTROLPLANE_METRICS_PROMETHEUS_TEXT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace tracer::metrics {

// The Content-Type of the rendered text.
inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge };

// One sample: label pairs in the order given, and an integer value (every
// metric here counts things or states).
struct Sample {
  std::vector<std::pair<std::string, std::string>> labels;
  uint64_t value = 0;
};

// One metric family. `name` and label names must match
// [a-zA-Z_:][a-zA-Z0-9_:]* (callers use constants); counters end in
// "_total" by convention. A family without samples still gets its HELP and
// TYPE lines.
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;
};

// Label value escaping: backslash -> \\, double quote -> \", line feed -> \n.
std::string EscapeLabelValue(absl::string_view value);

// HELP text escaping: backslash -> \\, line feed -> \n.
std::string EscapeHelp(absl::string_view help);

// The families in order, each as HELP, TYPE and sample lines; every line
// ends in '\n'. Thread-safe (pure).
std::string RenderPrometheusText(const std::vector<MetricFamily>& families);

}  // namespace tracer::metrics

#endif  // TRACER_CONTROLPLANE_METRICS_PROMETHEUS_TEXT_H_
