// Starting the command to trace so that not one of its syscalls is missed.
#ifndef TRACER_CTL_CHILD_PROCESS_H_
#define TRACER_CTL_CHILD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tracer::ctl {

// A forked child held at a gate before execve. The tracer registers the
// child's pid with the kernel programs, then Release()s it; the child's first
// traced syscall is its execve, exactly as under strace. Not thread-safe.
class GatedChild {
 public:
  // Resolves argv[0] on $PATH in the parent (so the child makes exactly one
  // execve, like strace) and forks a child blocked at the gate. Errors:
  // NOT_FOUND if argv[0] is not an executable on $PATH, INTERNAL if fork or
  // pipe fails.
  static absl::StatusOr<GatedChild> Spawn(const std::vector<std::string>& argv);

  GatedChild(GatedChild&& other) noexcept;
  GatedChild& operator=(GatedChild&&) = delete;
  ~GatedChild();

  pid_t pid() const { return pid_; }
  const std::string& path() const { return path_; }

  // Waits until the child sleeps in its read(2) of the gate (from
  // /proc/<pid>/syscall), so that registering it as a target now captures
  // none of its pre-exec syscalls, as strace shows none. Errors:
  // DEADLINE_EXCEEDED after `timeout_ms`.
  absl::Status WaitUntilGated(int timeout_ms);

  // Lets the child execve. Returns FAILED_PRECONDITION with the errno text
  // when execve failed (the child then exits with 127, reaped by Wait()).
  absl::Status Release();

  // Waits for the child to exit; returns its wait(2) status. EINTR retried.
  absl::StatusOr<int> Wait();

  // Non-blocking Wait(): the status if the child has exited, else nullopt.
  absl::StatusOr<bool> TryWait(int* status);

 private:
  GatedChild(pid_t pid, std::string path, int gate_fd, int error_fd)
      : pid_(pid), path_(std::move(path)), gate_fd_(gate_fd), error_fd_(error_fd) {}

  pid_t pid_ = -1;
  std::string path_;
  int gate_fd_ = -1;   // write end: closing it releases the child
  int error_fd_ = -1;  // read end: errno of a failed execve, EOF on success
  bool reaped_ = false;
};

// Returns the absolute path of an executable named `name` ($PATH search when
// it has no '/'), or NOT_FOUND / PERMISSION_DENIED naming it.
absl::StatusOr<std::string> ResolveExecutable(const std::string& name);

// Converts a wait(2) status to a shell-style exit code (128 + signal for a
// death by signal).
int ExitCodeFromWaitStatus(int status);

}  // namespace tracer::ctl

#endif  // TRACER_CTL_CHILD_PROCESS_H_
