#include "controlplane/ingest/store_consumer.h"

#include "controlplane/ingest/upload_ingest.h"
#include "glog/logging.h"
#include "otlp/parse_counter.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/delivery/queue_record.h"

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
      opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest batch;
      if (!decoded.ok() ||
          !otlp::ParseExportRequest(decoded->batch, &batch, otlp::ParseSite::kStore)) {
        LOG(ERROR) << "queue record " << record.seq
                   << " does not decode; skipped";
        absl::MutexLock lock(&mu_);
        ++bad_records_;
      } else {
        absl::StatusOr<uint32_t> stored =
            store_->Write(batch, decoded->agent_id, decoded->seq);
        if (!stored.ok()) return stored.status();
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
      auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return notified_ || stop_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&woken), poll);
      if (stop_) return;
      notified_ = false;
    }
    absl::StatusOr<uint64_t> moved = DrainOnce();
    if (!moved.ok()) {
      LOG(ERROR) << "trace store consumer: " << moved.status()
                 << "; retrying";
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
