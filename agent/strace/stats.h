// Per-syscall statistics in user space and their `strace -c` style table.
#ifndef TRACER_AGENT_STRACE_STATS_H_
#define TRACER_AGENT_STRACE_STATS_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "agent/capture/events.h"

namespace tracer::strace {

// An EventSink that counts calls, errors (returns in -4095..-1) and summed
// duration (ns) per syscall number, as strace -c does. Like strace -c it
// leaves out calls that never return (exit, exit_group: no_return events)
// and ignores process events. Thread-safe: events may arrive on one thread
// while another reads Totals().
class StatsAggregator : public capture::EventSink {
 public:
  void OnSyscall(const capture::SyscallEvent& event) override;
  void OnProcess(const capture::ProcessEvent& event) override;

  // The totals so far, one entry per syscall seen, ascending by number.
  std::vector<capture::SyscallTotals> Totals() const;

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<int32_t, capture::SyscallTotals> by_nr_ ABSL_GUARDED_BY(mu_);
};

// Renders `totals` like `strace -c` (strace 6.x layout, so users and scripts
// that read strace's summary read this one):
//
//   % time     seconds  usecs/call     calls    errors syscall
//   ------ ----------- ----------- --------- --------- ----------------
//    95.48    0.000211         105         2           getdents64
//     4.07    0.000009           0        23           close
//   ------ ----------- ----------- --------- --------- ----------------
//   100.00    0.000221           1       157        27 total
//
// Rows are sorted by time descending, then by syscall number; rows with zero
// calls are omitted; seconds and usecs/call are truncated, not rounded; an
// errors cell is empty when zero. The syscall column widens for long names.
// Input entries with the same number are merged. Always ends with a newline.
std::string FormatStatsTable(const std::vector<capture::SyscallTotals>& totals);

}  // namespace tracer::strace

#endif  // TRACER_AGENT_STRACE_STATS_H_
