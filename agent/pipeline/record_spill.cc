#include "agent/pipeline/record_spill.h"

#include <cstring>
#include <utility>

#include "agent/capture/record_decoder.h"

namespace tracer::pipeline {
namespace {

constexpr size_t kChunkBytes = size_t{4} << 20;

size_t Padded(size_t n) { return (n + 7) & ~size_t{7}; }

}  // namespace

RecordSpill::RecordSpill(capture::EventSink* downstream, size_t max_bytes)
    : downstream_(downstream), max_bytes_(max_bytes) {
  worker_ = std::thread([this] { Run(); });
}

RecordSpill::~RecordSpill() { Close(); }

void RecordSpill::OnRawRecord(const void* data, size_t size) {
  const size_t need = sizeof(uint32_t) + Padded(size);
  if (!open_ || open_->used + need > open_->bytes.size()) {
    Publish();
    const size_t chunk = std::max(need, kChunkBytes);
    absl::MutexLock lock(&mu_);
    if (held_bytes_ + chunk > max_bytes_) {
      ++counters_.records_dropped;
      return;
    }
    held_bytes_ += chunk;
    counters_.peak_bytes = std::max<uint64_t>(counters_.peak_bytes, held_bytes_);
    open_ = std::make_unique<Chunk>();
    open_->bytes.resize(chunk);
  }
  char* p = open_->bytes.data() + open_->used;
  const uint32_t n = static_cast<uint32_t>(size);
  std::memcpy(p, &n, sizeof n);
  std::memcpy(p + sizeof n, data, size);
  open_->used += need;
  ++in_since_publish_;
}

void RecordSpill::Publish() {
  if (!open_ || open_->used == 0) return;
  absl::MutexLock lock(&mu_);
  counters_.records_in += in_since_publish_;
  in_since_publish_ = 0;
  // A mostly empty chunk (an idle workload publishes often) gives back its
  // unused memory; a full one moves as it is.
  if (open_->used < open_->bytes.size() / 2) {
    held_bytes_ -= open_->bytes.size();
    open_->bytes.resize(open_->used);
    open_->bytes.shrink_to_fit();
    held_bytes_ += open_->bytes.size();
  }
  ready_.push_back(std::move(open_));
}

void RecordSpill::Run() {
  while (true) {
    std::unique_ptr<Chunk> chunk;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](RecordSpill* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
            return !s->ready_.empty() || s->closing_;
          },
          this));
      if (ready_.empty()) return;
      chunk = std::move(ready_.front());
      ready_.pop_front();
    }
    capture::SyscallEvent syscall;
    capture::ProcessEvent process;
    uint64_t out = 0, invalid = 0;
    for (size_t off = 0; off + sizeof(uint32_t) <= chunk->used;) {
      uint32_t n;
      std::memcpy(&n, chunk->bytes.data() + off, sizeof n);
      const char* rec = chunk->bytes.data() + off + sizeof n;
      switch (capture::DecodeRecord(rec, n, &syscall, &process)) {
        case capture::DecodeResult::kSyscall:
          downstream_->OnSyscall(syscall);
          ++out;
          break;
        case capture::DecodeResult::kProcess:
          downstream_->OnProcess(process);
          ++out;
          break;
        case capture::DecodeResult::kInvalid:
          ++invalid;
          break;
      }
      off += sizeof n + Padded(n);
    }
    absl::MutexLock lock(&mu_);
    held_bytes_ -= chunk->bytes.size();
    counters_.records_out += out;
    counters_.records_invalid += invalid;
  }
}

void RecordSpill::Close() {
  Publish();
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  if (worker_.joinable()) worker_.join();
}

RecordSpillCounters RecordSpill::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

}  // namespace tracer::pipeline
