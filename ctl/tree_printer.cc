#include "ctl/tree_printer.h"

#include <csignal>
#include <cstring>
#include <sys/wait.h>

#include "absl/strings/str_format.h"
#include "agent/syscalls/format.h"
#include "agent/syscalls/syscall_table.h"

namespace tracer::ctl {

void TreePrinter::AddRoot(uint32_t tgid, const std::string& name) {
  Proc& p = procs_[tgid];
  p.depth = 0;
  p.name = name;
  absl::FPrintF(out_, "%s▶ %s [%u]\n", Prefix(0), name, tgid);
}

std::string TreePrinter::Prefix(int depth) const {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "│ ";
  return s;
}

TreePrinter::Proc& TreePrinter::Lookup(uint32_t tgid) {
  // A process first seen through a syscall (attached mid-flight) sits at the
  // top level.
  return procs_[tgid];
}

void TreePrinter::OnSyscall(const capture::SyscallEvent& e) {
  Proc& p = Lookup(e.tgid);
  std::string tid = e.tid != e.tgid ? absl::StrFormat("[tid %u] ", e.tid) : "";
  absl::FPrintF(out_, "%s%s%s(%s) = %s <%.6f>\n", Prefix(p.depth + 1), tid,
                syscalls::SyscallName(e.nr), syscalls::FormatArgs(e), syscalls::FormatResult(e),
                e.duration_ns / 1e9);
  ++lines_;
}

void TreePrinter::OnProcess(const capture::ProcessEvent& e) {
  switch (e.kind) {
    case capture::ProcessEvent::Kind::kFork: {
      Proc& parent = Lookup(e.parent_tgid);
      Proc& child = procs_[e.tgid];
      child.depth = parent.depth + 1;
      child.name = parent.name;
      child.start_ns = e.ts_ns;
      absl::FPrintF(out_, "%s▶ %s [%u] forked by [%u]\n", Prefix(child.depth), child.name, e.tgid,
                    e.parent_tgid);
      break;
    }
    case capture::ProcessEvent::Kind::kExec: {
      Proc& p = Lookup(e.tgid);
      std::string name = e.filename;
      size_t slash = name.rfind('/');
      if (slash != std::string::npos) name = name.substr(slash + 1);
      if (name.empty()) name = e.comm;
      p.name = name;
      if (p.start_ns == 0) p.start_ns = e.ts_ns;
      absl::FPrintF(out_, "%s● %s [%u] exec %s\n", Prefix(p.depth), p.name, e.tgid, e.filename);
      break;
    }
    case capture::ProcessEvent::Kind::kExit: {
      Proc& p = Lookup(e.tgid);
      std::string how;
      if (WIFSIGNALED(e.exit_code)) {
        how = absl::StrFormat("killed by SIG%s", sigabbrev_np(WTERMSIG(e.exit_code)));
      } else {
        how = absl::StrFormat("exit %d", WEXITSTATUS(e.exit_code));
      }
      if (p.start_ns != 0 && e.ts_ns >= p.start_ns) {
        absl::FPrintF(out_, "%s◀ %s [%u] %s <%.6f>\n", Prefix(p.depth), p.name, e.tgid, how,
                      (e.ts_ns - p.start_ns) / 1e9);
      } else {
        absl::FPrintF(out_, "%s◀ %s [%u] %s\n", Prefix(p.depth), p.name, e.tgid, how);
      }
      procs_.erase(e.tgid);
      break;
    }
  }
}

}  // namespace tracer::ctl
