#include "agent/pipeline/record_spill.h"

#include <time.h>

#include <cstring>
#include <utility>

#include "agent/capture/record_decoder.h"
#include "agent/capture/socket_record_decoder.h"
#include "common/clock.h"

namespace tracer::pipeline {
namespace {

constexpr size_t kChunkBytes = size_t{4} << 20;

size_t Padded(size_t n) { return (n + 7) & ~size_t{7}; }

}  // namespace

RecordSpill::RecordSpill(capture::EventSink* downstream, size_t max_bytes)
    : RecordSpill(downstream, max_bytes, nullptr, absl::InfiniteDuration()) {}

RecordSpill::RecordSpill(capture::EventSink* downstream, size_t max_bytes, TickFn tick,
                         absl::Duration tick_interval)
    : downstream_(downstream),
      max_bytes_(max_bytes),
      tick_(std::move(tick)),
      tick_interval_(tick_interval) {
  worker_ = std::thread([this] { Run(); });
}

void RecordSpill::MaybeTick() {
  if (!tick_) return;
  const absl::Time now = absl::Now();
  if (now - last_tick_ < tick_interval_) return;
  last_tick_ = now;
  tick_(common::MonotonicNowNs());
}

RecordSpill::~RecordSpill() { Close(); }

void RecordSpill::OnRawRecord(const void* data, size_t size) {
  const size_t need = sizeof(uint32_t) + Padded(size);
  if (!open_ || open_->used + need > open_->capacity) {
    Publish();
    const size_t chunk = std::max(need, kChunkBytes);
    absl::MutexLock lock(&mu_);
    if (held_bytes_ + chunk > max_bytes_) {
      ++counters_.records_dropped;
      return;
    }
    held_bytes_ += chunk;
    counters_.peak_bytes = std::max<uint64_t>(counters_.peak_bytes, held_bytes_);
    open_ = std::make_unique<Chunk>(chunk);
  }
  char* p = open_->bytes.get() + open_->used;
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
  if (open_->used < open_->capacity / 2) {
    auto small = std::make_unique<Chunk>(open_->used);
    std::memcpy(small->bytes.get(), open_->bytes.get(), open_->used);
    small->used = open_->used;
    held_bytes_ -= open_->capacity;
    held_bytes_ += small->capacity;
    open_ = std::move(small);
  }
  ready_.push_back(std::move(open_));
}

void RecordSpill::Run() {
  auto has_work = +[](RecordSpill* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) {
    return !s->ready_.empty() || s->closing_;
  };
  capture::SyscallEvent syscall;
  capture::ProcessEvent process;
  capture::SocketRecordEvents socket;
  while (true) {
    std::unique_ptr<Chunk> chunk;
    {
      absl::MutexLock lock(&mu_);
      if (tick_) {
        // Wake up for the tick even when nothing arrives.
        while (!has_work(this)) {
          mu_.AwaitWithTimeout(absl::Condition(has_work, this), tick_interval_);
          if (has_work(this)) break;
          mu_.Unlock();
          MaybeTick();
          mu_.Lock();
        }
      } else {
        mu_.Await(absl::Condition(has_work, this));
      }
      if (ready_.empty()) return;
      chunk = std::move(ready_.front());
      ready_.pop_front();
    }
    uint64_t out = 0, invalid = 0, sockets = 0;
    for (size_t off = 0; off + sizeof(uint32_t) <= chunk->used;) {
      uint32_t n;
      std::memcpy(&n, chunk->bytes.get() + off, sizeof n);
      const char* rec = chunk->bytes.get() + off + sizeof n;
      off += sizeof n + Padded(n);
      if (capture::IsSocketRecord(rec, n)) {
        switch (capture::DecodeSocketRecord(rec, n, &socket)) {
          case capture::SocketDecodeResult::kOpen:
            downstream_->OnSocketOpen(socket.open);
            break;
          case capture::SocketDecodeResult::kData:
            downstream_->OnSocketData(socket.data);
            break;
          case capture::SocketDecodeResult::kClose:
            downstream_->OnSocketClose(socket.close);
            break;
          case capture::SocketDecodeResult::kInvalid:
            ++invalid;
            continue;
        }
        ++sockets;
        ++out;
        continue;
      }
      switch (capture::DecodeSyscallRecord(rec, n, &syscall, &process)) {
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
    }
    {
      absl::MutexLock lock(&mu_);
      held_bytes_ -= chunk->capacity;
      counters_.records_out += out;
      counters_.socket_records += sockets;
      counters_.records_invalid += invalid;
    }
    MaybeTick();
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
