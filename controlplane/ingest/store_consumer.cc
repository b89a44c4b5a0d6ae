#include "controlplane/ingest/store_consumer.h"

#include "controlplane/ingest/upload_ingest.h"
#include "glog/logging.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/delivery/queue_record.h"
#include "otlp/parse_counter.h"
#include "tracer/v1/batch_summary.pb.h"

namespace tracer::controlplane {

StoreConsumer::StoreConsumer(storage::Wal* queue, TraceStore* store)
    : queue_(queue), store_(store) {}

StoreConsumer::~StoreConsumer() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<uint64_t> StoreConsumer::DrainOnce() {
  absl::MutexLock drain_lock(&drain_mu_);
  uint64_t moved = 0;
  storage::ReadLimits limits;
  limits.max_records = 64;
  while (true) {
    absl::StatusOr<std::vector<storage::WalRecord>> records =
        queue_->ReadFrom(kStoreConsumer, limits);
    if (!records.ok()) return records.status();
    if (records->empty()) return moved;
    for (const storage::WalRecord& record : *records) {
      absl::StatusOr<otlp::delivery::QueueRecord> decoded =
          otlp::delivery::DecodeQueueRecord(record.payload);
      absl::StatusOr<uint32_t> stored = absl::DataLossError("does not decode");
      v1::BatchSummary summary;
      if (!decoded.ok()) {
        stored = decoded.status();
      } else if (decoded->has_summary &&
                 summary.ParseFromArray(decoded->summary.data(),
                                        static_cast<int>(decoded->summary.size()))) {
        // The summary ingest made when it parsed the batch: no parse here.
        stored = store_->WriteSummarized(decoded->batch, summary, decoded->agent_id, decoded->seq);
        if (!stored.ok()) return stored.status();
      } else {
        // A record of an earlier version (or with a damaged summary).
        opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest batch;
        if (otlp::ParseExportRequest(decoded->batch, &batch, otlp::ParseSite::kStore)) {
          stored = store_->Write(batch, decoded->agent_id, decoded->seq);
          if (!stored.ok()) return stored.status();
        }
      }
      if (!stored.ok()) {
        LOG(ERROR) << "queue record " << record.seq << " does not decode; skipped";
        absl::MutexLock lock(&mu_);
        ++bad_records_;
      }
      if (absl::Status s = queue_->Ack(kStoreConsumer, record.seq); !s.ok()) {
        return s;
      }
      ++moved;
    }
  }
}

void StoreConsumer::Start(absl::Duration poll, absl::Duration retention_every) {
  thread_ = std::thread([this, poll, retention_every] { Run(poll, retention_every); });
}

void StoreConsumer::Notify() {
  absl::MutexLock lock(&mu_);
  notified_ = true;
}

void StoreConsumer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
  if (absl::StatusOr<uint64_t> moved = DrainOnce(); !moved.ok()) {
    LOG(ERROR) << "final store flush: " << moved.status();
  }
}

uint64_t StoreConsumer::bad_records() const {
  absl::MutexLock lock(&mu_);
  return bad_records_;
}

void StoreConsumer::Run(absl::Duration poll, absl::Duration retention_every) {
  absl::Time next_retention = absl::Now() + retention_every;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return notified_ || stop_; };
      mu_.AwaitWithTimeout(absl::Condition(&woken), poll);
      if (stop_) return;
      notified_ = false;
    }
    absl::StatusOr<uint64_t> moved = DrainOnce();
    if (!moved.ok()) {
      LOG(ERROR) << "trace store consumer: " << moved.status() << "; retrying";
    }
    if (absl::Now() >= next_retention) {
      next_retention = absl::Now() + retention_every;
      absl::StatusOr<uint64_t> deleted = store_->ApplyRetention();
      if (!deleted.ok()) {
        LOG(ERROR) << "trace store retention: " << deleted.status();
      } else if (*deleted > 0) {
        LOG(INFO) << "trace store retention deleted " << *deleted << " spans";
      }
    }
  }
}

}  // namespace tracer::controlplane
