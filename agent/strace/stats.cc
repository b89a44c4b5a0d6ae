#include "agent/strace/stats.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_format.h"
#include "agent/strace/format.h"
#include "syscalls/syscall_table.h"

namespace tracer::strace {
namespace {

constexpr uint64_t kNsPerSec = 1000000000;
constexpr uint64_t kNsPerUs = 1000;
constexpr size_t kMinNameWidth = 16;

// strace prints seconds as tv_sec.tv_usec: truncated to microseconds.
std::string Seconds(uint64_t ns) {
  return absl::StrFormat("%11s",
                         absl::StrFormat("%d.%06d", ns / kNsPerSec, (ns % kNsPerSec) / kNsPerUs));
}

std::string Errors(uint64_t errors) {
  return errors == 0 ? std::string(9, ' ') : absl::StrFormat("%9d", errors);
}

}  // namespace

void StatsAggregator::OnSyscall(const capture::SyscallEvent& event) {
  if (event.no_return) return;
  absl::MutexLock lock(&mu_);
  capture::SyscallTotals& t = by_nr_[event.nr];
  t.nr = event.nr;
  ++t.calls;
  if (IsError(event.ret)) ++t.errors;
  t.total_ns += event.duration_ns;
}

void StatsAggregator::OnProcess(const capture::ProcessEvent&) {}

std::vector<capture::SyscallTotals> StatsAggregator::Totals() const {
  std::vector<capture::SyscallTotals> out;
  {
    absl::MutexLock lock(&mu_);
    out.reserve(by_nr_.size());
    for (const auto& [nr, t] : by_nr_) out.push_back(t);
  }
  std::sort(
      out.begin(), out.end(),
      [](const capture::SyscallTotals& a, const capture::SyscallTotals& b) { return a.nr < b.nr; });
  return out;
}

std::string FormatStatsTable(const std::vector<capture::SyscallTotals>& totals) {
  std::map<int32_t, capture::SyscallTotals> merged;
  for (const capture::SyscallTotals& t : totals) {
    if (t.calls == 0) continue;
    capture::SyscallTotals& m = merged[t.nr];
    m.nr = t.nr;
    m.calls += t.calls;
    m.errors += t.errors;
    m.total_ns += t.total_ns;
  }
  std::vector<capture::SyscallTotals> rows;
  uint64_t total_ns = 0, total_calls = 0, total_errors = 0;
  size_t name_width = kMinNameWidth;
  for (const auto& [nr, t] : merged) {
    rows.push_back(t);
    total_ns += t.total_ns;
    total_calls += t.calls;
    total_errors += t.errors;
    name_width = std::max(name_width, syscalls::SyscallName(nr).size());
  }
  // Stable: equal times keep ascending syscall numbers, as strace shows.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const capture::SyscallTotals& a, const capture::SyscallTotals& b) {
                     return a.total_ns > b.total_ns;
                   });
  std::string dashes = absl::StrFormat(
      "%s %s %s %s %s %s\n", std::string(6, '-'), std::string(11, '-'), std::string(11, '-'),
      std::string(9, '-'), std::string(9, '-'), std::string(name_width, '-'));
  std::string out = absl::StrFormat("%6s %11s %11s %9s %9s %s\n", "% time", "seconds", "usecs/call",
                                    "calls", "errors", "syscall");
  out += dashes;
  for (const capture::SyscallTotals& t : rows) {
    double pct = total_ns == 0 ? 0.0 : 100.0 * static_cast<double>(t.total_ns) / total_ns;
    absl::StrAppendFormat(&out, "%6.2f %s %11d %9d %s %s\n", pct, Seconds(t.total_ns),
                          t.total_ns / t.calls / kNsPerUs, t.calls, Errors(t.errors),
                          std::string(syscalls::SyscallName(t.nr)));
  }
  out += dashes;
  absl::StrAppendFormat(&out, "%6s %s %11d %9d %s %s\n", "100.00", Seconds(total_ns),
                        total_calls == 0 ? 0 : total_ns / total_calls / kNsPerUs, total_calls,
                        Errors(total_errors), "total");
  return out;
}

}  // namespace tracer::strace
