#include "controlplane/metrics/status_metrics.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace tracer::metrics {
namespace {

constexpr const char* kCircuitStates[] = {"closed", "open", "half-open"};

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

// One sample per exporter of `value(exporter)`.
MetricFamily PerExporter(std::string name, std::string help, MetricType type,
                         const v1::StatusResponse& status,
                         const std::function<uint64_t(const v1::ExporterStatus&)>& value) {
  MetricFamily f = Family(std::move(name), std::move(help), type);
  for (const v1::ExporterStatus& e : status.exporters()) {
    f.samples.push_back({{{"exporter", e.name()}}, value(e)});
  }
  return f;
}

MetricFamily Scalar(std::string name, std::string help, MetricType type, uint64_t value) {
  MetricFamily f = Family(std::move(name), std::move(help), type);
  f.samples.push_back({{}, value});
  return f;
}

}  // namespace

std::vector<MetricFamily> StatusMetricFamilies(const v1::StatusResponse& status) {
  constexpr MetricType kCounter = MetricType::kCounter;
  constexpr MetricType kGauge = MetricType::kGauge;
  std::vector<MetricFamily> out;
  out.push_back(PerExporter("tracer_exporter_spans_sent_total",
                            "Spans in export requests the backend accepted.", kCounter, status,
                            [](const auto& e) { return e.spans_sent(); }));
  out.push_back(PerExporter("tracer_exporter_requests_sent_total",
                            "Export requests the backend accepted.", kCounter, status,
                            [](const auto& e) { return e.requests_sent(); }));
  {
    MetricFamily f = Family("tracer_exporter_spans_failed_total",
                            "Spans in failed export attempts, by reason (status code or "
                            "http_<status>).",
                            kCounter);
    for (const v1::ExporterStatus& e : status.exporters()) {
      // Map iteration order is unspecified; sort for stable output.
      std::vector<std::pair<std::string, uint64_t>> reasons(e.spans_failed_by_reason().begin(),
                                                            e.spans_failed_by_reason().end());
      std::sort(reasons.begin(), reasons.end());
      for (const auto& [reason, spans] : reasons) {
        f.samples.push_back({{{"exporter", e.name()}, {"reason", reason}}, spans});
      }
    }
    out.push_back(std::move(f));
  }
  out.push_back(PerExporter("tracer_exporter_spans_retried_total",
                            "Spans re-sent after a retryable failure.", kCounter, status,
                            [](const auto& e) { return e.spans_retried(); }));
  out.push_back(PerExporter("tracer_exporter_spans_dead_lettered_total",
                            "Spans refused with a non-retryable error and written to the "
                            "dead-letter file.",
                            kCounter, status,
                            [](const auto& e) { return e.spans_dead_lettered(); }));
  out.push_back(PerExporter("tracer_exporter_spans_rejected_total",
                            "Spans the backend rejected in a partial success.", kCounter, status,
                            [](const auto& e) { return e.spans_rejected(); }));
  out.push_back(PerExporter("tracer_exporter_queue_dropped_spans_total",
                            "Spans the queue cap deleted before this exporter sent them.", kCounter,
                            status, [](const auto& e) { return e.queue_dropped_spans(); }));
  out.push_back(PerExporter("tracer_exporter_queue_lag_records",
                            "Queued records this exporter has not delivered yet.", kGauge, status,
                            [](const auto& e) { return e.queue_lag_records(); }));
  out.push_back(PerExporter("tracer_exporter_queue_lag_spans",
                            "Spans in the queued records this exporter has not delivered yet.",
                            kGauge, status, [](const auto& e) { return e.queue_lag_spans(); }));
  {
    MetricFamily f = Family("tracer_exporter_circuit_state",
                            "Circuit breaker state per exporter: 1 for the current state.", kGauge);
    for (const v1::ExporterStatus& e : status.exporters()) {
      for (const char* state : kCircuitStates) {
        f.samples.push_back(
            {{{"exporter", e.name()}, {"state", state}}, e.circuit_state() == state ? 1u : 0u});
      }
    }
    out.push_back(std::move(f));
  }
  out.push_back(Scalar("tracer_queue_records", "Records in the control plane's durable queue.",
                       kGauge, status.queue_records()));
  out.push_back(Scalar("tracer_queue_bytes", "Stored bytes of the durable queue's records.", kGauge,
                       status.queue_bytes()));
  out.push_back(Scalar("tracer_queue_spans", "Spans in the durable queue's records.", kGauge,
                       status.queue_spans()));
  out.push_back(Scalar("tracer_queue_dropped_spans_total",
                       "Spans deleted by the queue cap (drop_oldest).", kCounter,
                       status.queue_dropped_spans()));
  out.push_back(Scalar("tracer_queue_rejected_spans_total",
                       "Spans refused by the queue cap (block).", kCounter,
                       status.queue_rejected_spans()));
  {
    MetricFamily f = Family("tracer_otlp_parses_total",
                            "OTLP span-data parses in the control plane, by site (ingest, "
                            "store, export, query).",
                            kCounter);
    std::vector<std::pair<std::string, uint64_t>> sites(status.otlp_parses().begin(),
                                                        status.otlp_parses().end());
    std::sort(sites.begin(), sites.end());
    for (const auto& [site, parses] : sites) f.samples.push_back({{{"site", site}}, parses});
    out.push_back(std::move(f));
  }
  out.push_back(Scalar("tracer_batches_accepted_total",
                       "Agent uploads queued by the control plane's ingest.", kCounter,
                       status.batches_accepted()));
  out.push_back(Scalar("tracer_store_spans", "Spans in the embedded trace store.", kGauge,
                       status.spans_stored()));
  uint64_t connected = 0;
  for (const v1::AgentInfo& a : status.agents()) connected += a.connected() ? 1 : 0;
  out.push_back(
      Scalar("tracer_agents_connected", "Agents with an open control stream.", kGauge, connected));
  out.push_back(Scalar("tracer_agents_known", "Agents that connected since start.", kGauge,
                       static_cast<uint64_t>(status.agents_size())));
  // Per-agent counters from the agents' heartbeats.
  auto per_agent = [&](const char* name, const char* help,
                       uint64_t (v1::AgentCounters::*value)() const) {
    MetricFamily f = Family(name, help, kCounter);
    for (const v1::AgentInfo& a : status.agents()) {
      f.samples.push_back({{{"agent", a.agent_id()}}, (a.counters().*value)()});
    }
    out.push_back(std::move(f));
  };
  per_agent("tracer_agent_kernel_drops_total", "Kernel ring-buffer drops an agent reported.",
            &v1::AgentCounters::kernel_drops);
  per_agent("tracer_agent_http_spans_total", "HTTP SERVER/CLIENT spans an agent built.",
            &v1::AgentCounters::http_spans);
  per_agent("tracer_agent_http_spans_marked_total",
            "HTTP spans an agent marked (timeout, response without request, cut short).",
            &v1::AgentCounters::http_spans_marked);
  out.push_back(Scalar("tracer_exporters_version", "Version of the stored exporter configuration.",
                       kGauge, status.exporters_version()));
  {
    MetricFamily f = Family("tracer_controlplane_info", "The control plane's version.", kGauge);
    f.samples.push_back({{{"version", status.controlplane_version()}}, 1});
    out.push_back(std::move(f));
  }
  return out;
}

std::string RenderStatusMetrics(const v1::StatusResponse& status) {
  return RenderPrometheusText(StatusMetricFamilies(status));
}

}  // namespace tracer::metrics
