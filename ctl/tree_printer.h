// The terminal view of `tracectl run`: the span tree as it happens.
//
// One line per syscall in strace's notation (name(args) = result <seconds>),
// indented under the process span it belongs to; forked processes nest under
// their parent. HTTP spans (agent/protocols/http1) get one line each under their
// process, when the exchange ends:
//   ⇄ HTTP server GET /index.html -> 200 (12.3 ms)
//   ⇄ HTTP client GET http://127.0.0.1:8000/x -> 404 (1.2 ms)
//   ⇄ HTTP server GET /big -> no response (connection_closed) (3.0 ms)
// Written to a stdio stream (stderr by default, like strace) in chunks:
// lines collect in memory and go out when 64 KiB are pending or on Flush()
// (tracectl run flushes on the pipeline's tick, every 50 ms, and at the end),
// so an unbuffered stderr costs one write per chunk, not one per line.
#ifndef TRACER_CTL_TREE_PRINTER_H_
#define TRACER_CTL_TREE_PRINTER_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "absl/strings/str_format.h"
#include "agent/capture/events.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

namespace tracer::ctl {

// Prints capture events as an indented span tree. Not thread-safe; call from
// the capture thread. Does not own `out`.
class TreePrinter : public capture::EventSink {
 public:
  explicit TreePrinter(FILE* out) : out_(out) {}
  // Flushes.
  ~TreePrinter() override;

  // Declares the process tracectl started or attached to (depth 0).
  void AddRoot(uint32_t tgid, const std::string& name);

  void OnSyscall(const capture::SyscallEvent& event) override;
  void OnProcess(const capture::ProcessEvent& event) override;

  // One line for an HTTP span (kind SERVER or CLIENT, semconv attributes as
  // agent/protocols/http1/span.h builds them) of process `tgid`: method, url.path
  // (server) or url.full (client), status code or why there is none
  // (tracer.http.anomaly), and the span's duration in ms.
  void OnHttpSpan(uint32_t tgid, const opentelemetry::proto::trace::v1::Span& span);

  // Writes the pending lines to the stream and flushes it.
  void Flush();

  // Number of syscall lines printed.
  uint64_t lines() const { return lines_; }
  // Number of HTTP span lines printed.
  uint64_t http_lines() const { return http_lines_; }

 private:
  struct Proc {
    int depth = 0;
    std::string name;
    uint64_t start_ns = 0;  // CLOCK_MONOTONIC
    bool exited = false;    // kept for events that arrive after the exit
  };
  static constexpr size_t kFlushBytes = 64 << 10;

  std::string Prefix(int depth) const;
  Proc& Lookup(uint32_t tgid);
  // Appends one formatted line to the pending output.
  template <typename... Args>
  void Emit(const absl::FormatSpec<Args...>& format, const Args&... args) {
    absl::StrAppendFormat(&pending_, format, args...);
    Emitted();
  }
  // Writes the pending output once it is large enough.
  void Emitted();

  FILE* out_;
  std::string pending_;  // lines not yet written to out_
  std::unordered_map<uint32_t, Proc> procs_;
  uint64_t lines_ = 0;
  uint64_t http_lines_ = 0;
};

// The text of an HTTP span's tree line after the "⇄ " marker (see above).
std::string HttpSpanLine(const opentelemetry::proto::trace::v1::Span& span);

}  // namespace tracer::ctl

#endif  // TRACER_CTL_TREE_PRINTER_H_
