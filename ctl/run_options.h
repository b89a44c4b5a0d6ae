// Command line of `tracectl run`: parsing and validation.
//
// The flags follow strace (-f, -p, -e trace=, -c-like --stats) and the
// OpenTelemetry SDK environment (OTEL_EXPORTER_OTLP_*, OTEL_SERVICE_NAME,
// OTEL_BSP_MAX_EXPORT_BATCH_SIZE, TRACEPARENT/TRACESTATE). Short strace-style
// options (-f, -p PID, -e EXPR) are why this uses getopt_long rather than
// gflags, which cannot express them.
#ifndef TRACER_CTL_RUN_OPTIONS_H_
#define TRACER_CTL_RUN_OPTIONS_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/capture/event_source.h"

namespace tracer::ctl {

// Everything `tracectl run` was asked to do, validated.
struct RunOptions {
  std::vector<std::string> command;  // CMD ARGS... (empty with -p)
  std::optional<pid_t> attach_pid;   // -p PID
  bool follow_forks = false;         // -f
  std::vector<int> syscalls;         // resolved -e trace= / --syscall-class; empty = all
  bool no_syscalls = false;          // the selection is empty (-e trace=none): no syscall spans
  uint64_t min_duration_ns = 0;      // --filter-duration-gt MICROS, in ns
  bool stats = false;                // --stats: strace -c style table
  bool quiet = false;                // -q: no span tree on stderr
  std::string output_path;           // --output FILE: OTLP JSON lines ("-" = stdout)
  std::string otlp_endpoint;         // --otlp-endpoint URL ("" = no OTLP export)
  std::string otlp_protocol;         // grpc | http/protobuf | http/json ("" = env/default)
  std::string otlp_headers;          // --otlp-headers "k=v,k2=v2" ("" = env)
  std::string service_name;          // --otlp-service-name / OTEL_SERVICE_NAME
  // OTEL_RESOURCE_ATTRIBUTES (percent-decoded, service.name excluded: it
  // goes to service_name unless the flag or OTEL_SERVICE_NAME set one).
  std::vector<std::pair<std::string, std::string>> resource_attributes;
  // Problems that do not stop the run (e.g. a malformed
  // OTEL_RESOURCE_ATTRIBUTES, discarded whole as the SDK specification says);
  // printed on stderr when the run starts.
  std::vector<std::string> warnings;
  std::string trace_parent;             // --trace-parent / TRACEPARENT ("" = new trace)
  std::string trace_state;              // TRACESTATE
  size_t max_export_batch_spans = 512;  // OTEL_BSP_MAX_EXPORT_BATCH_SIZE
  // --data-dir: where each run's write-ahead log of span batches lives (a
  // RocksDB directory per run, removed once every destination has the spans).
  std::string data_dir = "/var/lib/tracer/runs";
  // HTTP flows (DESIGN.md "Spans": HTTP spans): --http / --no-http; by
  // default on when network syscalls are traced (no -e selection, or one
  // that includes a %network syscall or read/write/readv/writev/sendfile).
  bool http = false;
  // --http-capture-bytes N: payload bytes copied per socket read/write
  // (0..16384; headers beyond it are not parsed, bodies are counted).
  uint32_t http_capture_bytes = 4096;
  // --ring-buffer-size N: bytes of each kernel ring buffer (a power of two
  // of at least one page; CaptureOptions::ringbuf_bytes).
  uint32_t ring_buffer_bytes = capture::kDefaultRingbufBytes;
  bool help = false;  // -h/--help: print usage, exit 0
};

// Looks up an environment variable; returns nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment as an EnvLookup.
EnvLookup ProcessEnv();

// Parses `args` (the words after `tracectl run`). Flags override the
// environment read through `env`. Returns INVALID_ARGUMENT with a message
// naming the offending flag or variable (unknown syscall or class, bad
// number, missing command, both a command and -p, ...).
absl::StatusOr<RunOptions> ParseRunOptions(const std::vector<std::string>& args,
                                           const EnvLookup& env);

// Whether a syscall selection (RunOptions::syscalls; empty = all) traces
// network syscalls: the default of RunOptions::http.
bool SelectionTracesNetwork(const std::vector<int>& syscalls);

// The usage text of `tracectl run`.
const char* RunUsage();

}  // namespace tracer::ctl

#endif  // TRACER_CTL_RUN_OPTIONS_H_
