#include "agent/pipeline/wal_stage.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace tracer::pipeline {

WalStage::WalStage(storage::Wal* wal, spans::BatchSink* downstream, size_t max_pending_batches)
    : wal_(wal),
      downstream_(downstream),
      max_pending_(max_pending_batches > 0 ? max_pending_batches : 1) {
  writer_ = std::thread([this] { Run(); });
}

WalStage::~WalStage() { (void)Close(); }

void WalStage::OnBatch(std::shared_ptr<const spans::SpanBatch> batch) {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](WalStage* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
        return s->pending_.size() < s->max_pending_ || s->closing_;
      },
      this));
  pending_.push_back(std::move(batch));
}

void WalStage::Run() {
  while (true) {
    std::shared_ptr<const spans::SpanBatch> batch;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WalStage* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
            return !s->pending_.empty() || s->closing_;
          },
          this));
      if (pending_.empty()) return;  // closing and drained
      batch = std::move(pending_.front());
      pending_.pop_front();
    }
    // The batch's OTLP protobuf bytes, encoded here (off the span thread).
    const std::string& payload = batch->protobuf();
    auto seq = wal_->Append(payload, static_cast<uint32_t>(batch->span_count()));
    {
      absl::MutexLock lock(&mu_);
      if (!seq.ok()) {
        ++counters_.batches_failed;
        counters_.spans_failed += batch->span_count();
        if (first_error_.ok()) first_error_ = seq.status();
        continue;
      }
      ++counters_.batches_appended;
      counters_.spans_appended += batch->span_count();
      counters_.last_seq = *seq;
    }
    if (downstream_ != nullptr) downstream_->OnBatch(std::move(batch));
  }
}

absl::Status WalStage::Close() {
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  if (writer_.joinable()) writer_.join();
  absl::MutexLock lock(&mu_);
  if (first_error_.ok()) return absl::OkStatus();
  return absl::Status(
      first_error_.code(),
      absl::StrCat("write-ahead log: ", counters_.batches_failed, " batches (",
                   counters_.spans_failed, " spans) not stored: ", first_error_.message()));
}

WalStageCounters WalStage::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

}  // namespace tracer::pipeline
