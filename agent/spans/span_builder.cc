#include "agent/spans/span_builder.h"

#include <string.h>
#include <sys/wait.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/spans/attributes.h"
#include "agent/spans/proc_info.h"
#include "agent/strace/format.h"
#include "otlp/semconv.h"
#include "syscalls/syscall_table.h"

namespace tracer::spans {
namespace {

using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using opentelemetry::proto::resource::v1::Resource;
using opentelemetry::proto::trace::v1::ResourceSpans;
using opentelemetry::proto::trace::v1::Span;
using opentelemetry::proto::trace::v1::Status;

// Exited processes are remembered for a while so syscall records delivered
// after the exit record (ring-buffer order is per CPU) still find their span.
constexpr size_t kMaxExitedProcessesKept = 1024;

google::protobuf::ArenaOptions BatchArenaOptions() {
  google::protobuf::ArenaOptions o;
  // A 512-span batch is a few hundred KiB; grow to large blocks quickly.
  o.start_block_size = 64 << 10;
  o.max_block_size = 1 << 20;
  return o;
}

void SetBytes(std::string* dst, const uint8_t* data, size_t n) {
  dst->assign(reinterpret_cast<const char*>(data), n);
}

}  // namespace

SpanBatch::SpanBatch()
    : arena(BatchArenaOptions()),
      mutable_request_(google::protobuf::Arena::CreateMessage<ExportTraceServiceRequest>(&arena)),
      request(*mutable_request_) {}

// What the builder knows about one traced process.
struct SpanBuilder::Process {
  uint32_t tgid = 0;
  std::optional<uint32_t> parent_pid;
  std::string exe_path;      // process.executable.path; may be empty
  std::string exe_name;      // process.executable.name (basename, or comm)
  std::string command_line;  // process.command_line; may be empty
  SpanId span_id = {};
  std::optional<SpanId> parent_span_id;
  uint64_t start_mono_ns = 0;
  bool open = true;
  // Where this process's spans go in the current batch; valid only while
  // batch_seq == SpanBuilder::batch_seq_.
  uint64_t batch_seq = 0;
  ResourceSpans* resource_spans = nullptr;
  google::protobuf::RepeatedPtrField<Span>* spans = nullptr;
};

SpanBuilder::SpanBuilder(SpanBuilderOptions options, BatchSink* sink)
    : options_(std::move(options)), sink_(sink) {
  if (options_.parent) {
    trace_id_ = options_.parent->trace_id;
    span_flags_ = options_.parent->flags;
    sampled_ = options_.parent->sampled();
  } else {
    trace_id_ = ids_.NewTraceId();
  }
  StartBatch();
}

SpanBuilder::~SpanBuilder() = default;

void SpanBuilder::StartBatch() {
  batch_ = std::make_shared<SpanBatch>();
  batch_->sampled = sampled_;
  ++batch_seq_;
  batch_processes_.clear();
  retired_.clear();
}

std::optional<SpanId> SpanBuilder::ProcessSpanId(uint32_t tgid) const {
  auto it = processes_.find(tgid);
  if (it == processes_.end()) return std::nullopt;
  return it->second->span_id;
}

SpanBuilder::Process& SpanBuilder::NewProcess(uint32_t tgid, uint64_t start_mono_ns,
                                              const Process* parent) {
  auto p = std::make_unique<Process>();
  p->tgid = tgid;
  p->span_id = ids_.NewSpanId();
  p->start_mono_ns = start_mono_ns;
  if (parent != nullptr) {
    // A fork child runs its parent's program until it execs.
    p->parent_pid = parent->tgid;
    p->parent_span_id = parent->span_id;
    p->exe_path = parent->exe_path;
    p->exe_name = parent->exe_name;
    p->command_line = parent->command_line;
  } else if (options_.parent) {
    p->parent_span_id = options_.parent->parent_span_id;
  }
  auto& slot = processes_[tgid];
  if (slot != nullptr) {
    // pid reuse: the old process's spans in this batch still point at it.
    if (slot->batch_seq == batch_seq_) retired_.push_back(std::move(slot));
    last_ = nullptr;
  }
  slot = std::move(p);
  return *slot;
}

SpanBuilder::Process& SpanBuilder::ProcessFor(uint32_t tgid, uint64_t ts_mono_ns) {
  auto it = processes_.find(tgid);
  if (it != processes_.end()) return *it->second;
  // Its fork record never reached us; learn what we can from /proc.
  ++counters_.processes_discovered_late;
  const Process* parent = nullptr;
  std::optional<uint32_t> ppid;
  if (options_.read_proc) {
    ppid = ReadParentPid(tgid);
    if (ppid) {
      auto pit = processes_.find(*ppid);
      if (pit != processes_.end()) parent = pit->second.get();
    }
  }
  Process& p = NewProcess(tgid, ts_mono_ns, parent);
  p.parent_pid = ppid;
  if (options_.read_proc) {
    if (auto exe = ReadExePath(tgid)) {
      p.exe_path = *exe;
      p.exe_name = std::string(Basename(*exe));
    }
    if (auto cmd = ReadCommandLine(tgid)) p.command_line = *cmd;
  }
  return p;
}

void SpanBuilder::AddRootProcess(uint32_t tgid, uint64_t start_mono_ns) {
  if (processes_.contains(tgid)) return;
  Process& p = NewProcess(tgid, start_mono_ns, nullptr);
  if (options_.read_proc) {
    p.parent_pid = ReadParentPid(tgid);
    if (auto exe = ReadExePath(tgid)) {
      p.exe_path = *exe;
      p.exe_name = std::string(Basename(*exe));
    }
    if (auto cmd = ReadCommandLine(tgid)) p.command_line = *cmd;
  }
}

google::protobuf::RepeatedPtrField<Span>& SpanBuilder::SpansOf(Process& p) {
  if (p.batch_seq != batch_seq_) {
    ResourceSpans* rs = batch_->mutable_request()->add_resource_spans();
    auto* ss = rs->add_scope_spans();
    ss->mutable_scope()->set_name(kScopeName);
    ss->mutable_scope()->set_version(kScopeVersion);
    p.batch_seq = batch_seq_;
    p.resource_spans = rs;
    p.spans = ss->mutable_spans();
    batch_processes_.push_back(&p);
  }
  return *p.spans;
}

Span& SpanBuilder::AddSpan(Process& p) {
  Span* s = SpansOf(p).Add();
  SetBytes(s->mutable_trace_id(), trace_id_.data(), trace_id_.size());
  SpanId id = ids_.NewSpanId();
  SetBytes(s->mutable_span_id(), id.data(), id.size());
  s->set_flags(span_flags_);
  if (options_.parent && !options_.parent->trace_state.empty()) {
    s->set_trace_state(options_.parent->trace_state);
  }
  s->set_kind(Span::SPAN_KIND_INTERNAL);
  return *s;
}

void SpanBuilder::AddSpan(uint32_t tgid, Span span) { AddSpan(tgid, new Span(std::move(span))); }

void SpanBuilder::AddSpan(uint32_t tgid, Span* span) {
  if (sampled_ && (span->flags() & kTraceFlagSampled) == 0) {
    ++counters_.added_spans_unsampled;
    if (span->GetArena() == nullptr) delete span;  // an arena's span goes with its batch
    return;
  }
  // The span's start in the events' clock (ToUnixNs undone), in case the
  // process is discovered here.
  const uint64_t start_mono = static_cast<uint64_t>(
      static_cast<int64_t>(span->start_time_unix_nano()) - options_.clock.offset_ns());
  Process& p = ProcessFor(tgid, start_mono);
  // AddAllocated links a span on the batch's own arena in as is, hands a
  // heap object to the arena (Arena::Own) and copies another arena's.
  SpansOf(p).AddAllocated(span);
  ++counters_.added_spans;
  SpanAdded();
}

void SpanBuilder::SpanAdded() {
  if (++batch_->span_count >= options_.max_batch_spans) Flush();
}

void SpanBuilder::OnSyscall(const capture::SyscallEvent& e) {
  Process& p =
      (last_ != nullptr && last_->tgid == e.tgid) ? *last_ : ProcessFor(e.tgid, e.start_ns);
  last_ = &p;

  // A successful exec carries the new program's argv: the best command line.
  if (e.ret == 0 && !e.no_return) {
    for (const capture::Blob& b : e.blobs) {
      if (b.kind == capture::BlobKind::kArgv) {
        p.command_line = JoinArgv(b.data, b.truncated);
        break;
      }
    }
  }

  Span& s = AddSpan(p);
  SetBytes(s.mutable_parent_span_id(), p.span_id.data(), p.span_id.size());
  std::string_view name = syscalls::SyscallName(e.nr);
  s.set_name(name.data(), name.size());
  const uint64_t start = options_.clock.ToUnixNs(e.start_ns);
  s.set_start_time_unix_nano(start);
  s.set_end_time_unix_nano(e.no_return ? start : start + e.duration_ns);

  Attributes& attrs = *s.mutable_attributes();
  attrs.Reserve(6);
  AddString(attrs, otlp::semconv::kSyscallName, name);
  AddInt(attrs, otlp::semconv::kSyscallNumber, e.nr);
  AddString(attrs, otlp::semconv::kSyscallArgs, strace::FormatArgs(e));
  AddString(attrs, otlp::semconv::kSyscallResult, strace::FormatResult(e));
  AddDouble(attrs, otlp::semconv::kSyscallDurationUs, static_cast<double>(e.duration_ns) / 1000.0);
  AddInt(attrs, otlp::semconv::kThreadId, e.tid);

  if (!e.no_return && strace::IsError(e.ret)) {
    Status* st = s.mutable_status();
    st->set_code(Status::STATUS_CODE_ERROR);
    const int err = static_cast<int>(-e.ret);
    std::string_view errno_name = syscalls::ErrnoName(err);
    if (errno_name.empty()) {
      st->set_message(absl::StrCat("errno ", err));
    } else {
      st->set_message(errno_name.data(), errno_name.size());
    }
  }
  ++counters_.syscall_spans;
  SpanAdded();
}

void SpanBuilder::OnProcess(const capture::ProcessEvent& e) {
  switch (e.kind) {
    case capture::ProcessEvent::Kind::kFork: {
      auto pit = processes_.find(e.parent_tgid);
      const Process* parent = pit == processes_.end() ? nullptr : pit->second.get();
      auto old = processes_.find(e.tgid);
      if (old != processes_.end() && old->second->open) {
        // The pid was reused before we saw the old process exit.
        EndProcessSpan(*old->second, e.ts_ns, nullptr);
      }
      Process& p = NewProcess(e.tgid, e.ts_ns, parent);
      p.parent_pid = e.parent_tgid;
      if (p.exe_name.empty()) p.exe_name = e.comm;
      return;
    }
    case capture::ProcessEvent::Kind::kExec: {
      Process& p = ProcessFor(e.tgid, e.ts_ns);
      if (!e.filename.empty()) {
        p.exe_path = e.filename;
        p.exe_name = std::string(Basename(e.filename));
      } else {
        p.exe_path.clear();
        p.exe_name = e.comm;
      }
      // The exec's own syscall record (with argv, if captured) follows and
      // refines this.
      std::optional<std::string> cmd;
      if (options_.read_proc) cmd = ReadCommandLine(e.tgid);
      p.command_line = cmd ? std::move(*cmd) : e.filename;
      return;
    }
    case capture::ProcessEvent::Kind::kExit: {
      Process& p = ProcessFor(e.tgid, e.ts_ns);
      if (p.open) EndProcessSpan(p, e.ts_ns, &e.exit_code);
      return;
    }
  }
}

void SpanBuilder::EndProcessSpan(Process& p, uint64_t end_mono_ns, const int32_t* wait_status) {
  p.open = false;
  Span& s = AddSpan(p);
  // AddSpan drew a fresh id; the process span's id is the one its children
  // already reference.
  SetBytes(s.mutable_span_id(), p.span_id.data(), p.span_id.size());
  if (p.parent_span_id) {
    SetBytes(s.mutable_parent_span_id(), p.parent_span_id->data(), p.parent_span_id->size());
  }
  if (!p.exe_name.empty()) {
    s.set_name(p.exe_name);
  } else {
    s.set_name(absl::StrCat("pid ", p.tgid));
  }
  s.set_start_time_unix_nano(options_.clock.ToUnixNs(p.start_mono_ns));
  s.set_end_time_unix_nano(options_.clock.ToUnixNs(std::max(end_mono_ns, p.start_mono_ns)));
  Attributes& attrs = *s.mutable_attributes();
  AddInt(attrs, otlp::semconv::kProcessPid, p.tgid);
  if (wait_status != nullptr) {
    std::string signal_name;
    const int code = ExitCodeFromWaitStatus(*wait_status, &signal_name);
    AddInt(attrs, otlp::semconv::kProcessExitCode, code);
    if (!signal_name.empty()) {
      s.mutable_status()->set_code(Status::STATUS_CODE_ERROR);
      s.mutable_status()->set_message(signal_name);
    } else if (code != 0) {
      s.mutable_status()->set_code(Status::STATUS_CODE_ERROR);
      s.mutable_status()->set_message(absl::StrCat("exit code ", code));
    }
    exited_order_.push_back(p.tgid);
  }
  ++counters_.process_spans;
  SpanAdded();
}

void SpanBuilder::FillResource(const Process& p, Resource& r) const {
  Attributes& attrs = *r.mutable_attributes();
  attrs.Reserve(12 + static_cast<int>(options_.resource_attributes.size()));
  // semconv service.name: unknown_service:<executable> when nobody named it.
  if (!options_.service_name.empty()) {
    AddString(attrs, otlp::semconv::kServiceName, options_.service_name);
  } else if (!p.exe_name.empty()) {
    AddString(attrs, otlp::semconv::kServiceName, p.exe_name);
  } else {
    AddString(attrs, otlp::semconv::kServiceName, "unknown_service");
  }
  if (!options_.host_name.empty()) AddString(attrs, otlp::semconv::kHostName, options_.host_name);
  AddString(attrs, otlp::semconv::kOsType, "linux");
  AddInt(attrs, otlp::semconv::kProcessPid, p.tgid);
  if (p.parent_pid) AddInt(attrs, otlp::semconv::kProcessParentPid, *p.parent_pid);
  if (!p.exe_path.empty()) AddString(attrs, otlp::semconv::kProcessExecutablePath, p.exe_path);
  if (!p.exe_name.empty()) AddString(attrs, otlp::semconv::kProcessExecutableName, p.exe_name);
  if (!p.command_line.empty()) AddString(attrs, otlp::semconv::kProcessCommandLine, p.command_line);
  AddString(attrs, otlp::semconv::kTelemetrySdkName, kSdkName);
  AddString(attrs, otlp::semconv::kTelemetrySdkLanguage, kSdkLanguage);
  AddString(attrs, otlp::semconv::kTelemetrySdkVersion, kScopeVersion);
  for (const auto& [key, value] : options_.resource_attributes) SetString(attrs, key, value);
}

void SpanBuilder::Flush() {
  if (batch_->span_count == 0) return;
  // Resources are written now, so each reflects its process as of this batch
  // (an exec earlier in the batch renamed the service).
  for (Process* p : batch_processes_) FillResource(*p, *p->resource_spans->mutable_resource());
  ++counters_.batches;
  std::shared_ptr<const SpanBatch> done = std::move(batch_);
  StartBatch();
  ForgetOldExitedProcesses();
  if (sink_ != nullptr) sink_->OnBatch(std::move(done));
}

void SpanBuilder::ForgetOldExitedProcesses() {
  // Only between batches: no process is referenced by the (empty) batch.
  if (exited_order_.size() <= kMaxExitedProcessesKept) return;
  const size_t drop = exited_order_.size() - kMaxExitedProcessesKept;
  for (size_t i = 0; i < drop; ++i) {
    auto it = processes_.find(exited_order_[i]);
    // A reused pid may have started a new, open process: keep that one.
    if (it != processes_.end() && !it->second->open) processes_.erase(it);
  }
  exited_order_.erase(exited_order_.begin(), exited_order_.begin() + drop);
  last_ = nullptr;
}

void SpanBuilder::Finish(uint64_t now_mono_ns) {
  // Collected first: ending spans may flush, and flushing may forget exited
  // processes (never open ones).
  std::vector<Process*> open;
  for (auto& [tgid, p] : processes_) {
    if (p->open) open.push_back(p.get());
  }
  std::sort(open.begin(), open.end(),
            [](const Process* a, const Process* b) { return a->start_mono_ns < b->start_mono_ns; });
  for (Process* p : open) EndProcessSpan(*p, now_mono_ns, nullptr);
  Flush();
}

int ExitCodeFromWaitStatus(int32_t wait_status, std::string* signal_name) {
  if (signal_name != nullptr) signal_name->clear();
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    if (signal_name != nullptr) {
      // sigabbrev_np (glibc >= 2.32) gives "KILL" for SIGKILL; NULL for
      // real-time and unknown signals.
      const char* abbrev = sigabbrev_np(sig);
      *signal_name = abbrev != nullptr ? absl::StrCat("SIG", abbrev) : absl::StrCat("signal ", sig);
    }
    return 128 + sig;
  }
  return WEXITSTATUS(wait_status);
}

}  // namespace tracer::spans
