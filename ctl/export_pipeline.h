// Where `tracectl run` sends its spans: an OTLP JSON file (--output) and/or
// an OTLP backend (--otlp-endpoint / OTEL_EXPORTER_OTLP_*), each behind an
// asynchronous queue so capture never waits on a disk or a network.
#ifndef TRACER_CTL_EXPORT_PIPELINE_H_
#define TRACER_CTL_EXPORT_PIPELINE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/spans/span_builder.h"
#include "otlp/batch_export_queue.h"
#include "ctl/run_options.h"

namespace tracer::ctl {

// A BatchSink that hands each span batch to every configured destination.
// OnBatch() is called from the capture thread; Shutdown() from the same
// thread after the last batch.
class ExportPipeline : public spans::BatchSink {
 public:
  // Builds the destinations `options` and the environment ask for. Errors:
  // INVALID_ARGUMENT naming the flag or OTEL_EXPORTER_OTLP_* variable at
  // fault, or the file that cannot be opened.
  static absl::StatusOr<std::unique_ptr<ExportPipeline>> Create(const RunOptions& options,
                                                                const EnvLookup& env);

  // Queues `batch` for every destination (never blocks on a backend; the
  // file queue applies back-pressure only when the disk falls behind).
  void OnBatch(std::shared_ptr<const spans::SpanBatch> batch) override;

  // Drains every queue (bounded by each exporter's timeout and retry budget)
  // and closes the destinations. Returns an error naming each destination
  // that lost spans and why.
  absl::Status Shutdown();

  // One line per destination: spans sent, failed, dropped.
  std::string Summary() const;

 private:
  struct Destination {
    std::unique_ptr<otlp::BatchExportQueue> queue;
    absl::Duration drain_budget;
  };
  ExportPipeline() = default;

  std::vector<Destination> destinations_;
};

}  // namespace tracer::ctl

#endif  // TRACER_CTL_EXPORT_PIPELINE_H_
