// The floor of syscall hooks: runs a command with one pair of empty
// programs attached to sys_enter/sys_exit (or none), so that
// tests/bench/syscall_overhead.py --floor can time it next to the untraced
// run and the real capture. The programs see every syscall of the machine;
// they do nothing. Example (as root):
//   syscall_floor --hooks=tp_btf -- dd if=/dev/zero of=/dev/null bs=1 count=2000000
// Prints the command's own output; exits with its status.
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "tests/bench/floor/syscall_floor.skel.h"

DEFINE_string(hooks, "tp_btf",
              "which pair to attach: none, raw_tp (empty), tp_btf (empty), clock (tp_btf reading "
              "the current task's tgid and the clock)");

namespace {

struct Pair {
  const char* name;
  bpf_program* enter;
  bpf_program* exit;
};

int Run(char** argv) {
  if (FLAGS_hooks != "none" && FLAGS_hooks != "raw_tp" && FLAGS_hooks != "tp_btf" &&
      FLAGS_hooks != "clock") {
    LOG(ERROR) << "unknown --hooks=" << FLAGS_hooks;
    return 2;
  }
  syscall_floor* skel = nullptr;
  if (FLAGS_hooks != "none") {
    skel = syscall_floor__open();
    if (skel == nullptr) {
      LOG(ERROR) << "open BPF object: " << std::strerror(errno);
      return 1;
    }
    const Pair pairs[] = {
        {"raw_tp", skel->progs.raw_enter, skel->progs.raw_exit},
        {"tp_btf", skel->progs.btf_enter, skel->progs.btf_exit},
        {"clock", skel->progs.clock_enter, skel->progs.clock_exit},
    };
    for (const Pair& p : pairs) {
      const bool on = FLAGS_hooks == p.name;
      bpf_program__set_autoload(p.enter, on);
      bpf_program__set_autoload(p.exit, on);
    }
    if (int err = syscall_floor__load(skel); err != 0) {
      LOG(ERROR) << "load BPF programs: " << std::strerror(-err);
      return 1;
    }
    if (int err = syscall_floor__attach(skel); err != 0) {
      LOG(ERROR) << "attach: " << std::strerror(-err);
      return 1;
    }
  }
  const pid_t pid = fork();
  if (pid == 0) {
    execvp(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (skel != nullptr) syscall_floor__destroy(skel);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("syscall_floor [--hooks=none|raw_tp|tp_btf|clock] -- COMMAND [ARGS]");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  if (argc < 2) {
    LOG(ERROR) << "no command given";
    return 2;
  }
  return Run(argv + 1);
}
