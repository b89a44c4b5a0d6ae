// CPU time and peak RSS of the calling process (getrusage(RUSAGE_SELF): all
// threads), for the export benchmarks' per-core rates.
#ifndef TRACER_TESTS_BENCH_EXPORT_PROCESS_USAGE_H_
#define TRACER_TESTS_BENCH_EXPORT_PROCESS_USAGE_H_

#include <sys/resource.h>

namespace tracer::bench {

struct Usage {
  double user_s = 0, sys_s = 0;  // CPU seconds since the process started
  long max_rss_kb = 0;           // peak resident set size, kB
};

// A snapshot of the process's usage now.
inline Usage Now() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return {ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
          ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss};
}

}  // namespace tracer::bench

#endif  // TRACER_TESTS_BENCH_EXPORT_PROCESS_USAGE_H_
