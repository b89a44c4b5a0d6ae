#include "ctl/export_pipeline.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "otlp/config.h"
#include "otlp/file_exporter.h"

namespace tracer::ctl {
namespace {

// tracectl is interactive: a backend that is down must be reported within
// seconds of the command's end, not after the SDK's 5-minute retry budget.
otlp::RetryPolicy CliRetryPolicy() {
  otlp::RetryPolicy p;
  p.initial_interval = absl::Milliseconds(250);
  p.max_interval = absl::Seconds(2);
  p.max_elapsed_time = absl::Seconds(5);
  return p;
}

// The queue bound for a one-shot CLI run. OTEL_BSP_MAX_QUEUE_SIZE wins; the
// default is larger than the SDK's 2048 because a traced command produces
// spans in bursts far faster than an application does. (Bursts beyond it
// wait as compact raw records upstream, in the capture spill.)
absl::StatusOr<size_t> QueueSpans(const EnvLookup& env) {
  if (auto v = env("OTEL_BSP_MAX_QUEUE_SIZE")) {
    size_t n;
    if (!absl::SimpleAtoi(*v, &n) || n == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("OTEL_BSP_MAX_QUEUE_SIZE=", *v, ": expected a positive number of spans"));
    }
    return n;
  }
  return size_t{1} << 16;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExportPipeline>> ExportPipeline::Create(const RunOptions& o,
                                                                       const EnvLookup& env) {
  std::unique_ptr<ExportPipeline> p(new ExportPipeline());
  auto queue_spans = QueueSpans(env);
  if (!queue_spans.ok()) return queue_spans.status();

  if (!o.output_path.empty()) {
    auto file = otlp::FileExporter::Create(o.output_path, /*append=*/false);
    if (!file.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--output ", o.output_path, ": ", file.status().message()));
    }
    otlp::QueueOptions q;
    q.max_queue_spans = *queue_spans;
    q.full_policy = otlp::QueueFullPolicy::kBlock;  // a local file: wait, lose nothing
    p->destinations_.push_back(
        {std::make_unique<otlp::BatchExportQueue>(std::move(*file), q), absl::Minutes(10)});
  }

  bool env_endpoint = env("OTEL_EXPORTER_OTLP_ENDPOINT").has_value() ||
                      env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").has_value();
  if (!o.otlp_endpoint.empty() || env_endpoint) {
    otlp::ConfigOverrides ov;
    if (!o.otlp_endpoint.empty()) ov.endpoint = o.otlp_endpoint;
    if (!o.otlp_headers.empty()) ov.headers = o.otlp_headers;
    if (!o.otlp_protocol.empty()) {
      auto proto = otlp::ParseProtocol(o.otlp_protocol);
      if (!proto.ok()) return proto.status();
      ov.protocol = *proto;
    }
    otlp::EnvLookup xenv = [&env](const std::string& k) { return env(k); };
    auto config = otlp::ExporterConfigFromEnv(xenv, ov);
    if (!config.ok()) return config.status();
    config->retry = CliRetryPolicy();
    auto exporter = otlp::CreateExporter(*config);
    if (!exporter.ok()) return exporter.status();
    otlp::QueueOptions q;
    q.max_queue_spans = *queue_spans;
    q.full_policy = otlp::QueueFullPolicy::kDrop;  // never stall capture on a network
    absl::Duration budget = config->timeout + config->retry.max_elapsed_time + absl::Seconds(1);
    p->destinations_.push_back(
        {std::make_unique<otlp::BatchExportQueue>(std::move(*exporter), q), budget});
  }
  return p;
}

void ExportPipeline::OnBatch(std::shared_ptr<const spans::SpanBatch> batch) {
  if (!batch->sampled || batch->span_count == 0) return;
  // Share the batch's request without copying: the aliasing shared_ptr keeps
  // the whole batch (and its arena) alive while any queue holds it.
  std::shared_ptr<const otlp::ExportTraceServiceRequest> request(batch, &batch->request);
  for (Destination& d : destinations_) {
    // A refused request is counted as dropped by the queue and reported at
    // Shutdown(); nothing else to do here.
    (void)d.queue->Enqueue(request, batch->span_count);
  }
}

absl::Status ExportPipeline::Shutdown() {
  std::vector<std::string> errors;
  for (Destination& d : destinations_) {
    absl::Status st = d.queue->Shutdown(absl::Now() + d.drain_budget);
    if (!st.ok()) errors.push_back(std::string(st.message()));
  }
  if (errors.empty()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrJoin(errors, "; "));
}

std::string ExportPipeline::Summary() const {
  std::vector<std::string> parts;
  for (const Destination& d : destinations_) {
    otlp::ExportCounters c = d.queue->counters();
    std::string s = absl::StrCat(c.spans_exported, " spans sent to ", d.queue->backend());
    if (c.spans_failed) absl::StrAppend(&s, ", ", c.spans_failed, " failed");
    if (c.spans_dropped) absl::StrAppend(&s, ", ", c.spans_dropped, " dropped (queue full)");
    if (c.spans_rejected) absl::StrAppend(&s, ", ", c.spans_rejected, " rejected by the backend");
    parts.push_back(s);
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace tracer::ctl
