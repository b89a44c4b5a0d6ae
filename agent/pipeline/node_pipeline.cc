#include "agent/pipeline/node_pipeline.h"

#include <algorithm>
#include <utility>

#include "common/clock.h"

namespace tracer::pipeline {
namespace {

void AddSpill(const RecordSpillCounters& s, NodePipelineCounters* c) {
  c->records_in += s.records_in;
  c->events += s.records_out;
  c->socket_events += s.socket_records;
  c->records_invalid += s.records_invalid;
  c->records_dropped += s.records_dropped;
  c->spill_peak_bytes = std::max(c->spill_peak_bytes, s.peak_bytes);
}

}  // namespace

NodePipeline::NodePipeline(NodePipelineOptions options) : options_(std::move(options)) {
  if (options_.wal != nullptr) {
    wal_stage_ =
        std::make_unique<WalStage>(options_.wal, options_.sink, options_.wal_max_pending_batches);
  }
}

NodePipeline::~NodePipeline() {
  if (!closed_) (void)Close();
}

spans::BatchSink* NodePipeline::batch_sink() {
  if (wal_stage_) return wal_stage_.get();
  return options_.sink;
}

void NodePipeline::Attach(capture::EventSource* source, capture::EventSink* events, TickFn tick) {
  if (source_ != nullptr) (void)Detach();
  source_ = source;
  events_ = events;
  tick_ = std::move(tick);
  raw_ = true;
  spill_ = std::make_unique<RecordSpill>(events_, options_.spill_max_bytes, tick_,
                                         options_.tick_interval);
  absl::MutexLock l(&mu_);
  live_spill_ = spill_.get();
}

absl::StatusOr<int> NodePipeline::PollOnce(int timeout_ms) {
  if (source_ == nullptr) return 0;
  {
    absl::MutexLock l(&mu_);
    ++done_.polls;
  }
  if (raw_) {
    absl::StatusOr<int> n = source_->PollRaw(*spill_, timeout_ms);
    spill_->Publish();
    if (n.ok() || !absl::IsUnimplemented(n.status())) return n;
    // No raw records (a replay): events are delivered on this thread.
    raw_ = false;
    StopSpill();
  }
  absl::StatusOr<int> n = source_->Poll(*events_, timeout_ms);
  if (n.ok()) {
    absl::MutexLock l(&mu_);
    done_.events += static_cast<uint64_t>(*n);
    done_.records_in += static_cast<uint64_t>(*n);
  }
  if (tick_) tick_(common::MonotonicNowNs());
  return n;
}

absl::Status NodePipeline::RunUntil(const std::function<bool(int polled)>& done, int poll_ms) {
  while (true) {
    absl::StatusOr<int> n = PollOnce(poll_ms);
    if (!n.ok()) return n.status();
    if (done(*n)) return absl::OkStatus();
  }
}

absl::Status NodePipeline::Detach() {
  if (source_ == nullptr) return absl::OkStatus();
  absl::Status first;
  for (int idle = 0, polls = 0; idle < 3 && polls < options_.drain_max_polls; ++polls) {
    absl::StatusOr<int> n = PollOnce(options_.drain_poll_ms);
    if (!n.ok()) {
      if (first.ok()) first = n.status();
      break;
    }
    idle = *n == 0 ? idle + 1 : 0;
  }
  StopSpill();
  source_ = nullptr;
  events_ = nullptr;
  tick_ = nullptr;
  return first;
}

void NodePipeline::StopSpill() {
  if (!spill_) return;
  spill_->Close();  // delivers everything taken, joins the worker
  const RecordSpillCounters c = spill_->counters();
  absl::MutexLock l(&mu_);
  AddSpill(c, &done_);
  live_spill_ = nullptr;
  spill_.reset();
}

absl::Status NodePipeline::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  absl::Status st = Detach();
  absl::Status wal = wal_stage_ ? wal_stage_->Close() : absl::OkStatus();
  return st.ok() ? wal : st;
}

NodePipelineCounters NodePipeline::counters() const {
  absl::MutexLock l(&mu_);
  NodePipelineCounters c = done_;
  if (live_spill_ != nullptr) AddSpill(live_spill_->counters(), &c);
  if (wal_stage_) c.wal = wal_stage_->counters();
  return c;
}

}  // namespace tracer::pipeline
