// A scripted in-memory OTLP backend for delivery tests (testonly): the
// backend worker's and the control plane's FanOut. Exporters made by
// MakeExporter() forward to it (FanOutOptions::exporter_factory hands them
// to FanOut; a BackendWorker takes one directly).
#ifndef TRACER_OTLP_DELIVERY_FAKE_BACKEND_TESTING_H_
#define TRACER_OTLP_DELIVERY_FAKE_BACKEND_TESTING_H_

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "otlp/exporter.h"

namespace tracer::otlp::delivery::testing {

// One Export() call as the fake saw it.
struct Attempt {
  absl::Time time;
  int number = 0;                  // 1-based, over all exporters of this backend
  std::set<std::string> span_ids;  // hex
};

// Thread-safe.
class FakeBackend {
 public:
  // Decides the answer to attempt `attempt` (1-based). `cancel` is notified
  // when the exporter that made the call is cancelled (a behaviour may
  // block on it to play a slow backend). Default: accept everything.
  using Behavior = std::function<absl::StatusOr<otlp::ExportResult>(
      const otlp::ExportTraceServiceRequest& request, const Attempt& attempt,
      absl::Notification* cancel)>;

  void SetBehavior(Behavior behavior);

  // An exporter forwarding to this backend (the backend must outlive it).
  std::unique_ptr<otlp::SpanExporter> MakeExporter();

  // Span ids (hex) of accepted requests; `accepted_span_count` counts
  // duplicates too.
  std::set<std::string> accepted_span_ids() const;
  size_t accepted_span_count() const;
  std::vector<otlp::ExportTraceServiceRequest> accepted() const;
  std::vector<Attempt> attempts() const;

  // Waits until at least `n` distinct span ids were accepted.
  bool WaitForSpans(size_t n, absl::Duration timeout) const;
  // Waits until at least `n` attempts were made.
  bool WaitForAttempts(int n, absl::Duration timeout) const;

  // Called by the fake exporters.
  absl::StatusOr<otlp::ExportResult> Handle(const otlp::ExportTraceServiceRequest& request,
                                            absl::Notification* cancel);

 private:
  mutable absl::Mutex mu_;
  Behavior behavior_ ABSL_GUARDED_BY(mu_);
  std::vector<Attempt> attempts_ ABSL_GUARDED_BY(mu_);
  std::vector<otlp::ExportTraceServiceRequest> accepted_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> accepted_ids_ ABSL_GUARDED_BY(mu_);
  size_t accepted_count_ ABSL_GUARDED_BY(mu_) = 0;
};

// Hex span ids of every span in `request`.
std::set<std::string> SpanIds(const otlp::ExportTraceServiceRequest& request);

}  // namespace tracer::otlp::delivery::testing

#endif  // TRACER_OTLP_DELIVERY_FAKE_BACKEND_TESTING_H_
