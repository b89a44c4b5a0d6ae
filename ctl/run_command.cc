#include "ctl/run_command.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agent/capture/event_source.h"
#include "agent/protocols/http1/http_flow_tracker.h"
#include "agent/protocols/http1/process_parent.h"
#include "agent/pipeline/record_spill.h"
#include "agent/pipeline/wal_stage.h"
#include "common/clock.h"
#include "agent/spans/span_builder.h"
#include "agent/spans/trace_context.h"
#include "agent/strace/stats.h"
#include "ctl/child_process.h"
#include "ctl/export_pipeline.h"
#include "ctl/tree_printer.h"
#include "storage/rocksdb_wal.h"

namespace tracer::ctl {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }


std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Feeds every event to several sinks, and keeps the set of live traced
// processes (root plus forked children) so the run knows when it is over.
class FanOutSink : public capture::EventSink {
 public:
  void Add(capture::EventSink* sink) {
    if (sink != nullptr) sinks_.push_back(sink);
  }
  void AddLive(uint32_t tgid) {
    absl::MutexLock l(&mu_);
    live_.insert(tgid);
  }
  bool AnyLive() const {
    absl::MutexLock l(&mu_);
    return !live_.empty();
  }
  // Forgets traced processes that no longer exist (their exit record may
  // have been lost to a full ring buffer), so the run cannot hang on them.
  void PruneGone() {
    absl::MutexLock l(&mu_);
    for (auto it = live_.begin(); it != live_.end();) {
      if (kill(static_cast<pid_t>(*it), 0) != 0 && errno == ESRCH) {
        it = live_.erase(it);
      } else {
        ++it;
      }
    }
  }
  uint64_t syscalls() const { return syscalls_; }
  uint64_t processes() const {
    absl::MutexLock l(&mu_);
    return processes_;
  }

  void OnSyscall(const capture::SyscallEvent& e) override {
    ++syscalls_;
    for (auto* s : sinks_) s->OnSyscall(e);
  }
  void OnProcess(const capture::ProcessEvent& e) override {
    {
      absl::MutexLock l(&mu_);
      if (e.kind == capture::ProcessEvent::Kind::kFork) {
        live_.insert(e.tgid);
        ++processes_;
      } else if (e.kind == capture::ProcessEvent::Kind::kExit) {
        live_.erase(e.tgid);
      }
    }
    for (auto* s : sinks_) s->OnProcess(e);
  }
  void OnSocketOpen(const capture::SocketOpenEvent& e) override {
    for (auto* s : sinks_) s->OnSocketOpen(e);
  }
  void OnSocketData(const capture::SocketDataEvent& e) override {
    for (auto* s : sinks_) s->OnSocketData(e);
  }
  void OnSocketClose(const capture::SocketCloseEvent& e) override {
    for (auto* s : sinks_) s->OnSocketClose(e);
  }

 private:
  std::vector<capture::EventSink*> sinks_;
  // Written by the spill's worker thread, read by the polling thread.
  mutable absl::Mutex mu_;
  std::set<uint32_t> live_ ABSL_GUARDED_BY(mu_);
  uint64_t syscalls_ = 0;
  uint64_t processes_ ABSL_GUARDED_BY(mu_) = 1;
};

// Where the run's HTTP spans go: the terminal tree (printed first, the span
// is then moved) and the span builder (its process's resource and batches).
class RunHttpSink : public http::HttpSpanSink {
 public:
  RunHttpSink(TreePrinter* tree, spans::SpanBuilder* builder) : tree_(tree), builder_(builder) {}
  google::protobuf::Arena* SpanArena() override {
    return builder_ != nullptr ? builder_->span_arena() : nullptr;
  }
  void OnHttpSpan(uint32_t tgid, opentelemetry::proto::trace::v1::Span* span) override {
    ++spans_;
    if (span->kind() == opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER) ++server_spans_;
    if (tree_ != nullptr) tree_->OnHttpSpan(tgid, *span);
    if (builder_ != nullptr) {
      builder_->AddSpan(tgid, span);
    } else {
      delete span;  // on the heap: SpanArena() said so
    }
  }
  uint64_t spans() const { return spans_; }
  uint64_t server_spans() const { return server_spans_; }

 private:
  TreePrinter* const tree_;
  spans::SpanBuilder* const builder_;
  uint64_t spans_ = 0;
  uint64_t server_spans_ = 0;
};

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

// Drains the ring buffer until it stays empty.
absl::Status Drain(capture::EventSource& source, pipeline::RecordSpill& spill) {
  for (int idle = 0; idle < 3;) {
    auto n = source.PollRaw(spill, 5);
    spill.Publish();
    if (!n.ok()) return n.status();
    idle = *n == 0 ? idle + 1 : 0;
  }
  return absl::OkStatus();
}

bool ExportRequested(const RunOptions& o, const EnvLookup& env) {
  return !o.otlp_endpoint.empty() || env("OTEL_EXPORTER_OTLP_ENDPOINT").has_value() ||
         env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").has_value();
}

// Opens this run's write-ahead log in a fresh directory under `base`.
absl::StatusOr<std::unique_ptr<storage::Wal>> OpenRunWal(const std::string& base,
                                                         std::string* dir) {
  std::error_code ec;
  std::filesystem::create_directories(base, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("--data-dir ", base, ": cannot create: ", ec.message()));
  }
  std::string tmpl = absl::StrCat(base, "/run-", getpid(), "-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("--data-dir ", base, ": ", std::strerror(errno)));
  }
  *dir = tmpl;
  storage::WalOptions wo;
  wo.data_dir = tmpl;
  auto wal = storage::RocksDbWal::Open(wo);
  if (!wal.ok()) return wal.status();
  return std::unique_ptr<storage::Wal>(std::move(*wal));
}

}  // namespace

int RunCommand(const RunOptions& o) {
  EnvLookup env = ProcessEnv();
  for (const std::string& warning : o.warnings) {
    std::fprintf(stderr, "tracectl run: warning: %s\n", warning.c_str());
  }
  if (geteuid() != 0) {
    std::fprintf(stderr,
                 "tracectl run: must run as root: loading the BPF programs needs CAP_BPF and "
                 "CAP_PERFMON (try: sudo tracectl run ...)\n");
    return kExitCannotTrace;
  }

  // W3C trace context: --trace-parent, else TRACEPARENT/TRACESTATE.
  std::optional<spans::TraceContext> parent;
  if (!o.trace_parent.empty()) {
    auto tc = spans::ParseTraceparent(o.trace_parent, o.trace_state);
    if (!tc.ok()) {
      std::fprintf(stderr, "tracectl run: invalid trace parent '%s': %s\n", o.trace_parent.c_str(),
                   std::string(tc.status().message()).c_str());
      return kExitUsage;
    }
    parent = *tc;
  }
  const bool sampled = !parent || parent->sampled();

  // Exporters (OTLP file and/or OTLP endpoint), created before anything runs
  // so configuration errors stop us early.
  const bool want_export = ExportRequested(o, env);
  const bool want_spans = want_export || !o.output_path.empty();
  std::unique_ptr<ExportPipeline> exports;
  if (want_spans && sampled) {
    auto p = ExportPipeline::Create(o, env);
    if (!p.ok()) {
      std::fprintf(stderr, "tracectl run: %s\n", std::string(p.status().message()).c_str());
      return kExitUsage;
    }
    exports = std::move(*p);
  }

  capture::CaptureOptions copts;
  copts.follow_forks = o.follow_forks;
  copts.syscalls = o.syscalls;
  copts.no_syscalls = o.no_syscalls;
  copts.min_duration_ns = o.min_duration_ns;
  copts.stats_only = o.stats && !want_spans;
  // HTTP spans are shown in the tree or built into spans; a --stats table
  // alone has no use for them.
  const bool show_tree = !o.quiet && !o.stats && o.output_path.empty();
  const bool http_on = o.http && (show_tree || want_spans);
  copts.sockets = http_on;
  copts.socket_capture_bytes = o.http_capture_bytes;
  auto source_or = capture::OpenBpfEventSource(copts);
  if (!source_or.ok()) {
    std::fprintf(stderr, "tracectl run: cannot start tracing: %s\n",
                 std::string(source_or.status().message()).c_str());
    return kExitCannotTrace;
  }
  capture::EventSource& source = **source_or;

  // Every batch is made durable before it ships off the node (DESIGN.md,
  // "Storage"). A run that only writes a local --output file needs no
  // second local copy: the file is written directly.
  std::string wal_dir;
  std::unique_ptr<storage::Wal> wal;
  std::unique_ptr<pipeline::WalStage> wal_stage;
  if (exports && want_export) {
    auto w = OpenRunWal(o.data_dir, &wal_dir);
    if (!w.ok()) {
      std::fprintf(stderr, "tracectl run: write-ahead log: %s\n",
                   std::string(w.status().message()).c_str());
      return kExitCannotTrace;
    }
    wal = std::move(*w);
    wal_stage = std::make_unique<pipeline::WalStage>(wal.get(), exports.get());
  }

  // Sinks.
  FanOutSink fanout;
  std::unique_ptr<TreePrinter> tree;
  // Like strace -o, --output sends the trace to the file instead of the terminal.
  if (show_tree) {
    tree = std::make_unique<TreePrinter>(stderr);
    fanout.Add(tree.get());
  }
  std::unique_ptr<strace::StatsAggregator> stats;
  if (o.stats && !copts.stats_only) {
    stats = std::make_unique<strace::StatsAggregator>();
    fanout.Add(stats.get());
  }
  spans::SpanBuilderOptions bopts;
  bopts.parent = parent;
  bopts.service_name = o.service_name;
  bopts.resource_attributes = o.resource_attributes;
  bopts.max_batch_spans = o.max_export_batch_spans;
  bopts.clock = common::ClockOffset::Measure();
  {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    bopts.host_name = host;
  }
  spans::BatchSink* first_stage = wal_stage ? static_cast<spans::BatchSink*>(wal_stage.get())
                                            : static_cast<spans::BatchSink*>(exports.get());
  spans::SpanBuilder builder(bopts, first_stage);
  const bool build_spans = want_spans;
  if (build_spans) fanout.Add(&builder);

  // HTTP flows: socket events -> tracker -> spans in the builder's trace
  // (children of their process's span unless a request's traceparent says
  // otherwise) and lines in the tree.
  RunHttpSink http_sink(tree.get(), build_spans ? &builder : nullptr);
  std::unique_ptr<http::HttpFlowTracker> http_tracker;
  if (http_on) {
    http::HttpFlowOptions ho;
    ho.clock = bopts.clock;
    if (build_spans) ho.parent_lookup = http::ProcessSpanParent(&builder, bopts.parent);
    http_tracker = std::make_unique<http::HttpFlowTracker>(std::move(ho), &http_sink);
    fanout.Add(http_tracker.get());
  }

  // Start (or attach to) the target.
  std::optional<GatedChild> child;
  uint32_t root = 0;
  std::string root_name;
  if (!o.command.empty()) {
    auto c = GatedChild::Spawn(o.command);
    if (!c.ok()) {
      std::fprintf(stderr, "tracectl run: %s\n", std::string(c.status().message()).c_str());
      return 127;
    }
    child.emplace(std::move(*c));
    if (auto st = child->WaitUntilGated(5000); !st.ok()) {
      std::fprintf(stderr, "tracectl run: %s\n", std::string(st.message()).c_str());
      return kExitCannotTrace;
    }
    root = child->pid();
    root_name = Basename(child->path());
  } else {
    root = *o.attach_pid;
    if (kill(root, 0) != 0 && errno == ESRCH) {
      std::fprintf(stderr, "tracectl run: -p %u: no such process\n", root);
      return kExitCannotTrace;
    }
    std::string comm;
    if (FILE* f = std::fopen(absl::StrCat("/proc/", root, "/comm").c_str(), "r")) {
      char buf[64] = {};
      if (std::fgets(buf, sizeof buf, f)) comm = buf;
      std::fclose(f);
      while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    }
    root_name = comm.empty() ? absl::StrCat(root) : comm;
  }
  // Set after the child is forked, so it starts with default dispositions.
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  if (o.attach_pid) {
    sigaction(SIGINT, &sa, nullptr);  // Ctrl-C detaches from -p PID
  } else {
    signal(SIGINT, SIG_IGN);  // the command gets Ctrl-C; we finish after it
  }
  if (auto st = source.AddTarget(root); !st.ok()) {
    std::fprintf(stderr, "tracectl run: cannot trace pid %u: %s\n", root,
                 std::string(st.message()).c_str());
    return kExitCannotTrace;
  }
  fanout.AddLive(root);
  // As strace does (and -q silences): the attach is in effect from here on,
  // which is what scripts and tests wait for.
  if (o.attach_pid && !o.quiet) std::fprintf(stderr, "tracectl: Process %u attached\n", root);
  if (build_spans) builder.AddRootProcess(root, common::MonotonicNowNs());
  if (tree) {
    std::fprintf(stderr, "trace %s%s\n", spans::HexId(builder.trace_id()).c_str(),
                 sampled ? "" : " (not sampled: printed here, not exported)");
  }
  if (tree) tree->AddRoot(root, root_name);

  int exit_code = 0;
  if (child) {
    if (auto st = child->Release(); !st.ok()) {
      std::fprintf(stderr, "tracectl run: %s\n", std::string(st.message()).c_str());
      (void)child->Wait();
      return 127;
    }
  }

  // Main loop: deliver events until the traced processes are gone.
  bool root_done = false;
  // The polling thread only copies records out of the ring buffer; decoding,
  // span building and printing happen on the spill's worker thread, so a
  // burst of syscalls costs memory for a moment instead of kernel drops.
  // The tracker's timeouts are driven on the spill's worker thread, the one
  // that feeds it.
  pipeline::TickFn tick;
  if (http_tracker) tick = [&http_tracker](uint64_t now) { http_tracker->Tick(now); };
  pipeline::RecordSpill spill(&fanout, size_t{1} << 30, std::move(tick), absl::Milliseconds(200));
  while (true) {
    auto n = source.PollRaw(spill, 2);
    spill.Publish();
    if (!n.ok()) {
      std::fprintf(stderr, "tracectl run: capture failed: %s\n",
                   std::string(n.status().message()).c_str());
      break;
    }
    if (!root_done) {
      if (child) {
        int status = 0;
        auto done = child->TryWait(&status);
        if (done.ok() && *done) {
          root_done = true;
          exit_code = ExitCodeFromWaitStatus(status);
        }
      } else if (kill(root, 0) != 0 && errno == ESRCH) {
        root_done = true;
      }
    }
    if (g_interrupted.load()) {
      if (o.attach_pid && !root_done && !o.quiet) {
        std::fprintf(stderr, "tracectl: Process %u detached\n", root);
      }
      break;
    }
    // strace -f waits for every traced process; so do we.
    if (root_done && (!o.follow_forks || !fanout.AnyLive())) break;
    if (root_done && *n == 0) fanout.PruneGone();
  }
  if (auto st = Drain(source, spill); !st.ok()) {
    std::fprintf(stderr, "tracectl run: capture failed: %s\n", std::string(st.message()).c_str());
  }
  spill.Close();
  const pipeline::RecordSpillCounters spilled = spill.counters();

  // Results.
  capture::CaptureCounters counters = source.Counters();
  uint64_t drops = 0;
  for (uint64_t d : counters.ringbuf_drops_per_cpu) drops += d;
  // The worker has stopped: the tracker and the builder are ours now.
  // Exchanges still open end as closed, before the process spans end.
  if (http_tracker) http_tracker->Finish(common::MonotonicNowNs());
  if (build_spans) builder.Finish(common::MonotonicNowNs());

  if (o.stats) {
    std::vector<capture::SyscallTotals> totals;
    if (copts.stats_only) {
      auto t = source.Totals();
      if (t.ok()) totals = std::move(*t);
    } else {
      totals = stats->Totals();
    }
    std::fputs(strace::FormatStatsTable(totals).c_str(), stderr);
  }

  int rc = exit_code;
  if (exports) {
    absl::Status wal_st = wal_stage ? wal_stage->Close() : absl::OkStatus();
    absl::Status st = exports->Shutdown();
    if (!wal_st.ok()) {
      std::fprintf(stderr, "tracectl run: %s\n", std::string(wal_st.message()).c_str());
      if (rc == 0) rc = kExitExportFailed;
    }
    if (!st.ok()) {
      std::fprintf(stderr, "tracectl run: export failed: %s\n", std::string(st.message()).c_str());
      if (!wal_dir.empty()) {
        std::fprintf(stderr,
                     "tracectl run: the spans are kept in %s (RocksDB write-ahead log of OTLP "
                     "ExportTraceServiceRequest batches)\n",
                     wal_dir.c_str());
      }
      if (rc == 0) rc = kExitExportFailed;
    }
    wal.reset();
    if (st.ok() && wal_st.ok() && !wal_dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(wal_dir, ec);  // every destination has every span
    }
  }

  // Every place that can lose events says how many (DESIGN.md).
  std::vector<std::string> losses;
  if (drops > 0) {
    std::string per_cpu;
    for (size_t cpu = 0; cpu < counters.ringbuf_drops_per_cpu.size(); ++cpu) {
      if (counters.ringbuf_drops_per_cpu[cpu] == 0) continue;
      absl::StrAppend(&per_cpu, per_cpu.empty() ? "" : ", ", "cpu", cpu, ": ",
                      counters.ringbuf_drops_per_cpu[cpu]);
    }
    losses.push_back(absl::StrCat(drops, " events LOST: ring buffer full (", per_cpu, ")"));
  }
  if (spilled.records_dropped > 0) {
    drops += spilled.records_dropped;
    losses.push_back(absl::StrCat(spilled.records_dropped,
                                  " events LOST: user-space backlog over 1 GiB"));
  }
  if (http_on) {
    const capture::SocketCounters& sc = counters.sockets;
    if (sc.ringbuf_drops > 0) {
      losses.push_back(absl::StrCat(sc.ringbuf_drops, " socket events LOST: ring buffer full"));
      drops += sc.ringbuf_drops;
    }
    if (sc.missed_calls > 0) {
      losses.push_back(absl::StrCat(sc.missed_calls, " socket calls LOST: in-flight table full"));
      drops += sc.missed_calls;
    }
    if (sc.untracked_full > 0) {
      losses.push_back(absl::StrCat(sc.untracked_full, " sockets not tracked: table full"));
      drops += sc.untracked_full;
    }
  }
  if (counters.missed_syscalls > 0) {
    losses.push_back(absl::StrCat(counters.missed_syscalls,
                                  " syscalls LOST: in-flight table full"));
    drops += counters.missed_syscalls;
  }
  const std::string drop_text = losses.empty() ? "0 events lost" : absl::StrJoin(losses, "; ");
  if (!o.quiet) {
    std::string exported;
    if (exports) exported = absl::StrCat("; ", exports->Summary());
    std::string http_text;
    if (http_on) {
      http_text = absl::StrCat(", ", http_sink.spans(), " HTTP spans (",
                               http_sink.server_spans(), " server)");
    }
    if (!copts.stats_only) {
      std::fprintf(stderr, "tracectl: %llu syscalls, %llu processes traced%s; %s%s\n",
                   static_cast<unsigned long long>(fanout.syscalls()),
                   static_cast<unsigned long long>(fanout.processes()), http_text.c_str(),
                   drop_text.c_str(), exported.c_str());
    } else {
      std::fprintf(stderr, "tracectl: %s\n", drop_text.c_str());
    }
  } else if (drops > 0) {
    std::fprintf(stderr, "tracectl: %s\n", drop_text.c_str());
  }
  if (http_tracker) {
    const http::HttpFlowCounters hc = http_tracker->counters();
    std::string anomalies = HttpAnomalies(hc);
    const uint64_t unsampled = builder.counters().added_spans_unsampled;
    if (unsampled > 0) {
      absl::StrAppend(&anomalies, anomalies.empty() ? "" : ", ", unsampled,
                      " server spans not exported (caller's traceparent not sampled)");
    }
    if (!anomalies.empty()) {
      std::fprintf(stderr, "tracectl: HTTP: %llu exchanges over %llu connections; %s\n",
                   static_cast<unsigned long long>(hc.spans),
                   static_cast<unsigned long long>(hc.connections), anomalies.c_str());
    }
  }
  return rc;
}

}  // namespace tracer::ctl
