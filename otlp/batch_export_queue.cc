#include "otlp/batch_export_queue.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "otlp/retry_policy.h"

namespace tracer::otlp {

BatchExportQueue::BatchExportQueue(std::unique_ptr<SpanExporter> exporter, QueueOptions options)
    : exporter_(std::move(exporter)),
      options_(options),
      backend_(exporter_->Describe()),
      worker_([this] { Run(); }) {}

BatchExportQueue::~BatchExportQueue() { Shutdown(absl::Now()).IgnoreError(); }

absl::Status BatchExportQueue::Enqueue(std::shared_ptr<const ExportTraceServiceRequest> request,
                                       size_t span_count) {
  absl::MutexLock lock(&mu_);
  auto fits = [&] {
    return queued_spans_ == 0 || queued_spans_ + span_count <= options_.max_queue_spans;
  };
  if (options_.full_policy == QueueFullPolicy::kBlock) {
    while (accepting_ && !fits()) space_cv_.Wait(&mu_);
  }
  if (!accepting_) {
    counters_.spans_dropped += span_count;
    dropped_spans_since_report_ += span_count;
    return absl::FailedPreconditionError(absl::StrCat(
        "export queue for ", backend_, " is shut down; ", span_count, " spans dropped"));
  }
  if (!fits()) {
    counters_.spans_dropped += span_count;
    dropped_spans_since_report_ += span_count;
    return absl::ResourceExhaustedError(
        absl::StrCat("export queue for ", backend_, " is full (", queued_spans_, " of ",
                     options_.max_queue_spans, " spans); ", span_count, " spans dropped"));
  }
  queued_spans_ += span_count;
  counters_.spans_enqueued += span_count;
  queue_.push_back(Item{std::move(request), span_count});
  work_cv_.Signal();
  return absl::OkStatus();
}

void BatchExportQueue::Run() {
  while (true) {
    Item item;
    {
      absl::MutexLock lock(&mu_);
      while (queue_.empty() && !stop_) work_cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stop_ and drained
      item = std::move(queue_.front());
      queue_.pop_front();
      queued_spans_ -= item.spans;
      in_flight_ = true;
      space_cv_.SignalAll();
    }
    absl::StatusOr<ExportResult> result = exporter_->Export(*item.request);
    absl::MutexLock lock(&mu_);
    in_flight_ = false;
    if (result.ok()) {
      counters_.requests_exported += 1;
      counters_.spans_exported += item.spans;
      counters_.spans_rejected += result->rejected_spans;
      counters_.retries += result->retries;
    } else {
      counters_.requests_failed += 1;
      counters_.spans_failed += item.spans;
      counters_.retries += RetriesOf(result.status());
      failed_requests_since_report_ += 1;
      failed_spans_since_report_ += item.spans;
      last_error_ = result.status();
    }
    space_cv_.SignalAll();
  }
}

bool BatchExportQueue::Idle() const { return queue_.empty() && !in_flight_; }

absl::Status BatchExportQueue::TakeReport(absl::StatusCode timeout_code, absl::string_view prefix) {
  const bool failed = failed_requests_since_report_ > 0 || dropped_spans_since_report_ > 0;
  if (timeout_code == absl::StatusCode::kOk && !failed) return absl::OkStatus();
  std::string msg = absl::StrCat("export to ", backend_, ": ", prefix);
  if (failed_requests_since_report_ > 0) {
    absl::StrAppend(&msg, failed_requests_since_report_, " request(s) with ",
                    failed_spans_since_report_, " spans failed; ");
  }
  if (dropped_spans_since_report_ > 0) {
    absl::StrAppend(&msg, dropped_spans_since_report_, " spans dropped; ");
  }
  if (!last_error_.ok()) absl::StrAppend(&msg, "last error: ", last_error_.message());
  if (absl::EndsWith(msg, "; ")) msg.resize(msg.size() - 2);
  absl::StatusCode code = timeout_code;
  if (code == absl::StatusCode::kOk) {
    code = last_error_.ok() ? absl::StatusCode::kResourceExhausted : last_error_.code();
  }
  failed_requests_since_report_ = 0;
  failed_spans_since_report_ = 0;
  dropped_spans_since_report_ = 0;
  last_error_ = absl::OkStatus();
  return absl::Status(code, msg);
}

absl::Status BatchExportQueue::Flush(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  while (!Idle()) {
    if (space_cv_.WaitWithDeadline(&mu_, deadline) && !Idle()) {
      return TakeReport(absl::StatusCode::kDeadlineExceeded,
                        absl::StrCat("flush timed out with ", queued_spans_, " spans queued and ",
                                     in_flight_ ? 1 : 0, " request in flight; "));
    }
  }
  return TakeReport(absl::StatusCode::kOk, "");
}

absl::Status BatchExportQueue::Shutdown(absl::Time deadline) {
  std::string timeout_note;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return absl::OkStatus();
    shut_down_ = true;
    accepting_ = false;
    space_cv_.SignalAll();  // blocked producers give up
    while (!Idle()) {
      if (space_cv_.WaitWithDeadline(&mu_, deadline) && !Idle()) break;
    }
    if (!Idle()) {
      timeout_note = absl::StrCat("shutdown deadline passed with ", queued_spans_,
                                  " spans still queued (dropped); ");
      counters_.spans_dropped += queued_spans_;
      dropped_spans_since_report_ += queued_spans_;
      queue_.clear();
      queued_spans_ = 0;
    }
    stop_ = true;
    work_cv_.SignalAll();
  }
  exporter_->Cancel();  // a retry wait or transfer still going ends now
  worker_.join();
  absl::Status exporter_status = exporter_->Shutdown();
  absl::MutexLock lock(&mu_);
  absl::Status report =
      TakeReport(timeout_note.empty() ? absl::StatusCode::kOk : absl::StatusCode::kDeadlineExceeded,
                 timeout_note);
  if (report.ok() && !exporter_status.ok()) return exporter_status;
  return report;
}

ExportCounters BatchExportQueue::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

}  // namespace tracer::otlp
