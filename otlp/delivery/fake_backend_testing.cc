#include "otlp/delivery/fake_backend_testing.h"

#include <mutex>

#include "absl/strings/escaping.h"

namespace tracer::otlp::delivery::testing {
namespace {

class FakeExporter : public otlp::SpanExporter {
 public:
  explicit FakeExporter(FakeBackend* backend) : backend_(backend) {}
  absl::StatusOr<otlp::ExportResult> Export(
      const otlp::ExportTraceServiceRequest& request) override {
    if (cancel_.HasBeenNotified()) return absl::CancelledError("fake: cancelled");
    return backend_->Handle(request, &cancel_);
  }
  absl::Status Shutdown() override {
    Cancel();
    return absl::OkStatus();
  }
  void Cancel() override {
    std::call_once(once_, [this] { cancel_.Notify(); });
  }
  std::string Describe() const override { return "fake"; }

 private:
  FakeBackend* const backend_;
  std::once_flag once_;
  absl::Notification cancel_;
};

}  // namespace

std::set<std::string> SpanIds(const otlp::ExportTraceServiceRequest& request) {
  std::set<std::string> ids;
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const auto& span : ss.spans()) ids.insert(absl::BytesToHexString(span.span_id()));
    }
  }
  return ids;
}

void FakeBackend::SetBehavior(Behavior behavior) {
  absl::MutexLock lock(&mu_);
  behavior_ = std::move(behavior);
}

std::unique_ptr<otlp::SpanExporter> FakeBackend::MakeExporter() {
  return std::make_unique<FakeExporter>(this);
}

absl::StatusOr<otlp::ExportResult> FakeBackend::Handle(
    const otlp::ExportTraceServiceRequest& request, absl::Notification* cancel) {
  Attempt attempt;
  Behavior behavior;
  {
    absl::MutexLock lock(&mu_);
    attempt.time = absl::Now();
    attempt.number = static_cast<int>(attempts_.size()) + 1;
    attempt.span_ids = SpanIds(request);
    attempts_.push_back(attempt);
    behavior = behavior_;
  }
  absl::StatusOr<otlp::ExportResult> result =
      behavior ? behavior(request, attempt, cancel) : otlp::ExportResult{};
  if (result.ok()) {
    absl::MutexLock lock(&mu_);
    accepted_.push_back(request);
    accepted_ids_.insert(attempt.span_ids.begin(), attempt.span_ids.end());
    accepted_count_ += attempt.span_ids.size();
  }
  return result;
}

std::set<std::string> FakeBackend::accepted_span_ids() const {
  absl::MutexLock lock(&mu_);
  return accepted_ids_;
}

size_t FakeBackend::accepted_span_count() const {
  absl::MutexLock lock(&mu_);
  return accepted_count_;
}

std::vector<otlp::ExportTraceServiceRequest> FakeBackend::accepted() const {
  absl::MutexLock lock(&mu_);
  return accepted_;
}

std::vector<Attempt> FakeBackend::attempts() const {
  absl::MutexLock lock(&mu_);
  return attempts_;
}

bool FakeBackend::WaitForSpans(size_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return accepted_ids_.size() >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

bool FakeBackend::WaitForAttempts(int n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return static_cast<int>(attempts_.size()) >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

}  // namespace tracer::otlp::delivery::testing
