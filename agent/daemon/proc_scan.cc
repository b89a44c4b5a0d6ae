#include "agent/daemon/proc_scan.h"

#include <dirent.h>

#include <optional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "agent/spans/proc_info.h"

namespace tracer::daemon {

std::string CgroupV2Path(const std::string& cgroup_file) {
  std::istringstream in(cgroup_file);
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "0::")) return line.substr(3);
  }
  return "";
}

bool CgroupMatches(const std::string& proc_path, const std::string& want) {
  if (want == "/") return !proc_path.empty();
  return proc_path == want || absl::StartsWith(proc_path, want + "/");
}

namespace {

// The /proc facts of one process, read when first needed.
class ProcFacts {
 public:
  ProcFacts(const std::string& proc_root, uint32_t pid) : root_(proc_root), pid_(pid) {}

  bool Matches(const tracer::v1::Target& t) {
    switch (t.kind_case()) {
      case tracer::v1::Target::kComm:
        if (!comm_) comm_ = spans::ReadComm(pid_, root_).value_or("");
        return *comm_ == t.comm();
      case tracer::v1::Target::kCgroupPath:
        if (!cgroup_) cgroup_ = CgroupV2Path(Read("cgroup"));
        return CgroupMatches(*cgroup_, t.cgroup_path());
      case tracer::v1::Target::kAllProcesses:
        if (!cmdline_) cmdline_ = Read("cmdline");
        return !cmdline_->empty();  // kernel threads have none
      case tracer::v1::Target::kPid:
      case tracer::v1::Target::KIND_NOT_SET:
        break;
    }
    return false;
  }

 private:
  std::string Read(const char* file) const {
    return spans::ReadProcFile(root_, pid_, file).value_or("");
  }

  const std::string& root_;
  const uint32_t pid_;
  std::optional<std::string> comm_, cgroup_, cmdline_;
};

}  // namespace

void ScanProc(const std::string& proc_root, uint32_t self_pid,
              const std::vector<Session*>& scanners, const std::function<bool(uint32_t)>& skip,
              const std::function<void(Session&, uint32_t)>& on_match) {
  if (scanners.empty()) return;
  DIR* dir = opendir(proc_root.c_str());
  if (dir == nullptr) return;
  while (dirent* de = readdir(dir)) {
    uint32_t pid = 0;
    if (!absl::SimpleAtoi(de->d_name, &pid) || pid == 0 || pid == self_pid) continue;
    if (skip(pid)) continue;
    ProcFacts facts(proc_root, pid);
    for (Session* s : scanners) {
      if (facts.Matches(s->spec.target())) {
        on_match(*s, pid);
        break;
      }
    }
  }
  closedir(dir);
}

}  // namespace tracer::daemon
