#include "syscalls/syscall_classes.h"

#include <regex.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "syscalls/syscall_table.h"

namespace tracer::syscalls {
namespace {

// One bit per class.
enum ClassBit : uint32_t {
  kFile = 1u << 0,        // %file
  kDesc = 1u << 1,        // %desc
  kNet = 1u << 2,         // %network
  kProc = 1u << 3,        // %process
  kSig = 1u << 4,         // %signal
  kIpc = 1u << 5,         // %ipc
  kMem = 1u << 6,         // %memory
  kCreds = 1u << 7,       // %creds
  kClock = 1u << 8,       // %clock
  kPure = 1u << 9,        // %pure
  kStat = 1u << 10,       // %stat
  kLstat = 1u << 11,      // %lstat
  kFstat = 1u << 12,      // %fstat
  kStatAll = 1u << 13,    // %%stat
  kStatfs = 1u << 14,     // %statfs
  kFstatfs = 1u << 15,    // %fstatfs
  kStatfsAll = 1u << 16,  // %%statfs
};

struct ClassName {
  std::string_view name;  // without the leading '%'
  uint32_t bit;
};

constexpr ClassName kClassNames[] = {
    {"file", kFile},       {"desc", kDesc},         {"network", kNet},   {"net", kNet},
    {"process", kProc},    {"signal", kSig},        {"ipc", kIpc},       {"memory", kMem},
    {"creds", kCreds},     {"clock", kClock},       {"pure", kPure},     {"stat", kStat},
    {"lstat", kLstat},     {"fstat", kFstat},       {"%stat", kStatAll}, {"statfs", kStatfs},
    {"fstatfs", kFstatfs}, {"%statfs", kStatfsAll},
};

// Bare (no '%') class names strace still accepts in a trace expression.
constexpr std::string_view kLegacyBareClasses[] = {"file",   "process", "network", "net",
                                                   "signal", "ipc",     "desc",    "memory"};

struct Membership {
  std::string_view syscall;
  uint32_t classes;
};

// THE class membership table: every x86-64 syscall that belongs to at least
// one class, with strace's assignment (its per-syscall TF/TD/TN/TP/TS/TI/TM/
// TC/TCL/PU/TST... flags). Syscalls absent here are in no class. Keyed by
// name so it reads like the man page; names the installed headers do not
// know are skipped at lookup.
constexpr Membership kMembership[] = {
    {"read", kDesc},
    {"write", kDesc},
    {"open", kDesc | kFile},
    {"close", kDesc},
    {"stat", kFile | kStat | kStatAll},
    {"fstat", kDesc | kFstat | kStatAll},
    {"lstat", kFile | kLstat | kStatAll},
    {"poll", kDesc},
    {"lseek", kDesc},
    {"mmap", kDesc | kMem},
    {"mprotect", kMem},
    {"munmap", kMem},
    {"brk", kMem},
    {"rt_sigaction", kSig},
    {"rt_sigprocmask", kSig},
    {"rt_sigreturn", kSig},
    {"ioctl", kDesc},
    {"pread64", kDesc},
    {"pwrite64", kDesc},
    {"readv", kDesc},
    {"writev", kDesc},
    {"access", kFile},
    {"pipe", kDesc},
    {"select", kDesc},
    {"mremap", kMem},
    {"msync", kMem},
    {"mincore", kMem},
    {"madvise", kMem},
    {"shmget", kIpc},
    {"shmat", kIpc | kMem},
    {"shmctl", kIpc},
    {"dup", kDesc},
    {"dup2", kDesc},
    {"pause", kSig},
    {"getpid", kPure},
    {"sendfile", kDesc | kNet},
    {"socket", kNet},
    {"connect", kNet},
    {"accept", kNet},
    {"sendto", kNet},
    {"recvfrom", kNet},
    {"sendmsg", kNet},
    {"recvmsg", kNet},
    {"shutdown", kNet},
    {"bind", kNet},
    {"listen", kNet},
    {"getsockname", kNet},
    {"getpeername", kNet},
    {"socketpair", kNet},
    {"setsockopt", kNet},
    {"getsockopt", kNet},
    {"clone", kProc},
    {"fork", kProc},
    {"vfork", kProc},
    {"execve", kFile | kProc},
    {"exit", kProc},
    {"wait4", kProc},
    {"kill", kSig | kProc},
    {"semget", kIpc},
    {"semop", kIpc},
    {"semctl", kIpc},
    {"shmdt", kIpc | kMem},
    {"msgget", kIpc},
    {"msgsnd", kIpc},
    {"msgrcv", kIpc},
    {"msgctl", kIpc},
    {"fcntl", kDesc},
    {"flock", kDesc},
    {"fsync", kDesc},
    {"fdatasync", kDesc},
    {"truncate", kFile},
    {"ftruncate", kDesc},
    {"getdents", kDesc},
    {"getcwd", kFile},
    {"chdir", kFile},
    {"fchdir", kDesc},
    {"rename", kFile},
    {"mkdir", kFile},
    {"rmdir", kFile},
    {"creat", kDesc | kFile},
    {"link", kFile},
    {"unlink", kFile},
    {"symlink", kFile},
    {"readlink", kFile},
    {"chmod", kFile},
    {"fchmod", kDesc},
    {"chown", kFile},
    {"fchown", kDesc},
    {"lchown", kFile},
    {"gettimeofday", kClock},
    {"getuid", kCreds | kPure},
    {"getgid", kCreds | kPure},
    {"setuid", kCreds},
    {"setgid", kCreds},
    {"geteuid", kCreds | kPure},
    {"getegid", kCreds | kPure},
    {"getppid", kPure},
    {"getpgrp", kPure},
    {"setreuid", kCreds},
    {"setregid", kCreds},
    {"getgroups", kCreds},
    {"setgroups", kCreds},
    {"setresuid", kCreds},
    {"getresuid", kCreds},
    {"setresgid", kCreds},
    {"getresgid", kCreds},
    {"setfsuid", kCreds},
    {"setfsgid", kCreds},
    {"capget", kCreds},
    {"capset", kCreds},
    {"rt_sigpending", kSig},
    {"rt_sigtimedwait", kSig},
    {"rt_sigqueueinfo", kSig | kProc},
    {"rt_sigsuspend", kSig},
    {"sigaltstack", kSig},
    {"utime", kFile},
    {"mknod", kFile},
    {"uselib", kFile},
    {"ustat", kStatfsAll},
    {"statfs", kFile | kStatfs | kStatfsAll},
    {"fstatfs", kDesc | kFstatfs | kStatfsAll},
    {"mlock", kMem},
    {"munlock", kMem},
    {"mlockall", kMem},
    {"munlockall", kMem},
    {"pivot_root", kFile},
    {"prctl", kCreds},
    {"adjtimex", kClock},
    {"chroot", kFile},
    {"acct", kFile},
    {"settimeofday", kClock},
    {"mount", kFile},
    {"umount2", kFile},
    {"swapon", kFile},
    {"swapoff", kFile},
    {"quotactl", kFile},
    {"getpmsg", kNet},
    {"putpmsg", kNet},
    {"gettid", kPure},
    {"readahead", kDesc},
    {"setxattr", kFile},
    {"lsetxattr", kFile},
    {"fsetxattr", kDesc},
    {"getxattr", kFile},
    {"lgetxattr", kFile},
    {"fgetxattr", kDesc},
    {"listxattr", kFile},
    {"llistxattr", kFile},
    {"flistxattr", kDesc},
    {"removexattr", kFile},
    {"lremovexattr", kFile},
    {"fremovexattr", kDesc},
    {"tkill", kSig | kProc},
    {"time", kClock},
    {"io_setup", kMem},
    {"io_destroy", kMem},
    {"epoll_create", kDesc},
    {"remap_file_pages", kMem},
    {"getdents64", kDesc},
    {"semtimedop", kIpc},
    {"fadvise64", kDesc},
    {"clock_settime", kClock},
    {"clock_gettime", kClock},
    {"clock_getres", kClock},
    {"exit_group", kProc},
    {"epoll_wait", kDesc},
    {"epoll_ctl", kDesc},
    {"tgkill", kSig | kProc},
    {"utimes", kFile},
    {"mbind", kMem},
    {"set_mempolicy", kMem},
    {"get_mempolicy", kMem},
    {"mq_open", kDesc},
    {"mq_timedsend", kDesc},
    {"mq_timedreceive", kDesc},
    {"mq_notify", kDesc},
    {"mq_getsetattr", kDesc},
    {"waitid", kProc},
    {"inotify_init", kDesc},
    {"inotify_add_watch", kDesc | kFile},
    {"inotify_rm_watch", kDesc},
    {"migrate_pages", kMem},
    {"openat", kDesc | kFile},
    {"mkdirat", kDesc | kFile},
    {"mknodat", kDesc | kFile},
    {"fchownat", kDesc | kFile},
    {"futimesat", kDesc | kFile},
    {"newfstatat", kDesc | kFile | kFstat | kStatAll},
    {"unlinkat", kDesc | kFile},
    {"renameat", kDesc | kFile},
    {"linkat", kDesc | kFile},
    {"symlinkat", kDesc | kFile},
    {"readlinkat", kDesc | kFile},
    {"fchmodat", kDesc | kFile},
    {"faccessat", kDesc | kFile},
    {"pselect6", kDesc},
    {"ppoll", kDesc},
    {"splice", kDesc},
    {"tee", kDesc},
    {"sync_file_range", kDesc},
    {"vmsplice", kDesc},
    {"move_pages", kMem},
    {"utimensat", kDesc | kFile},
    {"epoll_pwait", kDesc},
    {"signalfd", kDesc | kSig},
    {"timerfd_create", kDesc},
    {"eventfd", kDesc},
    {"fallocate", kDesc},
    {"timerfd_settime", kDesc},
    {"timerfd_gettime", kDesc},
    {"accept4", kNet},
    {"signalfd4", kDesc | kSig},
    {"eventfd2", kDesc},
    {"epoll_create1", kDesc},
    {"dup3", kDesc},
    {"pipe2", kDesc},
    {"inotify_init1", kDesc},
    {"preadv", kDesc},
    {"pwritev", kDesc},
    {"rt_tgsigqueueinfo", kProc | kSig},
    {"perf_event_open", kDesc},
    {"recvmmsg", kNet},
    {"fanotify_init", kDesc},
    {"fanotify_mark", kDesc | kFile},
    {"name_to_handle_at", kDesc | kFile},
    {"open_by_handle_at", kDesc},
    {"clock_adjtime", kClock},
    {"syncfs", kDesc},
    {"sendmmsg", kNet},
    {"setns", kDesc},
    {"finit_module", kDesc},
    {"renameat2", kDesc | kFile},
    {"memfd_create", kDesc},
    {"kexec_file_load", kDesc},
    {"bpf", kDesc},
    {"execveat", kDesc | kFile | kProc},
    {"userfaultfd", kDesc},
    {"mlock2", kMem},
    {"copy_file_range", kDesc},
    {"preadv2", kDesc},
    {"pwritev2", kDesc},
    {"pkey_mprotect", kMem},
    {"statx", kDesc | kFile | kFstat | kStatAll},
    {"pidfd_send_signal", kDesc | kSig | kProc},
    {"io_uring_setup", kDesc},
    {"io_uring_enter", kDesc | kSig},
    {"io_uring_register", kDesc | kMem},
    {"open_tree", kDesc | kFile},
    {"move_mount", kDesc | kFile},
    {"fsopen", kDesc},
    {"fsconfig", kDesc | kFile},
    {"fsmount", kDesc},
    {"fspick", kDesc | kFile},
    {"pidfd_open", kDesc},
    {"clone3", kProc},
    {"openat2", kDesc | kFile},
    {"pidfd_getfd", kDesc},
    {"faccessat2", kDesc | kFile},
    {"process_madvise", kDesc},
    {"epoll_pwait2", kDesc},
    {"mount_setattr", kDesc | kFile},
    {"quotactl_fd", kDesc},
    {"landlock_create_ruleset", kDesc},
    {"landlock_add_rule", kDesc},
    {"landlock_restrict_self", kDesc},
    {"memfd_secret", kDesc},
    {"process_mrelease", kDesc},
    {"set_mempolicy_home_node", kMem},
    {"cachestat", kDesc},
    {"fchmodat2", kDesc | kFile},
    {"map_shadow_stack", kMem},
    {"mseal", kMem},
    {"setxattrat", kDesc | kFile},
    {"getxattrat", kDesc | kFile},
};

std::string KnownClassesText() {
  std::string out = "known:";
  for (std::string_view name : SyscallClassNames()) {
    out += out.size() > 6 ? ", %" : " %";
    out += name;
  }
  return out;
}

const ClassName* FindClass(std::string_view cls) {
  for (const ClassName& c : kClassNames)
    if (c.name == cls) return &c;
  return nullptr;
}

std::vector<int> Members(uint32_t bit) {
  std::vector<int> out;
  for (const Membership& m : kMembership) {
    if ((m.classes & bit) == 0) continue;
    if (std::optional<int> nr = SyscallNumber(m.syscall)) out.push_back(*nr);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

absl::Status AddRegexMatches(std::string_view pattern, std::set<int>* out) {
  regex_t re;
  std::string p(pattern);
  int rc = regcomp(&re, p.c_str(), REG_EXTENDED | REG_NOSUB);
  if (rc != 0) {
    char err[128];
    regerror(rc, &re, err, sizeof err);
    return absl::InvalidArgumentError(absl::StrCat("invalid regular expression '/", p, "': ", err));
  }
  for (int nr : AllSyscallNumbers()) {
    std::string name(SyscallName(nr));
    if (regexec(&re, name.c_str(), 0, nullptr, 0) == 0) out->insert(nr);
  }
  regfree(&re);
  return absl::OkStatus();
}

absl::Status AddElement(std::string_view element, std::set<int>* out) {
  if (element.empty()) {
    return absl::InvalidArgumentError("empty syscall name in trace expression");
  }
  if (element == "all") {
    const std::vector<int>& all = AllSyscallNumbers();
    out->insert(all.begin(), all.end());
    return absl::OkStatus();
  }
  if (element == "none") return absl::OkStatus();
  if (element[0] == '/') return AddRegexMatches(element.substr(1), out);
  if (element[0] == '%') {
    auto members = SyscallsInClass(element);
    if (!members.ok()) return members.status();
    out->insert(members->begin(), members->end());
    return absl::OkStatus();
  }
  bool optional = element[0] == '?';
  std::string_view name = optional ? element.substr(1) : element;
  if (std::optional<int> nr = SyscallNumber(name)) {
    out->insert(*nr);
    return absl::OkStatus();
  }
  for (std::string_view legacy : kLegacyBareClasses) {
    if (name == legacy) {
      std::vector<int> members = Members(FindClass(name)->bit);
      out->insert(members.begin(), members.end());
      return absl::OkStatus();
    }
  }
  if (optional) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("unknown syscall '", std::string(name), "'"));
}

}  // namespace

const std::vector<std::string_view>& SyscallClassNames() {
  static const auto* names = [] {
    auto* v = new std::vector<std::string_view>();
    for (const ClassName& c : kClassNames)
      if (c.name != "net") v->push_back(c.name);
    return v;
  }();
  return *names;
}

absl::StatusOr<std::vector<int>> SyscallsInClass(std::string_view cls) {
  std::string_view name = cls;
  if (!name.empty() && name[0] == '%') name.remove_prefix(1);
  const ClassName* c = FindClass(name);
  if (c == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown syscall class '", std::string(cls), "' (", KnownClassesText(), ")"));
  }
  return Members(c->bit);
}

absl::StatusOr<std::vector<int>> ParseTraceExpression(std::string_view expr) {
  bool negate = false;
  if (!expr.empty() && expr[0] == '!') {
    negate = true;
    expr.remove_prefix(1);
  }
  if (expr.empty()) {
    return absl::InvalidArgumentError("empty trace expression");
  }
  std::set<int> selected;
  while (true) {
    size_t comma = expr.find(',');
    absl::Status st = AddElement(expr.substr(0, comma), &selected);
    if (!st.ok()) return st;
    if (comma == std::string_view::npos) break;
    expr.remove_prefix(comma + 1);
  }
  std::vector<int> out;
  if (negate) {
    for (int nr : AllSyscallNumbers())
      if (selected.count(nr) == 0) out.push_back(nr);
  } else {
    out.assign(selected.begin(), selected.end());
  }
  return out;
}

}  // namespace tracer::syscalls
