#include "agent/spans/proc_info.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace tracer::spans {
namespace {

std::string ProcPath(uint32_t pid, const char* file) {
  return "/proc/" + std::to_string(pid) + "/" + file;
}

// Reads a whole (small) /proc file; nullopt if it cannot be opened.
std::optional<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  while (out.size() < max_bytes) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  if (out.size() > max_bytes) out.resize(max_bytes);
  return out;
}

}  // namespace

std::optional<std::string> ReadProcFile(const std::string& proc_root, uint32_t pid,
                                        const char* file, size_t max_bytes) {
  return ReadFile(proc_root + "/" + std::to_string(pid) + "/" + file, max_bytes);
}

std::optional<std::string> ReadComm(uint32_t pid, const std::string& proc_root) {
  auto comm = ReadProcFile(proc_root, pid, "comm", 64);
  if (!comm) return std::nullopt;
  while (!comm->empty() && (comm->back() == '\n' || comm->back() == '\0')) comm->pop_back();
  return comm;
}

std::optional<std::string> ReadExePath(uint32_t pid) {
  char buf[PATH_MAX];
  ssize_t n = readlink(ProcPath(pid, "exe").c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

std::optional<std::string> ReadCommandLine(uint32_t pid) {
  // The kernel caps what it shows at the argument area; 64 KiB is plenty for
  // an attribute.
  constexpr size_t kMax = 64 << 10;
  auto raw = ReadFile(ProcPath(pid, "cmdline"), kMax + 1);
  if (!raw || raw->empty()) return std::nullopt;
  bool truncated = raw->size() > kMax;
  return JoinArgv(std::string_view(*raw).substr(0, kMax), truncated);
}

std::optional<uint32_t> ReadParentPid(uint32_t pid) {
  auto stat = ReadFile(ProcPath(pid, "stat"), 4096);
  if (!stat) return std::nullopt;
  // "pid (comm) state ppid ..."; comm may hold spaces and ')', so parse from
  // the last ')'.
  size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  char state = 0;
  unsigned ppid = 0;
  if (std::sscanf(stat->c_str() + paren + 1, " %c %u", &state, &ppid) != 2) return std::nullopt;
  return ppid;
}

std::string JoinArgv(std::string_view args, bool truncated) {
  if (!args.empty() && args.back() == '\0') args.remove_suffix(1);
  std::string out(args);
  for (char& c : out) {
    if (c == '\0') c = ' ';
  }
  if (truncated) out += "...";
  return out;
}

std::string_view Basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace tracer::spans
