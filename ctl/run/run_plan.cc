#include "ctl/run/run_plan.h"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "ctl/run/run_export.h"

namespace tracer::ctl::run {

std::optional<int> PlanRun(const RunOptions& o, const EnvLookup& env, RunPlan* plan) {
  for (const std::string& warning : o.warnings) {
    std::fprintf(stderr, "tracectl run: warning: %s\n", warning.c_str());
  }
  if (geteuid() != 0) {
    return Fail(kExitCannotTrace,
                "must run as root: loading the BPF programs needs CAP_BPF and "
                "CAP_PERFMON (try: sudo tracectl run ...)");
  }
  if (!o.trace_parent.empty()) {
    auto tc = spans::ParseTraceparent(o.trace_parent, o.trace_state);
    if (!tc.ok()) {
      std::fprintf(stderr, "tracectl run: invalid trace parent '%s': %s\n", o.trace_parent.c_str(),
                   std::string(tc.status().message()).c_str());
      return kExitUsage;
    }
    plan->parent = *tc;
  }
  plan->sampled = !plan->parent || plan->parent->sampled();
  plan->want_export = ExportRequested(o, env);
  plan->want_spans = plan->want_export || !o.output_path.empty();
  plan->show_tree = !o.quiet && !o.stats && o.output_path.empty();
  plan->http_on = o.http && (plan->show_tree || plan->want_spans);
  plan->stats_only = o.stats && !plan->want_spans;
  return std::nullopt;
}

capture::CaptureOptions CaptureOptionsFor(const RunOptions& o, const RunPlan& plan) {
  capture::CaptureOptions copts;
  copts.follow_forks = o.follow_forks;
  copts.syscalls = o.syscalls;
  copts.no_syscalls = o.no_syscalls;
  copts.min_duration_ns = o.min_duration_ns;
  copts.stats_only = plan.stats_only;
  copts.sockets = plan.http_on;
  copts.socket_capture_bytes = o.http_capture_bytes;
  copts.ringbuf_bytes = o.ring_buffer_bytes;
  return copts;
}

}  // namespace tracer::ctl::run
