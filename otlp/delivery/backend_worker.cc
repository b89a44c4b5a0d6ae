#include "otlp/delivery/backend_worker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "otlp/delivery/failure_reason.h"
#include "otlp/http_status.h"

namespace tracer::otlp::delivery {

std::string ConsumerName(std::string_view backend_name) {
  std::string name(kConsumerPrefix);
  name.append(backend_name);
  return name;
}

namespace {

// The transport's mark (retry_policy.h) decides. A status without it and
// without an HTTP status (an injected exporter that built its own error)
// falls back to the OTLP/gRPC retryable codes, so an outage is never
// mistaken for a refusal and dead-lettered.
bool IsRetryable(const absl::Status& status) {
  if (otlp::IsMarkedRetryable(status)) return true;
  if (otlp::HttpStatusOf(status).has_value()) return false;
  return otlp::IsRetryableGrpcCode(status.code(), /*has_retry_info=*/false);
}

// The unparsed form (batch_merge.h) for exporters that take the wire form
// (the OTLP/gRPC and OTLP/HTTP protobuf transports); any other exporter
// (OTLP/JSON, an injected one) reads the messages and gets them parsed.
MergeForm MergeFormFor(const otlp::SpanExporter& exporter) {
  return exporter.request_form() == otlp::RequestForm::kWire ? MergeForm::kWire
                                                             : MergeForm::kParsed;
}

}  // namespace

BackendWorker::BackendWorker(storage::Wal* queue, BackendOptions options,
                             std::unique_ptr<otlp::SpanExporter> exporter,
                             otlp::ResourceAttributes resource, std::string dead_letter_dir,
                             absl::Duration poll, BackendStats counters)
    : queue_(queue),
      options_(std::move(options)),
      consumer_(ConsumerName(options_.name)),
      exporter_(std::move(exporter)),
      resource_(std::move(resource)),
      poll_(poll),
      endpoint_(exporter_->Describe()),
      merge_form_(MergeFormFor(*exporter_)),
      dead_letter_(std::move(dead_letter_dir), options_.name),
      breaker_(options_.breaker) {
  backoff_.emplace(options_.exporter.retry);
  stats_ = std::move(counters);
  stats_.name = options_.name;
  stats_.endpoint = endpoint_;
  stats_.queue_lag_records = stats_.queue_lag_spans = stats_.queue_dropped_spans = 0;
  stats_.circuit = CircuitState::kClosed;
}

BackendWorker::~BackendWorker() { Stop(); }

void BackendWorker::Start() {
  thread_ = std::thread([this] {
    while (!stopping()) Step();
    exited_.Notify();
  });
}

void BackendWorker::Notify() {
  absl::MutexLock lock(&mu_);
  wake_ = true;
}

bool BackendWorker::Drain(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  const uint64_t generation = ++drain_generation_;
  wake_ = true;
  auto done = [this, generation]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return caught_up_generation_ >= generation || stop_;
  };
  mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
  return caught_up_generation_ >= generation;
}

void BackendWorker::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stop_) return;
    stop_ = true;
  }
  stop_requested_.store(true, std::memory_order_release);
  if (thread_.joinable()) {
    // Cancel() only reaches a call already on the wire; repeat it until the
    // thread is out, in case the first one raced the start of an attempt.
    exporter_->Cancel();
    while (!exited_.WaitForNotificationWithTimeout(absl::Milliseconds(20))) {
      exporter_->Cancel();
    }
    thread_.join();
  }
  if (absl::Status s = exporter_->Shutdown(); !s.ok()) {
    LOG(WARNING) << "backend " << options_.name << ": shutdown: " << s;
  }
}

BackendStats BackendWorker::Stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void BackendWorker::WaitForWork(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wake_ || stop_; };
  mu_.AwaitWithTimeout(absl::Condition(&woken), d);
  wake_ = false;
}

void BackendWorker::SleepUnlessStopped(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stop_), d);
}

void BackendWorker::SetCircuit(CircuitState state) {
  absl::MutexLock lock(&mu_);
  stats_.circuit = state;
}

absl::Duration BackendWorker::NextBackoff() {
  // retry.enabled=false: retry after initial_interval, without growth.
  if (!options_.exporter.retry.enabled) return options_.exporter.retry.initial_interval;
  return backoff_->Next();
}

void BackendWorker::ReadBatch() {
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    generation = drain_generation_;
  }
  absl::StatusOr<std::vector<storage::WalRecord>> records = queue_->ReadFrom(
      consumer_, BatchReadLimits(options_.max_batch_spans, options_.max_batch_bytes));
  if (!records.ok()) {
    LOG(ERROR) << "backend " << options_.name << ": reading the queue: " << records.status();
    {
      absl::MutexLock lock(&mu_);
      stats_.last_error = std::string(records.status().message());
    }
    WaitForWork(poll_);
    return;
  }
  if (records->empty()) {
    {
      absl::MutexLock lock(&mu_);
      caught_up_generation_ = std::max(caught_up_generation_, generation);
    }
    WaitForWork(poll_);
    return;
  }
  pending_ = MergeRecords(*records, options_.max_batch_spans, options_.max_batch_bytes, resource_,
                          merge_form_, options_.payload_format);
  failed_attempts_ = 0;
  bad_written_ = 0;
  refusal_.reset();
  next_attempt_ = absl::InfinitePast();
}

void BackendWorker::Step() {
  if (!pending_) {
    ReadBatch();
    if (!pending_) return;
  }
  const absl::Time now = absl::Now();
  if (now < next_attempt_) {
    SleepUnlessStopped(next_attempt_ - now);
    return;
  }
  if (!WriteDeadLetters() || !pending_) return;
  if (pending_->resource_spans == 0) {  // only bad records
    AckPending();
    return;
  }
  const absl::Duration breaker_wait = breaker_.WaitBeforeAttempt(now);
  SetCircuit(breaker_.state());
  if (breaker_wait > absl::ZeroDuration()) {
    SleepUnlessStopped(breaker_wait);
    return;
  }
  if (failed_attempts_ > 0) {
    absl::MutexLock lock(&mu_);
    stats_.spans_retried += pending_->spans;
  }
  absl::StatusOr<otlp::ExportResult> result =
      pending_->form == MergeForm::kWire
          ? exporter_->ExportSerialized(pending_->request.SerializeAsString())
          : exporter_->Export(pending_->request);
  if (!result.ok() && stopping()) return;  // our own cancel, not the backend's failure
  if (result.ok()) {
    HandleSuccess(*result);
  } else if (IsRetryable(result.status())) {
    HandleRetryable(result.status());
  } else {
    HandleRefused(result.status());
  }
}

void BackendWorker::HandleSuccess(const otlp::ExportResult& result) {
  if (failed_attempts_ > 0) {
    LOG(INFO) << "backend " << options_.name << ": delivered after " << failed_attempts_
              << " failed attempt(s)";
  }
  if (result.rejected_spans > 0) {
    LOG(WARNING) << "backend " << options_.name << " rejected " << result.rejected_spans << " of "
                 << pending_->spans << " spans: " << result.partial_success_message;
  }
  breaker_.OnSuccess();
  backoff_.emplace(options_.exporter.retry);
  {
    absl::MutexLock lock(&mu_);
    stats_.spans_sent += pending_->spans;
    stats_.requests_sent += 1;
    stats_.spans_rejected += static_cast<uint64_t>(std::max<int64_t>(0, result.rejected_spans));
    stats_.last_error.clear();
    stats_.circuit = breaker_.state();
  }
  AckPending();
}

void BackendWorker::HandleRetryable(const absl::Status& status) {
  const absl::Time now = absl::Now();
  ++failed_attempts_;
  const bool opened = breaker_.OnFailure(now);
  const std::optional<absl::Duration> hint = otlp::RetryAfterOf(status);
  const absl::Duration backoff = NextBackoff();
  if (breaker_.state() == CircuitState::kOpen) {
    // The breaker's open_for is the wait; a longer server hint still wins.
    next_attempt_ = now + hint.value_or(absl::ZeroDuration());
  } else {
    next_attempt_ = now + std::max(backoff, hint.value_or(absl::ZeroDuration()));
  }
  if (options_.log_retries && (failed_attempts_ == 1 || opened)) {
    LOG(WARNING) << "backend " << options_.name << ": " << status
                 << (opened ? absl::StrCat("; circuit open for ",
                                           absl::FormatDuration(options_.breaker.open_for))
                            : std::string("; retrying"));
  }
  const std::string reason = FailureReason(status);
  absl::MutexLock lock(&mu_);
  stats_.spans_failed_by_reason[reason] += pending_->spans;
  stats_.spans_failed += pending_->spans;
  stats_.last_error = std::string(status.message());
  stats_.circuit = breaker_.state();
}

void BackendWorker::HandleRefused(const absl::Status& status) {
  LOG(ERROR) << "backend " << options_.name << " refused " << pending_->spans
             << " spans (queue seq " << pending_->first_seq << ".." << pending_->last_seq
             << "), not retryable; dead-lettering: " << status;
  // The backend answered: it is reachable, so this is no outage.
  breaker_.OnSuccess();
  const std::string reason = FailureReason(status);
  {
    absl::MutexLock lock(&mu_);
    stats_.spans_failed_by_reason[reason] += pending_->spans;
    stats_.spans_failed += pending_->spans;
    stats_.last_error = std::string(status.message());
    stats_.circuit = breaker_.state();
  }
  refusal_ = status;
  next_attempt_ = absl::InfinitePast();
}

bool BackendWorker::WriteDeadLetters() {
  auto backoff_after = [this](const absl::Status& error) {
    LOG(ERROR) << "backend " << options_.name << ": " << error
               << "; the records stay queued and the write is retried";
    next_attempt_ = absl::Now() + NextBackoff();
    absl::MutexLock lock(&mu_);
    stats_.last_error = std::string(error.message());
  };
  while (bad_written_ < pending_->bad.size()) {
    const BadRecord& bad = pending_->bad[bad_written_];
    DeadLetterInfo info{
        absl::Now(),    "bad_record", absl::StrCat("queue record does not decode: ", bad.error),
        bad.span_count, bad.seq,      bad.seq};
    if (absl::Status s = dead_letter_.WriteErrorOnly(info); !s.ok()) {
      backoff_after(s);
      return false;
    }
    LOG(ERROR) << "backend " << options_.name << ": queue record " << bad.seq
               << " does not decode (" << bad.error << "); recorded in "
               << dead_letter_.errors_path();
    ++bad_written_;
    absl::MutexLock lock(&mu_);
    stats_.spans_failed_by_reason["bad_record"] += bad.span_count;
    stats_.spans_failed += bad.span_count;
  }
  if (!refusal_) return true;
  DeadLetterInfo info{absl::Now(),     FailureReason(*refusal_), std::string(refusal_->message()),
                      pending_->spans, pending_->first_seq,      pending_->last_seq};
  // The dead-letter file is OTLP/JSON, written from the messages.
  if (absl::Status s = ToParsedForm(&*pending_); !s.ok()) {
    LOG(ERROR) << "backend " << options_.name << ": " << s;
  }
  if (absl::Status s = dead_letter_.Write(pending_->request, info); !s.ok()) {
    backoff_after(s);
    return false;
  }
  {
    absl::MutexLock lock(&mu_);
    stats_.spans_dead_lettered += pending_->spans;
  }
  AckPending();
  return true;
}

void BackendWorker::AckPending() {
  if (absl::Status s = queue_->Ack(consumer_, pending_->last_seq); !s.ok()) {
    // The batch will be read and sent again: a duplicate, never a loss.
    LOG(ERROR) << "backend " << options_.name << ": ack of seq " << pending_->last_seq << ": " << s;
    absl::MutexLock lock(&mu_);
    stats_.last_error = std::string(s.message());
  }
  pending_.reset();
  failed_attempts_ = 0;
  bad_written_ = 0;
  refusal_.reset();
  next_attempt_ = absl::InfinitePast();
}

}  // namespace tracer::otlp::delivery
