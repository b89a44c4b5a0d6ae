#include "agent/spans/span_builder.h"

#include <string.h>
#include <sys/wait.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/spans/proc_info.h"
#include "agent/strace/format.h"
#include "otlp/semconv.h"
#include "syscalls/syscall_table.h"

namespace tracer::spans {
namespace {

namespace wire = otlp::wire;
using opentelemetry::proto::trace::v1::Span;
using wire::Attribute;
using wire::SpanRecord;

// Exited processes are remembered for a while so syscall records delivered
// after the exit record (ring-buffer order is per CPU) still find their span.
constexpr size_t kMaxExitedProcessesKept = 1024;

// At most this many spans' worth of room is reserved per batch up front.
constexpr size_t kMaxReservedSpans = 4096;

// A message id into a record's fixed-size id: zero-padded or cut.
template <size_t N>
void CopyId(const std::string& from, std::array<uint8_t, N>* to) {
  to->fill(0);
  std::memcpy(to->data(), from.data(), std::min(from.size(), N));
}

// Copies `attrs` (their strings and string arrays too) into `arena`.
absl::Span<const Attribute> CopyAttributes(absl::Span<const Attribute> attrs, SpanArena& arena) {
  if (attrs.empty()) return {};
  Attribute* out = arena.AllocateArray<Attribute>(attrs.size());
  for (size_t i = 0; i < attrs.size(); ++i) {
    Attribute a = attrs[i];
    a.key = arena.Copy(a.key);
    a.str = arena.Copy(a.str);
    if (!a.strings.empty()) {
      auto* v = arena.AllocateArray<std::string_view>(a.strings.size());
      for (size_t k = 0; k < a.strings.size(); ++k) v[k] = arena.Copy(a.strings[k]);
      a.strings = absl::Span<const std::string_view>(v, a.strings.size());
    }
    out[i] = a;
  }
  return absl::Span<const Attribute>(out, attrs.size());
}

// Converts message attributes into arena attributes; returns how many could
// not be represented (left out).
uint32_t ConvertAttributes(
    const google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>& kvs,
    SpanArena& arena, absl::Span<const Attribute>* out) {
  using opentelemetry::proto::common::v1::AnyValue;
  if (kvs.empty()) {
    *out = {};
    return 0;
  }
  Attribute* attrs = arena.AllocateArray<Attribute>(static_cast<size_t>(kvs.size()));
  size_t n = 0;
  uint32_t dropped = 0;
  for (const auto& kv : kvs) {
    const std::string_view key = arena.Copy(kv.key());
    const AnyValue& v = kv.value();
    switch (v.value_case()) {
      case AnyValue::kStringValue:
        attrs[n++] = Attribute::String(key, arena.Copy(v.string_value()));
        break;
      case AnyValue::kBoolValue:
        attrs[n++] = Attribute::Bool(key, v.bool_value());
        break;
      case AnyValue::kIntValue:
        attrs[n++] = Attribute::Int(key, v.int_value());
        break;
      case AnyValue::kDoubleValue:
        attrs[n++] = Attribute::Double(key, v.double_value());
        break;
      case AnyValue::kBytesValue:
        attrs[n++] = Attribute::Bytes(key, arena.Copy(v.bytes_value()));
        break;
      case AnyValue::kArrayValue: {
        const auto& values = v.array_value().values();
        bool strings = true;
        for (const AnyValue& e : values) strings = strings && e.has_string_value();
        if (!strings) {
          ++dropped;
          break;
        }
        auto* views = arena.AllocateArray<std::string_view>(static_cast<size_t>(values.size()));
        for (int k = 0; k < values.size(); ++k) views[k] = arena.Copy(values[k].string_value());
        attrs[n++] = Attribute::StringArray(
            key, absl::Span<const std::string_view>(views, static_cast<size_t>(values.size())));
        break;
      }
      default:
        ++dropped;
        break;
    }
  }
  *out = absl::Span<const Attribute>(attrs, n);
  return dropped;
}

// Sets the string attribute `key` in `attrs`: replaces the first entry with
// that key, else appends.
void SetString(std::vector<Attribute>& attrs, std::string_view key, std::string_view value) {
  for (Attribute& a : attrs) {
    if (a.key == key) {
      a = Attribute::String(a.key, value);
      return;
    }
  }
  attrs.push_back(Attribute::String(key, value));
}

}  // namespace

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
  size_t resource = 0;
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
  batch_ = std::make_shared<SpanBatch>(std::min(options_.max_batch_spans, kMaxReservedSpans));
  batch_->sampled = sampled_;
  batch_trace_state_ =
      options_.parent ? batch_->arena().Copy(options_.parent->trace_state) : std::string_view();
  ++batch_seq_;
  batch_processes_.clear();
  retired_.clear();
  message_arena_.Reset();
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

size_t SpanBuilder::ResourceOf(Process& p) {
  if (p.batch_seq != batch_seq_) {
    p.batch_seq = batch_seq_;
    p.resource = batch_->AddResource();
    batch_processes_.push_back(&p);
  }
  return p.resource;
}

SpanRecord& SpanBuilder::NewSpan(Process& p) {
  SpanRecord& s = batch_->AddSpan(ResourceOf(p));
  std::memcpy(s.trace_id.data(), trace_id_.data(), trace_id_.size());
  const SpanId id = ids_.NewSpanId();
  std::memcpy(s.span_id.data(), id.data(), id.size());
  s.flags = span_flags_;
  s.trace_state = batch_trace_state_;
  s.kind = wire::SpanKind::kInternal;
  return s;
}

SpanBuilder::Process& SpanBuilder::ProcessForAdded(uint32_t tgid, uint64_t start_unix_ns) {
  // The span's start in the events' clock (ToUnixNs undone), in case the
  // process is discovered here.
  const uint64_t start_mono =
      static_cast<uint64_t>(static_cast<int64_t>(start_unix_ns) - options_.clock.offset_ns());
  return ProcessFor(tgid, start_mono);
}

void SpanBuilder::AddSpan(uint32_t tgid, const SpanRecord& span) {
  if (sampled_ && (span.flags & kTraceFlagSampled) == 0) {
    ++counters_.added_spans_unsampled;
    return;
  }
  Process& p = ProcessForAdded(tgid, span.start_time_unix_nano);
  SpanArena& arena = batch_->arena();
  SpanRecord& s = batch_->AddSpan(ResourceOf(p));
  s = span;
  s.trace_state = arena.Copy(span.trace_state);
  s.name = arena.Copy(span.name);
  s.status_message = arena.Copy(span.status_message);
  s.attributes = CopyAttributes(span.attributes, arena);
  if (!span.events.empty()) {
    auto* events = arena.AllocateArray<wire::Event>(span.events.size());
    for (size_t i = 0; i < span.events.size(); ++i) {
      wire::Event e = span.events[i];
      e.name = arena.Copy(e.name);
      e.attributes = CopyAttributes(e.attributes, arena);
      events[i] = e;
    }
    s.events = absl::Span<const wire::Event>(events, span.events.size());
  }
  ++counters_.added_spans;
  SpanAdded();
}

void SpanBuilder::AddSpan(uint32_t tgid, const Span& span) {
  if (sampled_ && (span.flags() & kTraceFlagSampled) == 0) {
    ++counters_.added_spans_unsampled;
    return;
  }
  Process& p = ProcessForAdded(tgid, span.start_time_unix_nano());
  SpanArena& arena = batch_->arena();
  SpanRecord& s = batch_->AddSpan(ResourceOf(p));
  CopyId(span.trace_id(), &s.trace_id);
  CopyId(span.span_id(), &s.span_id);
  CopyId(span.parent_span_id(), &s.parent_span_id);
  s.trace_state = arena.Copy(span.trace_state());
  s.flags = span.flags();
  s.name = arena.Copy(span.name());
  s.kind = static_cast<wire::SpanKind>(span.kind());
  s.start_time_unix_nano = span.start_time_unix_nano();
  s.end_time_unix_nano = span.end_time_unix_nano();
  s.dropped_attributes_count =
      span.dropped_attributes_count() + ConvertAttributes(span.attributes(), arena, &s.attributes);
  if (span.events_size() > 0) {
    auto* events = arena.AllocateArray<wire::Event>(static_cast<size_t>(span.events_size()));
    for (int i = 0; i < span.events_size(); ++i) {
      const Span::Event& from = span.events(i);
      wire::Event& e = events[i];
      e = wire::Event();
      e.time_unix_nano = from.time_unix_nano();
      e.name = arena.Copy(from.name());
      e.dropped_attributes_count = from.dropped_attributes_count() +
                                   ConvertAttributes(from.attributes(), arena, &e.attributes);
    }
    s.events = absl::Span<const wire::Event>(events, static_cast<size_t>(span.events_size()));
  }
  s.dropped_events_count = span.dropped_events_count();
  if (span.has_status()) {
    s.status_code = static_cast<wire::StatusCode>(span.status().code());
    s.status_message = arena.Copy(span.status().message());
  }
  ++counters_.added_spans;
  SpanAdded();
}

void SpanBuilder::AddSpan(uint32_t tgid, Span* span) {
  AddSpan(tgid, static_cast<const Span&>(*span));
  if (span->GetArena() == nullptr) delete span;  // an arena's span goes with its arena
}

void SpanBuilder::SpanAdded() {
  if (batch_->span_count() >= options_.max_batch_spans) Flush();
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

  SpanRecord& s = NewSpan(p);
  std::memcpy(s.parent_span_id.data(), p.span_id.data(), p.span_id.size());
  const std::string_view name = syscalls::SyscallName(e.nr);  // static storage
  s.name = name;
  const uint64_t start = options_.clock.ToUnixNs(e.start_ns);
  s.start_time_unix_nano = start;
  s.end_time_unix_nano = e.no_return ? start : start + e.duration_ns;

  SpanArena& arena = batch_->arena();
  Attribute* attrs = arena.AllocateArray<Attribute>(6);
  attrs[0] = Attribute::String(otlp::semconv::kSyscallName, name);
  attrs[1] = Attribute::Int(otlp::semconv::kSyscallNumber, e.nr);
  text_.clear();
  strace::AppendArgs(e, strace::FormatOptions(), &text_);
  attrs[2] = Attribute::String(otlp::semconv::kSyscallArgs, arena.Copy(text_));
  text_.clear();
  strace::AppendResult(e, &text_);
  attrs[3] = Attribute::String(otlp::semconv::kSyscallResult, arena.Copy(text_));
  attrs[4] = Attribute::Double(otlp::semconv::kSyscallDurationUs,
                               static_cast<double>(e.duration_ns) / 1000.0);
  attrs[5] = Attribute::Int(otlp::semconv::kThreadId, e.tid);
  s.attributes = absl::Span<const Attribute>(attrs, 6);

  if (!e.no_return && strace::IsError(e.ret)) {
    s.status_code = wire::StatusCode::kError;
    const int err = static_cast<int>(-e.ret);
    const std::string_view errno_name = syscalls::ErrnoName(err);  // static storage
    s.status_message = errno_name.empty() ? arena.Copy(absl::StrCat("errno ", err)) : errno_name;
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
  SpanRecord& s = NewSpan(p);
  // NewSpan drew a fresh id; the process span's id is the one its children
  // already reference.
  std::memcpy(s.span_id.data(), p.span_id.data(), p.span_id.size());
  if (p.parent_span_id) {
    std::memcpy(s.parent_span_id.data(), p.parent_span_id->data(), p.parent_span_id->size());
  }
  SpanArena& arena = batch_->arena();
  s.name = arena.Copy(!p.exe_name.empty() ? p.exe_name : absl::StrCat("pid ", p.tgid));
  s.start_time_unix_nano = options_.clock.ToUnixNs(p.start_mono_ns);
  s.end_time_unix_nano = options_.clock.ToUnixNs(std::max(end_mono_ns, p.start_mono_ns));
  Attribute* attrs = arena.AllocateArray<Attribute>(2);
  size_t n = 0;
  attrs[n++] = Attribute::Int(otlp::semconv::kProcessPid, p.tgid);
  if (wait_status != nullptr) {
    std::string signal_name;
    const int code = ExitCodeFromWaitStatus(*wait_status, &signal_name);
    attrs[n++] = Attribute::Int(otlp::semconv::kProcessExitCode, code);
    if (!signal_name.empty()) {
      s.status_code = wire::StatusCode::kError;
      s.status_message = arena.Copy(signal_name);
    } else if (code != 0) {
      s.status_code = wire::StatusCode::kError;
      s.status_message = arena.Copy(absl::StrCat("exit code ", code));
    }
    exited_order_.push_back(p.tgid);
  }
  s.attributes = absl::Span<const Attribute>(attrs, n);
  ++counters_.process_spans;
  SpanAdded();
}

void SpanBuilder::FillResource(const Process& p) {
  SpanArena& arena = batch_->arena();
  std::vector<Attribute>& attrs = resource_scratch_;
  attrs.clear();
  // semconv service.name: unknown_service:<executable> when nobody named it.
  if (!options_.service_name.empty()) {
    attrs.push_back(Attribute::String(otlp::semconv::kServiceName, options_.service_name));
  } else if (!p.exe_name.empty()) {
    attrs.push_back(Attribute::String(otlp::semconv::kServiceName, p.exe_name));
  } else {
    attrs.push_back(Attribute::String(otlp::semconv::kServiceName, "unknown_service"));
  }
  if (!options_.host_name.empty()) {
    attrs.push_back(Attribute::String(otlp::semconv::kHostName, options_.host_name));
  }
  attrs.push_back(Attribute::String(otlp::semconv::kOsType, "linux"));
  attrs.push_back(Attribute::Int(otlp::semconv::kProcessPid, p.tgid));
  if (p.parent_pid)
    attrs.push_back(Attribute::Int(otlp::semconv::kProcessParentPid, *p.parent_pid));
  if (!p.exe_path.empty()) {
    attrs.push_back(Attribute::String(otlp::semconv::kProcessExecutablePath, p.exe_path));
  }
  if (!p.exe_name.empty()) {
    attrs.push_back(Attribute::String(otlp::semconv::kProcessExecutableName, p.exe_name));
  }
  if (!p.command_line.empty()) {
    attrs.push_back(Attribute::String(otlp::semconv::kProcessCommandLine, p.command_line));
  }
  attrs.push_back(Attribute::String(otlp::semconv::kTelemetrySdkName, kSdkName));
  attrs.push_back(Attribute::String(otlp::semconv::kTelemetrySdkLanguage, kSdkLanguage));
  attrs.push_back(Attribute::String(otlp::semconv::kTelemetrySdkVersion, kScopeVersion));
  for (const auto& [key, value] : options_.resource_attributes) SetString(attrs, key, value);
  // Every view above points at the builder's or the process's strings: the
  // batch gets its own copies.
  batch_->SetResourceAttributes(p.resource, CopyAttributes(attrs, arena));
}

void SpanBuilder::Flush() {
  if (batch_->span_count() == 0) return;
  // Resources are written now, so each reflects its process as of this batch
  // (an exec earlier in the batch renamed the service).
  for (Process* p : batch_processes_) FillResource(*p);
  batch_->Seal();
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
