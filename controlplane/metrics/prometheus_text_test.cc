#include "controlplane/metrics/prometheus_text.h"

#include "controlplane/metrics/status_metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(PrometheusTextTest, RendersHelpTypeAndSamples) {
  std::vector<MetricFamily> families(2);
  families[0].name = "x_total";
  families[0].help = "Things.\nSecond line with \\ backslash";
  families[0].type = MetricType::kCounter;
  families[0].samples.push_back({{{"a", "1"}, {"b", "two"}}, 18446744073709551615u});
  families[0].samples.push_back({{}, 0});
  families[1].name = "y";
  families[1].help = "Empty.";
  EXPECT_EQ(RenderPrometheusText(families),
            "# HELP x_total Things.\\nSecond line with \\\\ backslash\n"
            "# TYPE x_total counter\n"
            "x_total{a=\"1\",b=\"two\"} 18446744073709551615\n"
            "x_total 0\n"
            "# HELP y Empty.\n"
            "# TYPE y gauge\n");
}

TEST(PrometheusTextTest, EscapesLabelValues) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(EscapeLabelValue("plain-name.1"), "plain-name.1");
  EXPECT_EQ(EscapeHelp("say \"hi\"\n"), "say \"hi\"\\n");
}

v1::StatusResponse Status() {
  v1::StatusResponse s;
  s.set_controlplane_version("1.2.3");
  s.set_queue_records(10);
  s.set_queue_bytes(2048);
  s.set_queue_spans(55);
  s.set_queue_dropped_spans(3);
  s.set_spans_stored(99);
  s.set_exporters_version(4);
  auto* a = s.add_agents();
  a->set_agent_id("node-1");
  a->set_connected(true);
  a->mutable_counters()->set_kernel_drops(7);
  a->mutable_counters()->set_http_spans(12);
  a->mutable_counters()->set_http_spans_marked(2);
  s.add_agents()->set_agent_id("node-2");
  auto* e = s.add_exporters();
  e->set_name("tempo");
  e->set_spans_sent(1000);
  e->set_requests_sent(4);
  e->set_spans_retried(20);
  e->set_spans_dead_lettered(5);
  e->set_queue_lag_records(2);
  e->set_queue_lag_spans(17);
  e->set_circuit_state("half-open");
  (*e->mutable_spans_failed_by_reason())["unavailable"] = 12;
  (*e->mutable_spans_failed_by_reason())["http_400"] = 5;
  auto* weird = s.add_exporters();
  weird->set_name("we\"ird");
  weird->set_circuit_state("closed");
  return s;
}

TEST(StatusMetricsTest, ExporterCountersAndGauges) {
  const std::string text = RenderStatusMetrics(Status());
  EXPECT_THAT(text, HasSubstr("# TYPE tracer_exporter_spans_sent_total counter\n"
                              "tracer_exporter_spans_sent_total{exporter=\"tempo\"} 1000\n"));
  EXPECT_THAT(text, HasSubstr("tracer_exporter_requests_sent_total{exporter=\"tempo\"} 4\n"));
  // Reasons sorted, one sample each.
  EXPECT_THAT(
      text,
      HasSubstr("tracer_exporter_spans_failed_total{exporter=\"tempo\",reason=\"http_400\"} 5\n"
                "tracer_exporter_spans_failed_total{exporter=\"tempo\",reason=\"unavailable\"} "
                "12\n"));
  EXPECT_THAT(text, HasSubstr("tracer_exporter_spans_retried_total{exporter=\"tempo\"} 20\n"));
  EXPECT_THAT(text, HasSubstr("tracer_exporter_spans_dead_lettered_total{exporter=\"tempo\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE tracer_exporter_queue_lag_records gauge\n"
                              "tracer_exporter_queue_lag_records{exporter=\"tempo\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("tracer_exporter_queue_lag_spans{exporter=\"tempo\"} 17\n"));
  EXPECT_THAT(
      text, HasSubstr("tracer_exporter_circuit_state{exporter=\"tempo\",state=\"closed\"} 0\n"
                      "tracer_exporter_circuit_state{exporter=\"tempo\",state=\"open\"} 0\n"
                      "tracer_exporter_circuit_state{exporter=\"tempo\",state=\"half-open\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("tracer_exporter_circuit_state{exporter=\"we\\\"ird\",state=\"closed\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("we\"ird")));
}

TEST(StatusMetricsTest, QueueStoreAgents) {
  const std::string text = RenderStatusMetrics(Status());
  EXPECT_THAT(text, HasSubstr("# TYPE tracer_queue_records gauge\ntracer_queue_records 10\n"));
  EXPECT_THAT(text, HasSubstr("tracer_queue_bytes 2048\n"));
  EXPECT_THAT(text, HasSubstr("tracer_queue_spans 55\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE tracer_queue_dropped_spans_total counter\n"
                              "tracer_queue_dropped_spans_total 3\n"));
  EXPECT_THAT(text, HasSubstr("tracer_store_spans 99\n"));
  EXPECT_THAT(text, HasSubstr("tracer_agents_connected 1\n"));
  EXPECT_THAT(text, HasSubstr("tracer_agents_known 2\n"));
  EXPECT_THAT(text, HasSubstr("tracer_agent_kernel_drops_total{agent=\"node-1\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("tracer_agent_http_spans_total{agent=\"node-1\"} 12\n"));
  EXPECT_THAT(text, HasSubstr("tracer_agent_http_spans_marked_total{agent=\"node-1\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("tracer_exporters_version 4\n"));
  EXPECT_THAT(text, HasSubstr("tracer_controlplane_info{version=\"1.2.3\"} 1\n"));
}

TEST(StatusMetricsTest, OtlpParsesBySiteAndBatchesAccepted) {
  v1::StatusResponse s = Status();
  (*s.mutable_otlp_parses())["store"] = 0;
  (*s.mutable_otlp_parses())["ingest"] = 7;
  s.set_batches_accepted(7);
  const std::string text = RenderStatusMetrics(s);
  EXPECT_THAT(text, HasSubstr("# TYPE tracer_otlp_parses_total counter\n"
                              "tracer_otlp_parses_total{site=\"ingest\"} 7\n"
                              "tracer_otlp_parses_total{site=\"store\"} 0\n"));
  EXPECT_THAT(text, HasSubstr("tracer_batches_accepted_total 7\n"));
}

TEST(StatusMetricsTest, EveryLineIsWellFormed) {
  // Names in the Prometheus charset; counters end in _total.
  const std::vector<MetricFamily> families = StatusMetricFamilies(Status());
  for (const MetricFamily& f : families) {
    ASSERT_FALSE(f.name.empty());
    for (char c : f.name) {
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '_') << f.name;
    }
    if (f.type == MetricType::kCounter) {
      EXPECT_THAT(f.name, ::testing::EndsWith("_total"));
    }
  }
}

}  // namespace
}  // namespace tracer::metrics
