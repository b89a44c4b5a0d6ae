// FakeEventSource: an EventSource (agent/capture/event_source.h) fed by the
// test, so the daemon's policy and span path runs without root or BPF. The
// state is shared with the test through FakeCaptureState, which outlives the
// sources the code under test opens and closes. Thread-safe.
#ifndef TRACER_AGENT_DAEMON_TESTING_FAKE_EVENT_SOURCE_H_
#define TRACER_AGENT_DAEMON_TESTING_FAKE_EVENT_SOURCE_H_

#include <deque>
#include <memory>
#include <variant>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/capture/event_source.h"
#include "agent/daemon/session_manager.h"

namespace tracer::daemon::testing {

struct FakeCaptureState {
  absl::Mutex mu;
  int opened = 0;                                  // sources opened
  int open_now = 0;                                // sources alive
  capture::CaptureOptions last_options;            // of the latest open
  std::vector<uint32_t> targets;                   // AddTarget calls, all sources
  std::deque<std::variant<capture::SyscallEvent, capture::ProcessEvent>> queue;

  void Push(capture::SyscallEvent e) {
    absl::MutexLock l(&mu);
    queue.emplace_back(std::move(e));
  }
  void Push(capture::ProcessEvent e) {
    absl::MutexLock l(&mu);
    queue.emplace_back(std::move(e));
  }
};

class FakeEventSource : public capture::EventSource {
 public:
  explicit FakeEventSource(std::shared_ptr<FakeCaptureState> s) : s_(std::move(s)) {}
  ~FakeEventSource() override {
    absl::MutexLock l(&s_->mu);
    --s_->open_now;
  }
  absl::Status AddTarget(uint32_t tgid) override {
    absl::MutexLock l(&s_->mu);
    s_->targets.push_back(tgid);
    return absl::OkStatus();
  }
  absl::StatusOr<int> Poll(capture::EventSink& sink, int timeout_ms) override {
    std::deque<std::variant<capture::SyscallEvent, capture::ProcessEvent>> q;
    {
      absl::MutexLock l(&s_->mu);
      q.swap(s_->queue);
    }
    if (q.empty() && timeout_ms > 0) absl::SleepFor(absl::Milliseconds(timeout_ms));
    for (auto& e : q) {
      if (auto* sc = std::get_if<capture::SyscallEvent>(&e)) {
        sink.OnSyscall(*sc);
      } else {
        sink.OnProcess(std::get<capture::ProcessEvent>(e));
      }
    }
    return static_cast<int>(q.size());
  }
  capture::CaptureCounters Counters() const override {
    capture::CaptureCounters c;
    c.ringbuf_drops_per_cpu = {1, 2};  // visible in the manager's totals
    return c;
  }
  absl::StatusOr<std::vector<capture::SyscallTotals>> Totals() const override {
    return std::vector<capture::SyscallTotals>{};
  }

 private:
  std::shared_ptr<FakeCaptureState> s_;
};

// A factory for SessionManagerOptions::open_source over `state`.
inline EventSourceFactory FakeSourceFactory(std::shared_ptr<FakeCaptureState> state) {
  return [state](const capture::CaptureOptions& o)
             -> absl::StatusOr<std::unique_ptr<capture::EventSource>> {
    {
      absl::MutexLock l(&state->mu);
      ++state->opened;
      ++state->open_now;
      state->last_options = o;
    }
    return std::unique_ptr<capture::EventSource>(new FakeEventSource(state));
  };
}

}  // namespace tracer::daemon::testing

#endif  // TRACER_AGENT_DAEMON_TESTING_FAKE_EVENT_SOURCE_H_
