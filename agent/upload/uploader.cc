#include "agent/upload/uploader.h"

#include "common/backoff.h"

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace tracer::upload {

absl::StatusOr<std::unique_ptr<Uploader>> Uploader::Create(storage::Wal* wal,
                                                           std::shared_ptr<grpc::Channel> channel,
                                                           UploaderOptions options) {
  if (options.max_in_flight == 0) {
    return absl::InvalidArgumentError("UploaderOptions.max_in_flight must be >= 1");
  }
  absl::Status st = wal->RegisterConsumer(kConsumerName, storage::StartPosition::kOldest);
  if (!st.ok()) return st;
  return std::unique_ptr<Uploader>(new Uploader(wal, std::move(channel), std::move(options)));
}

Uploader::Uploader(storage::Wal* wal, std::shared_ptr<grpc::Channel> channel,
                   UploaderOptions options)
    : wal_(wal),
      stub_(tracer::v1::AgentService::NewStub(std::move(channel))),
      options_(std::move(options)) {}

Uploader::~Uploader() { Stop(); }

void Uploader::SetAgentId(const std::string& agent_id) {
  absl::MutexLock l(&mu_);
  agent_id_ = agent_id;
  notified_ = true;
}

void Uploader::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Uploader::Notify() {
  absl::MutexLock l(&mu_);
  notified_ = true;
}

void Uploader::OnBatch(std::shared_ptr<const spans::SpanBatch>) { Notify(); }

void Uploader::Stop() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
    if (active_ctx_ != nullptr) active_ctx_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void Uploader::Run() {
  common::Backoff backoff(common::ReconnectBackoff(options_.initial_backoff, options_.max_backoff));
  while (true) {
    std::string agent_id;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !agent_id_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      agent_id = agent_id_;
    }
    const bool progressed = RunStream(agent_id);
    if (progressed) backoff.Reset();
    const absl::Duration wait = backoff.Next();
    absl::MutexLock l(&mu_);
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping), wait)) return;
  }
}

bool Uploader::RunStream(const std::string& agent_id) {
  grpc::ClientContext ctx;
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return false;
    active_ctx_ = &ctx;
    in_flight_.clear();
    stream_broken_ = false;
    ++counters_.connects;
  }
  std::unique_ptr<grpc::ClientReaderWriter<tracer::v1::UploadRequest, tracer::v1::UploadAck>>
      stream = stub_->Upload(&ctx);
  std::atomic<bool> got_ack{false};
  std::thread reader([&] {
    tracer::v1::UploadAck ack;
    while (stream->Read(&ack)) {
      HandleAck(ack);
      got_ack.store(true);
    }
    absl::MutexLock l(&mu_);
    stream_broken_ = true;
  });

  uint64_t last_sent = 0;  // 0: continue from the WAL cursor
  absl::Status failure;
  while (true) {
    size_t room = 0;
    {
      absl::MutexLock l(&mu_);
      auto can_send = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || stream_broken_ || in_flight_.size() < options_.max_in_flight;
      };
      mu_.Await(absl::Condition(&can_send));
      if (stopping_ || stream_broken_) break;
      room = options_.max_in_flight - in_flight_.size();
      notified_ = false;
    }
    storage::ReadLimits limits;
    limits.max_records = room;
    limits.max_bytes = options_.max_read_bytes;
    limits.after_seq = last_sent;
    auto records = wal_->ReadFrom(kConsumerName, limits);
    if (!records.ok()) {
      failure = records.status();
      LOG(ERROR) << "uploader: reading the WAL: " << records.status();
      break;
    }
    if (records->empty()) {
      absl::MutexLock l(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || stream_broken_ || notified_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&wake), options_.poll_interval);
      continue;
    }
    bool write_failed = false;
    for (storage::WalRecord& rec : *records) {
      tracer::v1::UploadRequest req;
      req.set_agent_id(agent_id);
      req.set_seq(rec.seq);
      req.set_span_count(rec.span_count);
      *req.mutable_batch() = std::move(rec.payload);
      {
        absl::MutexLock l(&mu_);
        in_flight_[rec.seq] = InFlight{rec.span_count, false};
      }
      if (!stream->Write(req)) {
        write_failed = true;
        break;
      }
      last_sent = rec.seq;
      absl::MutexLock l(&mu_);
      ++counters_.records_sent;
    }
    if (write_failed) break;
  }

  ctx.TryCancel();
  reader.join();
  grpc::Status st = stream->Finish();
  bool stopping;
  {
    absl::MutexLock l(&mu_);
    active_ctx_ = nullptr;
    in_flight_.clear();
    stopping = stopping_;
    if (!stopping) ++counters_.stream_failures;
  }
  if (!stopping) {
    LOG(WARNING) << "uploader: stream to the control plane ended: "
                 << (failure.ok() ? absl::StrCat(st.error_code(), " ", st.error_message())
                                  : failure.ToString())
                 << "; reconnecting";
  }
  return got_ack.load();
}

void Uploader::HandleAck(const tracer::v1::UploadAck& ack) {
  uint64_t new_cursor = 0;
  {
    absl::MutexLock l(&mu_);
    auto it = in_flight_.find(ack.seq());
    if (it == in_flight_.end() || it->second.acked) return;  // unknown or repeated
    it->second.acked = true;
    ++counters_.records_acked;
    counters_.spans_uploaded += it->second.spans;
    if (ack.duplicate()) ++counters_.duplicate_acks;
    while (!in_flight_.empty() && in_flight_.begin()->second.acked) {
      new_cursor = in_flight_.begin()->first;
      in_flight_.erase(in_flight_.begin());
    }
  }
  // Only the reader thread acks, so cursor moves stay in order.
  if (new_cursor != 0) {
    absl::Status st = wal_->Ack(kConsumerName, new_cursor);
    if (!st.ok()) LOG(ERROR) << "uploader: WAL ack of seq " << new_cursor << ": " << st;
  }
}

absl::Status Uploader::WaitForUpload(absl::Time deadline) {
  const uint64_t target = wal_->Stats().newest_seq;
  Notify();
  while (true) {
    UploaderCounters c = Counters();
    if (c.acked_seq >= target || c.lag_records == 0) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(c.lag_records, " WAL records (", c.lag_bytes,
                       " bytes) not yet acknowledged by the control plane"));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

UploaderCounters Uploader::Counters() const {
  UploaderCounters c;
  {
    absl::MutexLock l(&mu_);
    c = counters_;
  }
  storage::WalStats stats = wal_->Stats();
  for (const storage::ConsumerStats& cs : stats.consumers) {
    if (cs.name != kConsumerName) continue;
    c.acked_seq = cs.cursor;
    c.lag_records = cs.lag_records;
    c.lag_bytes = cs.lag_bytes;
  }
  return c;
}

}  // namespace tracer::upload
