#include "ctl/run/run_summary.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/protocols/http1/flow_counters.h"
#include "agent/strace/stats.h"

namespace tracer::ctl::run {
namespace {

// The losses, each "N <what> LOST: <where>", and their total.
struct Losses {
  std::vector<std::string> parts;
  uint64_t total = 0;

  void Add(uint64_t n, absl::string_view what) {
    if (n == 0) return;
    parts.push_back(absl::StrCat(n, " ", what));
    total += n;
  }
  std::string Text() const { return parts.empty() ? "0 events lost" : absl::StrJoin(parts, "; "); }
};

Losses CountLosses(const RunPlan& plan, const capture::CaptureCounters& counters,
                   const pipeline::NodePipelineCounters& node) {
  Losses l;
  uint64_t ring = 0;
  std::string per_cpu;
  for (size_t cpu = 0; cpu < counters.ringbuf_drops_per_cpu.size(); ++cpu) {
    ring += counters.ringbuf_drops_per_cpu[cpu];
    if (counters.ringbuf_drops_per_cpu[cpu] == 0) continue;
    absl::StrAppend(&per_cpu, per_cpu.empty() ? "" : ", ", "cpu", cpu, ": ",
                    counters.ringbuf_drops_per_cpu[cpu]);
  }
  l.Add(ring, absl::StrCat("events LOST: ring buffer full (", per_cpu, ")"));
  l.Add(node.records_dropped, "events LOST: user-space backlog over 1 GiB");
  if (plan.http_on) {
    const capture::SocketCounters& sc = counters.sockets;
    l.Add(sc.ringbuf_drops, "socket events LOST: ring buffer full");
    l.Add(sc.missed_calls, "socket calls LOST: in-flight table full");
    l.Add(sc.untracked_full, "sockets not tracked: table full");
  }
  l.Add(counters.missed_syscalls, "syscalls LOST: in-flight table full");
  return l;
}

// The HTTP tracker's anomalies, "" when there are none.
std::string HttpAnomalies(const http::HttpFlowCounters& c) {
  std::vector<std::string> parts;
  auto add = [&parts](uint64_t n, const char* what) {
    if (n > 0) parts.push_back(absl::StrCat(n, " ", what));
  };
  add(c.timeouts, "timed out");
  add(c.closed_mid_exchange, "closed mid-exchange");
  add(c.unmatched_responses, "responses without request");
  add(c.requests_not_captured, "requests not captured");
  add(c.responses_not_captured, "responses not captured");
  add(c.incomplete_messages, "incomplete messages");
  add(c.parse_errors, "parse errors");
  add(c.pending_overflows, "pending overflows");
  add(c.connections_abandoned, "connections abandoned");
  add(c.connections_not_tracked, "connections not tracked (table full)");
  // Opened before tracing began, or their open record was lost: role
  // guessed from the bytes, no socket addresses on their spans.
  add(c.connections_without_open, "connections seen without their open (no addresses)");
  add(c.invalid_traceparent, "invalid traceparent headers");
  return absl::StrJoin(parts, ", ");
}

void PrintHttpAnomalies(pipeline::TraceBuilder& trace) {
  const http::HttpFlowTracker* tracker = trace.http_tracker();
  if (tracker == nullptr) return;
  const http::HttpFlowCounters hc = tracker->counters();
  std::string anomalies = HttpAnomalies(hc);
  const uint64_t unsampled = trace.span_builder().counters().added_spans_unsampled;
  if (unsampled > 0) {
    absl::StrAppend(&anomalies, anomalies.empty() ? "" : ", ", unsampled,
                    " server spans not exported (caller's traceparent not sampled)");
  }
  if (anomalies.empty()) return;
  std::fprintf(stderr, "tracectl: HTTP: %llu exchanges over %llu connections; %s\n",
               static_cast<unsigned long long>(hc.spans),
               static_cast<unsigned long long>(hc.connections), anomalies.c_str());
}

}  // namespace

void PrintStatsTable(const RunOptions& o, const RunPlan& plan, const capture::EventSource& source,
                     RunSinks& sinks) {
  if (!o.stats) return;
  std::vector<capture::SyscallTotals> totals;
  if (plan.stats_only) {
    auto t = source.Totals();
    if (t.ok()) totals = std::move(*t);
  } else {
    totals = sinks.stats()->Totals();
  }
  std::fputs(strace::FormatStatsTable(totals).c_str(), stderr);
}

void PrintRunSummary(const RunOptions& o, const RunPlan& plan,
                     const capture::CaptureCounters& capture,
                     const pipeline::NodePipelineCounters& node, RunSinks& sinks,
                     const std::string& exported) {
  const Losses losses = CountLosses(plan, capture, node);
  const std::string drop_text = losses.Text();
  if (o.quiet) {
    if (losses.total > 0) std::fprintf(stderr, "tracectl: %s\n", drop_text.c_str());
  } else if (plan.stats_only) {
    std::fprintf(stderr, "tracectl: %s\n", drop_text.c_str());
  } else {
    std::string http_text;
    if (plan.http_on) {
      const pipeline::TraceBuilderCounters& tc = sinks.trace().counters();
      http_text =
          absl::StrCat(", ", tc.http_spans, " HTTP spans (", tc.http_server_spans, " server)");
    }
    std::fprintf(stderr, "tracectl: %llu syscalls, %llu processes traced%s; %s%s\n",
                 static_cast<unsigned long long>(sinks.events().syscalls()),
                 static_cast<unsigned long long>(sinks.events().processes()), http_text.c_str(),
                 drop_text.c_str(), exported.c_str());
  }
  PrintHttpAnomalies(sinks.trace());
}

}  // namespace tracer::ctl::run
