// The terminal view of `tracectl run`: the span tree as it happens.
//
// One line per syscall in strace's notation (name(args) = result <seconds>),
// indented under the process span it belongs to; forked processes nest under
// their parent. Written to a stdio stream (stderr by default, like strace).
#ifndef TRACER_CTL_TREE_PRINTER_H_
#define TRACER_CTL_TREE_PRINTER_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "agent/capture/events.h"

namespace tracer::ctl {

// Prints capture events as an indented span tree. Not thread-safe; call from
// the capture thread. Does not own `out`.
class TreePrinter : public capture::EventSink {
 public:
  explicit TreePrinter(FILE* out) : out_(out) {}

  // Declares the process tracectl started or attached to (depth 0).
  void AddRoot(uint32_t tgid, const std::string& name);

  void OnSyscall(const capture::SyscallEvent& event) override;
  void OnProcess(const capture::ProcessEvent& event) override;

  // Number of syscall lines printed.
  uint64_t lines() const { return lines_; }

 private:
  struct Proc {
    int depth = 0;
    std::string name;
    uint64_t start_ns = 0;  // CLOCK_MONOTONIC
  };
  std::string Prefix(int depth) const;
  Proc& Lookup(uint32_t tgid);

  FILE* out_;
  std::unordered_map<uint32_t, Proc> procs_;
  uint64_t lines_ = 0;
};

}  // namespace tracer::ctl

#endif  // TRACER_CTL_TREE_PRINTER_H_
