#include "ctl/run/run_target.h"

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/spans/proc_info.h"
#include "common/clock.h"
#include "ctl/run/run_plan.h"

namespace tracer::ctl::run {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }

bool Gone(uint32_t pid) { return kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

}  // namespace

std::optional<int> RunTarget::Start(const RunOptions& o, std::unique_ptr<RunTarget>* out) {
  auto t = std::unique_ptr<RunTarget>(new RunTarget(o));
  if (!o.command.empty()) {
    auto c = GatedChild::Spawn(o.command);
    if (!c.ok()) return Fail(kExitCannotStart, c.status().message());
    t->child_.emplace(std::move(*c));
    if (auto st = t->child_->WaitUntilGated(5000); !st.ok()) {
      return Fail(kExitCannotTrace, st.message());
    }
    t->root_ = t->child_->pid();
    t->root_name_ = std::string(spans::Basename(t->child_->path()));
  } else {
    t->root_ = *o.attach_pid;
    if (Gone(t->root_))
      return Fail(kExitCannotTrace, absl::StrCat("-p ", t->root_, ": no such process"));
    const std::string comm = spans::ReadComm(t->root_).value_or("");
    t->root_name_ = comm.empty() ? absl::StrCat(t->root_) : comm;
  }
  *out = std::move(t);
  return std::nullopt;
}

void RunTarget::InstallSignalHandlers() const {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  if (options_.attach_pid) {
    sigaction(SIGINT, &sa, nullptr);  // Ctrl-C detaches from -p PID
  } else {
    signal(SIGINT, SIG_IGN);  // the command gets Ctrl-C; we finish after it
  }
}

std::optional<int> RunTarget::Trace(capture::EventSource& source, RunSinks& sinks) const {
  if (auto st = source.AddTarget(root_); !st.ok()) {
    return Fail(kExitCannotTrace, absl::StrCat("cannot trace pid ", root_, ": ", st.message()));
  }
  // As strace does (and -q silences): the attach is in effect from here on,
  // which is what scripts and tests wait for.
  if (options_.attach_pid && !options_.quiet) {
    std::fprintf(stderr, "tracectl: Process %u attached\n", root_);
  }
  sinks.AddRoot(root_, root_name_, common::MonotonicNowNs());
  return std::nullopt;
}

std::optional<int> RunTarget::Release() {
  if (!child_) return std::nullopt;
  if (auto st = child_->Release(); !st.ok()) {
    PrintError(st.message());
    (void)child_->Wait();
    return kExitCannotStart;
  }
  return std::nullopt;
}

bool RunTarget::Done(int polled, EventFanout& events) {
  if (!root_done_) {
    if (child_) {
      int status = 0;
      auto done = child_->TryWait(&status);
      if (done.ok() && *done) {
        root_done_ = true;
        exit_code_ = ExitCodeFromWaitStatus(status);
      }
    } else if (Gone(root_)) {
      root_done_ = true;
    }
  }
  if (g_interrupted.load()) {
    if (options_.attach_pid && !root_done_ && !options_.quiet) {
      std::fprintf(stderr, "tracectl: Process %u detached\n", root_);
    }
    return true;
  }
  // strace -f waits for every traced process; so do we.
  if (root_done_ && (!options_.follow_forks || !events.AnyLive())) return true;
  if (root_done_ && polled == 0) events.PruneGone();
  return false;
}

}  // namespace tracer::ctl::run
