// SpanBuilder: capture events (agent/capture/events.h) -> OpenTelemetry spans
// as compact span records in batches (span_batch.h): no message objects and
// no heap allocation per span (strings and attribute arrays go to the
// batch's arena; the strace-style text is formatted into one reused buffer).
//
// Span model (see the Spans section of the design page):
//  - One *process span* per traced process, from fork/exec/attach to exit,
//    named after its current executable ("ls"), kind INTERNAL. A forked
//    child's process span is a child of its parent's process span; the root
//    process (AddRootProcess) is a child of the caller's W3C span when a
//    parent context is given, else a root span.
//  - One *syscall span* per completed syscall, a child of its process span.
//  - Every span of a builder shares one trace id: the parent context's, or a
//    freshly generated one; flags and tracestate come from the parent context
//    (no parent: flags = sampled, no tracestate).
//
// Process span: attributes process.pid (int) and, when the process exited
// while traced, process.exit.code (int): WEXITSTATUS for a normal exit, or
// 128+N for a death by signal N (the shell's $? convention, so SIGKILL is
// 137) with status ERROR and the signal's name as message ("SIGKILL"). Any
// other non-zero exit code is status ERROR with message "exit code N".
// Start: fork time (children), AddRootProcess time (root), or the first
// event seen (processes whose fork record was lost). End: exit, or Finish().
//
// Syscall span: name and syscall.name = the syscall's name ("openat"),
// syscall.number (int), syscall.args / syscall.result (strace-style text from
// agent/strace/format.h), syscall.duration_us (double, µs), thread.id
// (int). start = event start converted to Unix ns, end = start + duration
// (= start for calls that do not return, like exit_group). A return value in
// -4095..-1 sets status ERROR with the errno name ("ENOENT") as message.
//
// Resource (one per process, in each batch where it has spans): service.name,
// host.name, os.type, process.pid, process.parent_pid,
// process.executable.path, process.executable.name, process.command_line,
// telemetry.sdk.{name,language,version}, then the extra attributes. It is
// written when the batch is handed over, so it describes the process as it is
// then: after an exec, the new program (service.name included) for every span
// of that process in the batch.
//
// Attribute names follow the OpenTelemetry semantic conventions for process
// and service resources (semconv: resource/process.md, resource/service.md,
// resource/host.md, resource/os.md, resource/README.md#telemetry-sdk) and use
// `syscall.*` / `thread.id` for syscall spans.
#ifndef TRACER_AGENT_SPANS_SPAN_BUILDER_H_
#define TRACER_AGENT_SPANS_SPAN_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "agent/capture/events.h"
#include "agent/spans/span_batch.h"
#include "agent/spans/trace_context.h"
#include "common/clock.h"
#include "google/protobuf/arena.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "otlp/wire/span_record.h"

namespace tracer::spans {

// Receives finished batches. Implementations decide where batches go (WAL,
// exporter, file); they may keep the shared_ptr as long as they like.
// OnBatch is called on the thread that feeds the SpanBuilder.
class BatchSink {
 public:
  virtual ~BatchSink() = default;
  virtual void OnBatch(std::shared_ptr<const SpanBatch> batch) = 0;
};

struct SpanBuilderOptions {
  // The caller's W3C trace context (traceparent/tracestate). When set, all
  // spans use its trace id, trace flags and tracestate, and the root process
  // span is a child of its parent span id. When unset, a new trace id is
  // generated and spans carry the sampled flag.
  std::optional<TraceContext> parent;
  // service.name for every process. Empty: each process's executable name
  // (semconv service.name is "logical name of the service"; for a traced
  // command that is the program).
  std::string service_name;
  // host.name of every resource; omitted when empty.
  std::string host_name;
  // Extra resource attributes (string values), added after the standard
  // ones, e.g. {"tracer.session.id", "s-42"}. A key equal to a standard key
  // replaces the standard value.
  std::vector<std::pair<std::string, std::string>> resource_attributes;
  // A batch is handed to the sink as soon as it holds this many spans
  // (OTEL_BSP_MAX_EXPORT_BATCH_SIZE). Must be >= 1.
  size_t max_batch_spans = 512;
  // CLOCK_MONOTONIC -> Unix conversion for every timestamp.
  common::ClockOffset clock = common::ClockOffset::Measure();
  // Best-effort reads of /proc/<pid>/{exe,cmdline,stat} to learn a process's
  // executable, command line and parent when no event has told us (a root
  // process we attached to, an exec whose argv was not captured). Tests
  // feeding synthetic pids turn this off.
  bool read_proc = true;
};

// What the builder has produced so far.
struct SpanBuilderCounters {
  uint64_t syscall_spans = 0;
  uint64_t process_spans = 0;
  uint64_t batches = 0;
  // Processes first seen through a syscall (their fork/exec record was not
  // delivered, e.g. lost to a full ring buffer); they get a process span
  // starting at that syscall.
  uint64_t processes_discovered_late = 0;
  // Spans built elsewhere (HTTP spans) added with AddSpan().
  uint64_t added_spans = 0;
  // Spans refused by AddSpan() because their own sampled flag is off while
  // this builder's batches are exported (see AddSpan()).
  uint64_t added_spans_unsampled = 0;
};

// Turns capture events into spans and batches.
//
// Thread-safety: none. One thread calls everything (the thread that polls the
// EventSource); the BatchSink is called synchronously from that thread.
class SpanBuilder : public capture::EventSink {
 public:
  // `sink` receives every batch; it may be nullptr (batches are built and
  // dropped, e.g. when nothing is exported), else it must outlive the
  // builder. A new trace id is drawn here unless options.parent is set.
  SpanBuilder(SpanBuilderOptions options, BatchSink* sink);
  ~SpanBuilder() override;

  SpanBuilder(const SpanBuilder&) = delete;
  SpanBuilder& operator=(const SpanBuilder&) = delete;

  // Declares process `tgid` that tracing started with (the command tracectl
  // spawned, or a process it attached to) and opens its process span at
  // `start_mono_ns` (CLOCK_MONOTONIC ns). Its span's parent is the options'
  // parent span, or none. With read_proc, its executable, command line and
  // parent pid are read from /proc now; a later exec updates them.
  void AddRootProcess(uint32_t tgid, uint64_t start_mono_ns);

  // EventSink. OnSyscall appends one syscall span; OnProcess opens (kFork),
  // renames and re-describes (kExec) or ends (kExit) a process span. Either
  // may hand a full batch to the sink.
  void OnSyscall(const capture::SyscallEvent& event) override;
  void OnProcess(const capture::ProcessEvent& event) override;

  // Adds a span built elsewhere (an HTTP span, agent/protocols/http1) to process
  // `tgid`'s ResourceSpans in the current batch, so it shares the process's
  // resource and batching; may hand a full batch to the sink. The span is
  // taken as is: its trace id, ids, parent, times (Unix ns) and flags are
  // the caller's. A process the builder does not know is discovered like a
  // syscall's (ProcessFor: /proc when read_proc), with the span's start time.
  //
  // Sampling (W3C Trace Context §3.2.2.5.1): SpanBatch::sampled is one flag
  // for the whole batch. A span whose flags have the sampled bit off (a
  // server span joining a caller's unsampled trace) is therefore dropped and
  // counted (added_spans_unsampled) when this builder's batches are
  // sampled, rather than exported against its caller's decision. When the
  // builder itself is unsampled, every span is kept (its batches are only
  // displayed locally).
  //
  // The record form: every byte `span` views (strings, attribute and event
  // arrays) is copied into the batch, so the caller's storage may go away
  // when the call returns.
  void AddSpan(uint32_t tgid, const otlp::wire::SpanRecord& span);

  // The same for a protobuf Span, converted into a record (its strings
  // copied into the batch). Attribute values the records cannot hold (kvlist
  // values, arrays of anything but strings, no value) are left out and
  // counted in the span's dropped_attributes_count; ids shorter or longer
  // than 16 / 8 bytes are zero-padded / cut. `span` is either on
  // span_arena() or any other arena (left there) or a heap object the
  // builder takes over and deletes.
  void AddSpan(uint32_t tgid, opentelemetry::proto::trace::v1::Span* span);
  // The same for a span passed by value.
  void AddSpan(uint32_t tgid, const opentelemetry::proto::trace::v1::Span& span);

  // An arena for building a protobuf span that AddSpan() takes next. Valid
  // until the next call into the builder (its memory is reused once the
  // current batch has been handed over).
  google::protobuf::Arena* span_arena() { return &message_arena_; }

  // Hands the current batch to the sink if it holds any span.
  void Flush();

  // Ends every still-open process span at `now_mono_ns` (without an exit
  // code: the process outlived the trace) and flushes.
  void Finish(uint64_t now_mono_ns);

  // The trace id of every span of this builder.
  const TraceId& trace_id() const { return trace_id_; }

  // The process span id of `tgid`, or nullopt if the builder does not know
  // the process (never seen, or forgotten a while after it exited).
  std::optional<SpanId> ProcessSpanId(uint32_t tgid) const;

  const SpanBuilderCounters& counters() const { return counters_; }

 private:
  struct Process;

  Process& NewProcess(uint32_t tgid, uint64_t start_mono_ns, const Process* parent);
  Process& ProcessFor(uint32_t tgid, uint64_t ts_mono_ns);
  // The resource index of `p` in the current batch (opened on first use).
  size_t ResourceOf(Process& p);
  // A new record in `p`'s resource with the builder's trace id, a fresh span
  // id, flags, trace state and kind INTERNAL.
  otlp::wire::SpanRecord& NewSpan(Process& p);
  // The process a span added from outside belongs to.
  Process& ProcessForAdded(uint32_t tgid, uint64_t start_unix_ns);
  void SpanAdded();
  void EndProcessSpan(Process& p, uint64_t end_mono_ns, const int32_t* wait_status);
  void FillResource(const Process& p);
  void ForgetOldExitedProcesses();
  void StartBatch();

  const SpanBuilderOptions options_;
  BatchSink* const sink_;
  LocalIdGenerator ids_;  // the builder is single-threaded
  TraceId trace_id_;
  uint32_t span_flags_ = kTraceFlagSampled;
  bool sampled_ = true;

  absl::flat_hash_map<uint32_t, std::unique_ptr<Process>> processes_;
  std::vector<uint32_t> exited_order_;  // tgids of exited processes, oldest first
  Process* last_ = nullptr;             // cache for runs of one process's syscalls

  std::shared_ptr<SpanBatch> batch_;
  uint64_t batch_seq_ = 0;
  std::string_view batch_trace_state_;  // the parent's tracestate, in batch_'s arena
  std::string text_;                    // strace-style text, formatted here first
  std::vector<otlp::wire::Attribute> resource_scratch_;
  google::protobuf::Arena message_arena_;  // span_arena(); reset per batch
  std::vector<Process*> batch_processes_;  // processes with spans in batch_
  // Processes replaced (pid reuse) while they had spans in batch_; kept
  // until the batch is handed over, when their resource is written.
  std::vector<std::unique_ptr<Process>> retired_;

  SpanBuilderCounters counters_;
};

// Decodes a wait(2) status (ProcessEvent::exit_code) into the process's exit
// code. A normal exit gives WEXITSTATUS (0-255). A death by signal N gives
// 128+N, the shell convention ($? after `kill -9` is 137), and sets
// `*signal_name` (if non-null) to the signal's name ("SIGKILL"); otherwise
// `*signal_name` is cleared. Thread-safe.
int ExitCodeFromWaitStatus(int32_t wait_status, std::string* signal_name);

}  // namespace tracer::spans

#endif  // TRACER_AGENT_SPANS_SPAN_BUILDER_H_
