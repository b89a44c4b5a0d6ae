// FakeEventSource: an EventSource (agent/capture/event_source.h) fed by the
// test, so the daemon's policy and span path runs without root or BPF. The
// state is shared with the test through FakeCaptureState, which outlives the
// sources the code under test opens and closes. Thread-safe.
#ifndef TRACER_AGENT_DAEMON_TESTING_FAKE_EVENT_SOURCE_H_
#define TRACER_AGENT_DAEMON_TESTING_FAKE_EVENT_SOURCE_H_

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/capture/event_source.h"
#include "agent/daemon/session_manager.h"

namespace tracer::daemon::testing {

// A socket event as the fake delivers it; data events own their bytes.
struct FakeSocketEvent {
  std::variant<capture::SocketOpenEvent, capture::SocketDataEvent, capture::SocketCloseEvent> e;
  std::string bytes;  // SocketDataEvent::data points here when delivered
};

struct FakeCaptureState {
  absl::Mutex mu;
  int opened = 0;                        // sources opened
  int open_now = 0;                      // sources alive
  capture::CaptureOptions last_options;  // of the latest open
  std::vector<uint32_t> targets;         // AddTarget calls, all sources
  // Kernel-side targets of the source alive now (reset at each open).
  std::vector<std::string> comm_targets;    // AddCommTarget calls
  std::vector<std::string> cgroup_targets;  // AddCgroupTarget calls
  bool trace_all = false;                   // last SetTraceAll
  // AddCgroupTarget answers: path -> id; other paths are NOT_FOUND.
  std::map<std::string, uint64_t> cgroup_ids;
  // What TakeAdmission hands over (once each), as the kernel would record.
  std::map<uint32_t, capture::KernelAdmission> admissions;
  std::deque<std::variant<capture::SyscallEvent, capture::ProcessEvent, FakeSocketEvent>> queue;

  void Push(capture::SyscallEvent e) {
    absl::MutexLock l(&mu);
    queue.emplace_back(std::move(e));
  }
  void Admit(uint32_t tgid, capture::KernelAdmission a) {
    absl::MutexLock l(&mu);
    admissions[tgid] = std::move(a);
  }
  void Push(capture::ProcessEvent e) {
    absl::MutexLock l(&mu);
    queue.emplace_back(std::move(e));
  }
  void Push(capture::SocketOpenEvent e) {
    absl::MutexLock l(&mu);
    queue.emplace_back(FakeSocketEvent{e, ""});
  }
  // `e.data` is ignored: `bytes` are delivered (`e.length` as given).
  void Push(capture::SocketDataEvent e, std::string bytes) {
    absl::MutexLock l(&mu);
    queue.emplace_back(FakeSocketEvent{e, std::move(bytes)});
  }
  void Push(capture::SocketCloseEvent e) {
    absl::MutexLock l(&mu);
    queue.emplace_back(FakeSocketEvent{e, ""});
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
  absl::Status AddCommTarget(const std::string& comm) override {
    if (comm.empty() || comm.size() > 15) return absl::InvalidArgumentError("comm: 1..15 bytes");
    absl::MutexLock l(&s_->mu);
    s_->comm_targets.push_back(comm);
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> AddCgroupTarget(const std::string& path) override {
    absl::MutexLock l(&s_->mu);
    auto it = s_->cgroup_ids.find(path);
    if (it == s_->cgroup_ids.end()) return absl::NotFoundError("cgroup " + path + ": not found");
    s_->cgroup_targets.push_back(path);
    return it->second;
  }
  absl::Status SetTraceAll(bool enabled) override {
    absl::MutexLock l(&s_->mu);
    s_->trace_all = enabled;
    return absl::OkStatus();
  }
  std::optional<capture::KernelAdmission> TakeAdmission(uint32_t tgid) override {
    absl::MutexLock l(&s_->mu);
    auto it = s_->admissions.find(tgid);
    if (it == s_->admissions.end()) return std::nullopt;
    capture::KernelAdmission a = std::move(it->second);
    s_->admissions.erase(it);
    return a;
  }
  absl::StatusOr<int> Poll(capture::EventSink& sink, int timeout_ms) override {
    std::deque<std::variant<capture::SyscallEvent, capture::ProcessEvent, FakeSocketEvent>> q;
    {
      absl::MutexLock l(&s_->mu);
      q.swap(s_->queue);
    }
    if (q.empty() && timeout_ms > 0) absl::SleepFor(absl::Milliseconds(timeout_ms));
    for (auto& e : q) {
      if (auto* sc = std::get_if<capture::SyscallEvent>(&e)) {
        sink.OnSyscall(*sc);
      } else if (auto* pe = std::get_if<capture::ProcessEvent>(&e)) {
        sink.OnProcess(*pe);
      } else {
        FakeSocketEvent& f = std::get<FakeSocketEvent>(e);
        if (auto* o = std::get_if<capture::SocketOpenEvent>(&f.e)) {
          sink.OnSocketOpen(*o);
        } else if (auto* d = std::get_if<capture::SocketDataEvent>(&f.e)) {
          d->data = f.bytes;
          sink.OnSocketData(*d);
        } else {
          sink.OnSocketClose(std::get<capture::SocketCloseEvent>(f.e));
        }
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
      state->comm_targets.clear();
      state->cgroup_targets.clear();
      state->trace_all = false;
    }
    return std::unique_ptr<capture::EventSource>(new FakeEventSource(state));
  };
}

}  // namespace tracer::daemon::testing

#endif  // TRACER_AGENT_DAEMON_TESTING_FAKE_EVENT_SOURCE_H_
