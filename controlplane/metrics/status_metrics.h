// The control plane's counters and gauges as Prometheus metric families,
// taken from one tracer.v1.StatusResponse (the snapshot `tracectl status`
// shows, so both always agree).
//
// Families (label `exporter` is the exporter's name; the embedded store
// appears as exporter="embedded-store"):
//   tracer_exporter_spans_sent_total{exporter}            counter
//   tracer_exporter_requests_sent_total{exporter}         counter
//   tracer_exporter_spans_failed_total{exporter,reason}   counter (reason: the
//       status code in snake case, or http_<status>)
//   tracer_exporter_spans_retried_total{exporter}         counter
//   tracer_exporter_spans_dead_lettered_total{exporter}   counter
//   tracer_exporter_spans_rejected_total{exporter}        counter (partial success)
//   tracer_exporter_queue_dropped_spans_total{exporter}   counter (queue cap)
//   tracer_exporter_queue_lag_records{exporter}           gauge
//   tracer_exporter_queue_lag_spans{exporter}             gauge
//   tracer_exporter_circuit_state{exporter,state}         gauge, 1 for the
//       current state of closed/open/half-open, 0 for the others
//   tracer_queue_records, tracer_queue_bytes, tracer_queue_spans   gauges
//   tracer_queue_dropped_spans_total, tracer_queue_rejected_spans_total  counters
//   tracer_otlp_parses_total{site}                        counter (otlp/parse_counter.h)
//   tracer_batches_accepted_total                         counter (uploads queued)
//   tracer_store_spans                                    gauge
//   tracer_agents_connected, tracer_agents_known          gauges
//   tracer_agent_kernel_drops_total{agent}                counter (as reported)
//   tracer_exporters_version                              gauge
//   tracer_controlplane_info{version}                     gauge, always 1
// Counters count since the control plane started (the agent's since the
// agent started).
#ifndef TRACER_CONTROLPLANE_METRICS_STATUS_METRICS_H_
#define TRACER_CONTROLPLANE_METRICS_STATUS_METRICS_H_

#include <string>
#include <vector>

#include "controlplane/metrics/prometheus_text.h"
#include "tracer/v1/control.pb.h"

namespace tracer::metrics {

// The families above for `status`. Pure and thread-safe.
std::vector<MetricFamily> StatusMetricFamilies(const v1::StatusResponse& status);

// RenderPrometheusText(StatusMetricFamilies(status)).
std::string RenderStatusMetrics(const v1::StatusResponse& status);

}  // namespace tracer::metrics

#endif  // TRACER_CONTROLPLANE_METRICS_STATUS_METRICS_H_
