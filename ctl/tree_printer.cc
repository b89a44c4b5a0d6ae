#include "ctl/tree_printer.h"

#include <sys/wait.h>
#include <csignal>
#include <cstring>

#include "absl/strings/str_cat.h"

#include "absl/strings/str_format.h"
#include "agent/strace/format.h"
#include "otlp/semconv.h"
#include "syscalls/syscall_table.h"

namespace tracer::ctl {
namespace {

using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::trace::v1::Span;

const AnyValue* Attr(const Span& span, const std::string& key) {
  for (const auto& kv : span.attributes()) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

std::string StringAttr(const Span& span, const std::string& key) {
  const AnyValue* v = Attr(span, key);
  return v != nullptr && v->has_string_value() ? v->string_value() : "";
}

// The tree's indentation for `depth`, appended to `*out`.
void AppendPrefix(int depth, std::string* out) {
  for (int i = 0; i < depth; ++i) *out += "│ ";
}

}  // namespace

std::string HttpSpanLine(const Span& span) {
  const bool server = span.kind() == Span::SPAN_KIND_SERVER;
  std::string method = StringAttr(span, otlp::semconv::kHttpRequestMethod);
  if (method == "_OTHER") method = StringAttr(span, otlp::semconv::kHttpRequestMethodOriginal);
  if (method.empty()) method = "?";
  std::string target = server ? StringAttr(span, otlp::semconv::kUrlPath)
                              : StringAttr(span, otlp::semconv::kUrlFull);
  if (server) {
    const std::string query = StringAttr(span, otlp::semconv::kUrlQuery);
    if (!query.empty()) target += "?" + query;
  }
  if (target.empty()) target = "(request not seen)";
  std::string outcome;
  if (const AnyValue* code = Attr(span, otlp::semconv::kHttpResponseStatusCode); code != nullptr) {
    outcome = absl::StrCat(code->int_value());
  } else {
    outcome = "no response";
  }
  const std::string anomaly = StringAttr(span, "tracer.http.anomaly");
  if (!anomaly.empty()) absl::StrAppend(&outcome, " (", anomaly, ")");
  const double ms = span.end_time_unix_nano() >= span.start_time_unix_nano()
                        ? (span.end_time_unix_nano() - span.start_time_unix_nano()) / 1e6
                        : 0.0;
  return absl::StrFormat("HTTP %s %s %s -> %s (%.1f ms)", server ? "server" : "client", method,
                         target, outcome, ms);
}

void TreePrinter::OnHttpSpan(uint32_t tgid, const Span& span) {
  Proc& p = Lookup(tgid);
  Emit("%s⇄ %s\n", Prefix(p.depth + 1), HttpSpanLine(span));
  ++http_lines_;
}

void TreePrinter::AddRoot(uint32_t tgid, const std::string& name) {
  Proc& p = procs_[tgid];
  p.depth = 0;
  p.name = name;
  Emit("%s▶ %s [%u]\n", Prefix(0), name, tgid);
}

std::string TreePrinter::Prefix(int depth) const {
  std::string s;
  AppendPrefix(depth, &s);
  return s;
}

TreePrinter::~TreePrinter() { Flush(); }

void TreePrinter::Emitted() {
  if (pending_.size() >= kFlushBytes) Flush();
}

void TreePrinter::Flush() {
  if (pending_.empty()) return;
  std::fwrite(pending_.data(), 1, pending_.size(), out_);
  std::fflush(out_);
  pending_.clear();
}

TreePrinter::Proc& TreePrinter::Lookup(uint32_t tgid) {
  // A process first seen through a syscall (attached mid-flight) sits at the
  // top level.
  return procs_[tgid];
}

void TreePrinter::OnSyscall(const capture::SyscallEvent& e) {
  Proc& p = Lookup(e.tgid);
  // The line is formatted straight into the pending output (no temporaries).
  AppendPrefix(p.depth + 1, &pending_);
  if (e.tid != e.tgid) absl::StrAppendFormat(&pending_, "[tid %u] ", e.tid);
  pending_ += syscalls::SyscallName(e.nr);
  pending_ += '(';
  strace::AppendArgs(e, strace::FormatOptions(), &pending_);
  pending_ += ") = ";
  strace::AppendResult(e, &pending_);
  absl::StrAppendFormat(&pending_, " <%.6f>\n", e.duration_ns / 1e9);
  Emitted();
  ++lines_;
}

void TreePrinter::OnProcess(const capture::ProcessEvent& e) {
  switch (e.kind) {
    case capture::ProcessEvent::Kind::kFork: {
      Proc& parent = Lookup(e.parent_tgid);
      Proc& child = procs_[e.tgid];
      child.depth = parent.depth + 1;
      child.name = parent.name;
      child.start_ns = e.ts_ns;
      Emit("%s▶ %s [%u] forked by [%u]\n", Prefix(child.depth), child.name, e.tgid, e.parent_tgid);
      break;
    }
    case capture::ProcessEvent::Kind::kExec: {
      Proc& p = Lookup(e.tgid);
      std::string name = e.filename;
      size_t slash = name.rfind('/');
      if (slash != std::string::npos) name = name.substr(slash + 1);
      if (name.empty()) name = e.comm;
      p.name = name;
      if (p.start_ns == 0) p.start_ns = e.ts_ns;
      Emit("%s● %s [%u] exec %s\n", Prefix(p.depth), p.name, e.tgid, e.filename);
      break;
    }
    case capture::ProcessEvent::Kind::kExit: {
      Proc& p = Lookup(e.tgid);
      std::string how;
      if (WIFSIGNALED(e.exit_code)) {
        how = absl::StrFormat("killed by SIG%s", sigabbrev_np(WTERMSIG(e.exit_code)));
      } else {
        how = absl::StrFormat("exit %d", WEXITSTATUS(e.exit_code));
      }
      if (p.start_ns != 0 && e.ts_ns >= p.start_ns) {
        Emit("%s◀ %s [%u] %s <%.6f>\n", Prefix(p.depth), p.name, e.tgid, how,
             (e.ts_ns - p.start_ns) / 1e9);
      } else {
        Emit("%s◀ %s [%u] %s\n", Prefix(p.depth), p.name, e.tgid, how);
      }
      // Kept (marked) rather than erased: HTTP spans of this process may
      // end after its exit record.
      p.exited = true;
      break;
    }
  }
}

}  // namespace tracer::ctl
