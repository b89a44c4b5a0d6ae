#include "ctl/child_process.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace tracer::ctl {
namespace {

bool IsExecutableFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

}  // namespace

absl::StatusOr<std::string> ResolveExecutable(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("empty command name");
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), F_OK) != 0) {
      return absl::NotFoundError(absl::StrCat("cannot execute '", name, "': ", strerror(errno)));
    }
    if (!IsExecutableFile(name)) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot execute '", name, "': not an executable file"));
    }
    return name;
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (IsExecutableFile(candidate)) return candidate;
  }
  return absl::NotFoundError(absl::StrCat("cannot find '", name, "' on $PATH"));
}

int ExitCodeFromWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

absl::StatusOr<GatedChild> GatedChild::Spawn(const std::vector<std::string>& argv) {
  if (argv.empty()) return absl::InvalidArgumentError("no command");
  auto path = ResolveExecutable(argv[0]);
  if (!path.ok()) return path.status();

  // Everything the child needs is prepared before fork: after fork it only
  // blocks on the gate and calls execve, so its traced life starts there.
  std::vector<char*> cargv;
  std::vector<std::string> copy = argv;
  for (std::string& s : copy) cargv.push_back(s.data());
  cargv.push_back(nullptr);

  int gate[2], err[2];
  if (pipe2(gate, O_CLOEXEC) != 0) return absl::InternalError(strerror(errno));
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(gate[0]);
    close(gate[1]);
    return absl::InternalError(strerror(errno));
  }
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    for (int fd : {gate[0], gate[1], err[0], err[1]}) close(fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(e)));
  }
  if (pid == 0) {
    close(gate[1]);
    close(err[0]);
    char c;
    while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
    }
    execve(path->c_str(), cargv.data(), environ);
    int e = errno;
    (void)!write(err[1], &e, sizeof e);
    _exit(127);
  }
  close(gate[0]);
  close(err[1]);
  return GatedChild(pid, *path, gate[1], err[0]);
}

GatedChild::GatedChild(GatedChild&& other) noexcept
    : pid_(other.pid_),
      path_(std::move(other.path_)),
      gate_fd_(other.gate_fd_),
      error_fd_(other.error_fd_),
      reaped_(other.reaped_) {
  other.pid_ = -1;
  other.gate_fd_ = -1;
  other.error_fd_ = -1;
}

GatedChild::~GatedChild() {
  if (gate_fd_ >= 0) close(gate_fd_);
  if (error_fd_ >= 0) close(error_fd_);
  if (pid_ > 0 && !reaped_) {
    // Never leave a gated child behind: it would wait forever.
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

absl::Status GatedChild::WaitUntilGated(int timeout_ms) {
  std::string path = absl::StrCat("/proc/", pid_, "/syscall");
  for (int waited_us = 0; waited_us < timeout_ms * 1000; waited_us += 100) {
    if (FILE* f = std::fopen(path.c_str(), "r")) {
      char buf[32] = {};
      bool got = std::fgets(buf, sizeof buf, f) != nullptr;
      std::fclose(f);
      // "0 0x..." : blocked in syscall 0 (read) on x86-64.
      if (got && buf[0] == '0' && buf[1] == ' ') return absl::OkStatus();
    }
    usleep(100);
  }
  return absl::DeadlineExceededError(
      absl::StrCat("child ", pid_, " did not reach its start gate in ", timeout_ms, " ms"));
}

absl::Status GatedChild::Release() {
  if (gate_fd_ < 0) return absl::FailedPreconditionError("already released");
  close(gate_fd_);  // EOF on the gate: the child proceeds to execve
  gate_fd_ = -1;
  int e = 0;
  ssize_t n;
  while ((n = read(error_fd_, &e, sizeof e)) < 0 && errno == EINTR) {
  }
  close(error_fd_);
  error_fd_ = -1;
  if (n == static_cast<ssize_t>(sizeof e)) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot execute '", path_, "': ", strerror(e)));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> GatedChild::Wait() {
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
  }
  reaped_ = true;
  return status;
}

absl::StatusOr<bool> GatedChild::TryWait(int* status) {
  if (reaped_) return true;
  pid_t r = waitpid(pid_, status, WNOHANG);
  if (r < 0) {
    if (errno == EINTR) return false;
    return absl::InternalError(absl::StrCat("waitpid: ", strerror(errno)));
  }
  if (r == 0) return false;
  reaped_ = true;
  return true;
}

}  // namespace tracer::ctl
