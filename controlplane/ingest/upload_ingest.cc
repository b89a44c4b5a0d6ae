#include "controlplane/ingest/upload_ingest.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/batch_summary.h"
#include "otlp/delivery/queue_record.h"
#include "otlp/parse_counter.h"

namespace tracer::controlplane {

UploadIngest::UploadIngest(storage::Wal* queue, std::function<void()> on_appended)
    : queue_(queue), on_appended_(std::move(on_appended)) {}

absl::StatusOr<std::unique_ptr<UploadIngest>> UploadIngest::Open(
    storage::Wal* queue, const std::map<std::string, uint64_t>& store_marks,
    std::function<void()> on_appended) {
  std::unique_ptr<UploadIngest> ingest(new UploadIngest(queue, std::move(on_appended)));
  std::map<std::string, uint64_t> marks = store_marks;
  storage::ReadLimits limits;
  limits.max_records = 256;
  while (true) {
    absl::StatusOr<std::vector<storage::WalRecord>> records =
        queue->ReadFrom(kStoreConsumer, limits);
    if (!records.ok()) return records.status();
    if (records->empty()) break;
    for (const storage::WalRecord& record : *records) {
      absl::StatusOr<otlp::delivery::QueueRecord> decoded =
          otlp::delivery::DecodeQueueRecord(record.payload);
      if (!decoded.ok()) {
        LOG(ERROR) << "queue record " << record.seq << ": " << decoded.status();
        continue;
      }
      uint64_t& mark = marks[decoded->agent_id];
      mark = std::max(mark, decoded->seq);
    }
    limits.after_seq = records->back().seq;
  }
  absl::MutexLock lock(&ingest->mu_);
  for (const auto& [agent_id, seq] : marks) {
    auto agent = std::make_unique<Agent>();
    {
      absl::MutexLock agent_lock(&agent->mu);
      agent->last_seq = seq;
    }
    ingest->agents_.emplace(agent_id, std::move(agent));
  }
  return ingest;
}

absl::StatusOr<UploadIngest::Agent*> UploadIngest::AgentFor(const std::string& agent_id) {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(agent_id);
  if (it != agents_.end()) return it->second.get();
  if (agents_.size() >= kMaxTrackedAgents) {
    return absl::ResourceExhaustedError(absl::StrCat("more than ", kMaxTrackedAgents, " agents"));
  }
  return agents_.emplace(agent_id, std::make_unique<Agent>()).first->second.get();
}

absl::StatusOr<v1::UploadAck> UploadIngest::Ingest(const v1::UploadRequest& request) {
  if (request.agent_id().empty()) {
    return absl::InvalidArgumentError("upload.agent_id: is empty");
  }
  if (request.agent_id().size() > otlp::delivery::kMaxAgentIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("upload.agent_id: longer than ", otlp::delivery::kMaxAgentIdBytes, " bytes"));
  }
  if (request.seq() == 0) {
    return absl::InvalidArgumentError("upload.seq: must be > 0");
  }
  if (request.batch().size() > kMaxUploadBatchBytes) {
    return absl::InvalidArgumentError(absl::StrCat("upload.batch: ", request.batch().size(),
                                                   " bytes, more than ", kMaxUploadBatchBytes));
  }
  opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest batch;
  if (!otlp::ParseExportRequest(request.batch(), &batch, otlp::ParseSite::kIngest)) {
    return absl::InvalidArgumentError("upload.batch: not a serialized ExportTraceServiceRequest");
  }
  // The batch's one parse in the control plane: the summary travels with it
  // in the queue record, so the store indexes it without parsing it again.
  const v1::BatchSummary summary = otlp::SummarizeBatch(batch);
  const uint64_t spans = summary.spans();
  if (spans != request.span_count()) {
    return absl::InvalidArgumentError(absl::StrCat("upload.span_count: ", request.span_count(),
                                                   " but the batch holds ", spans, " spans"));
  }
  absl::StatusOr<Agent*> agent = AgentFor(request.agent_id());
  if (!agent.ok()) return agent.status();
  v1::UploadAck ack;
  ack.set_seq(request.seq());
  {
    absl::MutexLock agent_lock(&(*agent)->mu);
    if (request.seq() <= (*agent)->last_seq) {
      ack.set_duplicate(true);
    } else {
      absl::StatusOr<uint64_t> appended = queue_->Append(
          otlp::delivery::EncodeQueueRecord(request.agent_id(), request.seq(),
                                            summary.SerializeAsString(), request.batch()),
          static_cast<uint32_t>(spans));
      if (!appended.ok()) return appended.status();
      (*agent)->last_seq = request.seq();
      otlp::CountBatchAccepted();
    }
  }
  {
    absl::MutexLock lock(&mu_);
    if (ack.duplicate()) {
      ++duplicates_;
    } else {
      ++appended_;
    }
  }
  if (!ack.duplicate() && on_appended_) on_appended_();
  return ack;
}

uint64_t UploadIngest::LastStoredSeq(const std::string& agent_id) const {
  Agent* agent = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto it = agents_.find(agent_id);
    if (it == agents_.end()) return 0;
    agent = it->second.get();
  }
  absl::MutexLock agent_lock(&agent->mu);
  return agent->last_seq;
}

uint64_t UploadIngest::duplicates() const {
  absl::MutexLock lock(&mu_);
  return duplicates_;
}

uint64_t UploadIngest::appended() const {
  absl::MutexLock lock(&mu_);
  return appended_;
}

}  // namespace tracer::controlplane
