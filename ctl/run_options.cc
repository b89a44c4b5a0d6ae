#include "ctl/run_options.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ctl/getopt_args.h"
#include "ctl/otlp_flags.h"
#include "otlp/resource_env.h"
#include "otlp/semconv.h"
#include "syscalls/syscall_classes.h"
#include "syscalls/syscall_table.h"

namespace tracer::ctl {
namespace {

enum LongOnly {
  kSyscallClass = 1000,
  kFilterDurationGt,
  kStats,
  kOutput,
  kOtlpEndpoint,
  kOtlpProtocol,
  kOtlpHeaders,
  kOtlpServiceName,
  kTraceParent,
  kDataDir,
  kHttp,
  kNoHttp,
  kHttpCaptureBytes,
  kRingBufferSize,
};

// SOCKETS_CAPTURE_MAX of bpf/sockets.h (CaptureOptions::socket_capture_bytes).
constexpr uint32_t kMaxHttpCaptureBytes = 16384;

const option kLongOptions[] = {
    {"follow-forks", no_argument, nullptr, 'f'},
    {"attach", required_argument, nullptr, 'p'},
    {"expr", required_argument, nullptr, 'e'},
    {"quiet", no_argument, nullptr, 'q'},
    {"help", no_argument, nullptr, 'h'},
    {"syscall-class", required_argument, nullptr, kSyscallClass},
    {"filter-duration-gt", required_argument, nullptr, kFilterDurationGt},
    {"stats", no_argument, nullptr, kStats},
    {"summary", no_argument, nullptr, kStats},
    {"output", required_argument, nullptr, kOutput},
    {"otlp-endpoint", required_argument, nullptr, kOtlpEndpoint},
    {"otlp-protocol", required_argument, nullptr, kOtlpProtocol},
    {"otlp-headers", required_argument, nullptr, kOtlpHeaders},
    {"otlp-service-name", required_argument, nullptr, kOtlpServiceName},
    {"trace-parent", required_argument, nullptr, kTraceParent},
    {"data-dir", required_argument, nullptr, kDataDir},
    {"http", no_argument, nullptr, kHttp},
    {"no-http", no_argument, nullptr, kNoHttp},
    {"http-capture-bytes", required_argument, nullptr, kHttpCaptureBytes},
    {"ring-buffer-size", required_argument, nullptr, kRingBufferSize},
    {nullptr, 0, nullptr, 0},
};

absl::Status Invalid(absl::string_view msg) { return absl::InvalidArgumentError(msg); }

// Bounds of --ring-buffer-size: one page, and 1 GiB (far beyond any rate
// the programs can produce for one drain interval).
constexpr uint64_t kMinRingBufferBytes = 4096;
constexpr uint64_t kMaxRingBufferBytes = uint64_t{1} << 30;

// "BYTES", "NK", "NM" or "NG" (also lower case, and KiB/MiB/GiB): a power of two in
// kMinRingBufferBytes..kMaxRingBufferBytes.
absl::StatusOr<uint32_t> ParseRingBufferSize(absl::string_view arg) {
  auto bad = [arg](absl::string_view why) {
    return Invalid(absl::StrCat("--ring-buffer-size ", arg, ": ", why));
  };
  absl::string_view digits = arg;
  uint64_t unit = 1;
  for (const auto& [suffix, mult] : {std::pair<absl::string_view, uint64_t>{"KiB", 1 << 10},
                                     {"MiB", 1 << 20},
                                     {"GiB", 1 << 30},
                                     {"K", 1 << 10},
                                     {"M", 1 << 20},
                                     {"G", 1 << 30},
                                     {"k", 1 << 10},
                                     {"m", 1 << 20},
                                     {"g", 1 << 30}}) {
    if (absl::ConsumeSuffix(&digits, suffix)) {
      unit = mult;
      break;
    }
  }
  uint64_t n;
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(digits, &n)) {
    return bad(
        "expected a number of bytes, optionally with a K, M or G suffix (e.g. 4096, 256K, 8M)");
  }
  if (n > kMaxRingBufferBytes / unit) return bad("larger than 1 GiB");
  n *= unit;
  if (n < kMinRingBufferBytes) return bad("smaller than one page (4096 bytes)");
  if ((n & (n - 1)) != 0) return bad(absl::StrCat(n, " bytes is not a power of two"));
  return static_cast<uint32_t>(n);
}

// strace accepts `-e trace=EXPR` and the bare `-e EXPR`.
absl::StatusOr<std::vector<int>> ParseQualifier(const std::string& arg) {
  std::string expr = arg;
  size_t eq = arg.find('=');
  if (eq != std::string::npos) {
    std::string qualifier = arg.substr(0, eq);
    if (qualifier != "trace" && qualifier != "t") {
      return Invalid(absl::StrCat("-e ", arg, ": only the trace= qualifier is supported"));
    }
    expr = arg.substr(eq + 1);
  }
  auto parsed = syscalls::ParseTraceExpression(expr);
  if (!parsed.ok()) {
    return Invalid(absl::StrCat("-e ", arg, ": ", parsed.status().message()));
  }
  return parsed;
}

}  // namespace

bool SelectionTracesNetwork(const std::vector<int>& syscalls) {
  if (syscalls.empty()) return true;
  std::set<int> network;
  if (auto nrs = syscalls::SyscallsInClass("network"); nrs.ok()) {
    network.insert(nrs->begin(), nrs->end());
  }
  // The data calls the socket tracker follows on any descriptor.
  for (const char* name : {"read", "write", "readv", "writev", "sendfile"}) {
    if (auto nr = syscalls::SyscallNumber(name)) network.insert(*nr);
  }
  for (int nr : syscalls) {
    if (network.count(nr) > 0) return true;
  }
  return false;
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

absl::StatusOr<RunOptions> ParseRunOptions(const std::vector<std::string>& args,
                                           const EnvLookup& env) {
  RunOptions opts;
  GetoptArgs words("tracectl run", args.begin(), args.end());
  char** argv = words.argv();
  const int argc = words.argc();

  std::set<int> selected;
  bool any_selection = false;
  std::optional<bool> http;
  int c;
  // '+': stop at the first non-option, so `tracectl run ls -la` works like strace.
  while ((c = getopt_long(argc, argv, "+:fp:e:qh", kLongOptions, nullptr)) != -1) {
    switch (c) {
      case 'f':
        opts.follow_forks = true;
        break;
      case 'p': {
        int pid;
        if (!absl::SimpleAtoi(optarg, &pid) || pid <= 0) {
          return Invalid(absl::StrCat("-p ", optarg, ": not a process id"));
        }
        opts.attach_pid = pid;
        break;
      }
      case 'e': {
        auto nrs = ParseQualifier(optarg);
        if (!nrs.ok()) return nrs.status();
        selected.insert(nrs->begin(), nrs->end());
        any_selection = true;
        break;
      }
      case kSyscallClass: {
        std::string cls = optarg;
        if (!cls.empty() && cls[0] == '%') cls.erase(0, 1);
        auto nrs = syscalls::SyscallsInClass(cls);
        if (!nrs.ok()) {
          return Invalid(
              absl::StrCat("--syscall-class ", optarg, ": ", nrs.status().message(),
                           " (known: file, network, process, memory, signal, ipc, desc)"));
        }
        selected.insert(nrs->begin(), nrs->end());
        any_selection = true;
        break;
      }
      case kFilterDurationGt: {
        double us;
        if (!absl::SimpleAtod(optarg, &us) || us < 0) {
          return Invalid(absl::StrCat("--filter-duration-gt ", optarg,
                                      ": expected a non-negative number of microseconds"));
        }
        opts.min_duration_ns = static_cast<uint64_t>(us * 1000.0);
        break;
      }
      case kStats:
        opts.stats = true;
        break;
      case 'q':
        opts.quiet = true;
        break;
      case kOutput:
        opts.output_path = optarg;
        if (opts.output_path.empty()) return Invalid("--output: empty file name");
        break;
      case kOtlpEndpoint:
        opts.otlp_endpoint = optarg;
        if (opts.otlp_endpoint.empty()) return Invalid("--otlp-endpoint: empty URL");
        break;
      case kOtlpProtocol: {
        absl::StatusOr<std::string> protocol = ParseOtlpProtocolFlag(optarg);
        if (!protocol.ok()) return protocol.status();
        opts.otlp_protocol = *std::move(protocol);
        break;
      }
      case kOtlpHeaders:
        opts.otlp_headers = optarg;
        break;
      case kOtlpServiceName:
        opts.service_name = optarg;
        break;
      case kTraceParent:
        opts.trace_parent = optarg;
        break;
      case kDataDir:
        opts.data_dir = optarg;
        if (opts.data_dir.empty()) return Invalid("--data-dir: empty directory name");
        break;
      case kHttp:
        http = true;
        break;
      case kNoHttp:
        http = false;
        break;
      case kHttpCaptureBytes: {
        uint32_t n;
        if (!absl::SimpleAtoi(optarg, &n) || n > kMaxHttpCaptureBytes) {
          return Invalid(absl::StrCat("--http-capture-bytes ", optarg,
                                      ": expected a number of bytes in 0..", kMaxHttpCaptureBytes));
        }
        opts.http_capture_bytes = n;
        break;
      }
      case kRingBufferSize: {
        absl::StatusOr<uint32_t> n = ParseRingBufferSize(optarg);
        if (!n.ok()) return n.status();
        opts.ring_buffer_bytes = *n;
        break;
      }
      case 'h':
        opts.help = true;
        return opts;
      case ':':
        return Invalid(absl::StrCat("option ", argv[optind - 1], " needs an argument"));
      default:
        return Invalid(
            absl::StrCat("unknown option ", argv[optind - 1], " (see tracectl run --help)"));
    }
  }
  for (int i = optind; i < argc; ++i) {
    opts.command.emplace_back(argv[i]);
  }
  if (opts.command.empty() && !opts.attach_pid) {
    return Invalid("no command given: tracectl run [flags] -- CMD ARGS..., or -p PID");
  }
  if (!opts.command.empty() && opts.attach_pid) {
    return Invalid("give either a command or -p PID, not both");
  }
  if (any_selection) {
    // An empty selection (trace=none, !all) traces no syscall, as in strace:
    // process spans only, plus HTTP spans with --http.
    opts.no_syscalls = selected.empty();
    opts.syscalls.assign(selected.begin(), selected.end());
  }
  opts.http = http.value_or(!opts.no_syscalls && SelectionTracesNetwork(opts.syscalls));

  // Environment (flags win).
  if (opts.trace_parent.empty()) {
    if (auto tp = env("TRACEPARENT")) opts.trace_parent = *tp;
  }
  if (auto ts = env("TRACESTATE")) opts.trace_state = *ts;
  // OTEL_SERVICE_NAME wins over service.name in OTEL_RESOURCE_ATTRIBUTES;
  // the flag wins over both (resource_env.h).
  otlp::EnvResource resource = otlp::ResourceAttributesFromEnv(env);
  if (!resource.discarded.ok()) {
    opts.warnings.push_back(std::string(resource.discarded.message()));
  }
  for (auto& [key, value] : resource.attributes) {
    if (key == otlp::semconv::kServiceName) {
      if (opts.service_name.empty()) opts.service_name = value;
    } else {
      opts.resource_attributes.emplace_back(std::move(key), std::move(value));
    }
  }
  if (auto bs = env("OTEL_BSP_MAX_EXPORT_BATCH_SIZE")) {
    size_t n;
    if (!absl::SimpleAtoi(*bs, &n) || n == 0 || n > 1000000) {
      return Invalid(absl::StrCat("OTEL_BSP_MAX_EXPORT_BATCH_SIZE=", *bs,
                                  ": expected a positive number of spans"));
    }
    opts.max_export_batch_spans = n;
  }
  return opts;
}

const char* RunUsage() {
  return R"(Usage: tracectl run [flags] [--] CMD [ARGS...]
       tracectl run [flags] -p PID

Trace a command's (or a running process's) system calls with eBPF and turn
them into OpenTelemetry spans: one span per process, one per syscall.
Needs root (CAP_BPF and CAP_PERFMON).

Selection (like strace):
  -f, --follow-forks           trace child processes as they are forked
  -p, --attach PID             trace an existing process until it exits or Ctrl-C
  -e trace=NAME[,NAME...]      trace only these syscalls; %file, %network,
                               %process, %memory, %signal, %ipc, %desc are classes;
                               trace=none: no syscall (process spans, and HTTP
                               spans with --http)
      --syscall-class CLASS    same as -e trace=%CLASS (repeatable)
      --filter-duration-gt US  keep only syscalls that took longer than US µs

Output (the span tree goes to stderr, like strace's trace):
  -q, --quiet                  no span tree on the terminal (also implied by
                               --output and --stats)
      --stats                  per-syscall summary table like strace -c instead
                               of the tree (counted in the kernel)
      --output FILE            write spans as OTLP JSON lines (one
                               ExportTraceServiceRequest per line; - = stdout)

Export to any OTLP backend (Jaeger, Tempo, Honeycomb, a Collector):
      --otlp-endpoint URL      e.g. http://localhost:4317 (gRPC) or
                               http://localhost:4318 (HTTP)
      --otlp-protocol P        grpc (default), http (= http/protobuf), http/json
      --otlp-headers K=V,...   extra request headers, e.g. an API key
      --otlp-service-name N    service.name (default: the executable's name)
  Environment: OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
  OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME,
  OTEL_RESOURCE_ATTRIBUTES (resource attributes of every span),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE (default 512) and the other OTEL_EXPORTER_OTLP_*.

Durability:
      --data-dir DIR           spans are appended and synced to a write-ahead log
                               under DIR before they are exported (default
                               /var/lib/tracer/runs), and sent from there while
                               the command runs; a run whose export failed (the
                               backend still down after the exporter's timeout
                               plus 6 s without progress) keeps its log there
                               and prints the `tracectl resend` command that
                               sends it later (tracectl help resend)

HTTP flows (HTTP/1.x over TCP, IPv4 and IPv6, of the traced processes):
      --http                   turn accepted and connected connections' requests
                               into SERVER and CLIENT spans (default: on when
                               network syscalls are traced, i.e. no -e, or one
                               selecting %network or read/write/readv/writev)
      --no-http                no HTTP spans
      --http-capture-bytes N   bytes copied per socket read/write (0..16384,
                               default 4096); beyond, bodies are counted only
  Credential headers (Authorization, Cookie, ...) are never captured; a
  request's traceparent makes its SERVER span a child of the caller's span.

Capture buffers:
      --ring-buffer-size N     bytes of each kernel ring buffer (syscall records;
                               with HTTP, socket records too): a power of two,
                               4K..1G, K/M/G suffixes (default 8M). The default
                               holds ~80 ms of the fastest rate measured (dd
                               bs=1 traced: ~1.3M records/s x 80 bytes each),
                               40x the 2 ms drain interval. A burst beyond it
                               is counted and reported as events LOST.

Trace context (W3C):
      --trace-parent TP        join trace TP (00-<trace-id>-<parent-id>-<flags>);
                               default: $TRACEPARENT (and $TRACESTATE), else a new
                               trace. Flags 00 (not sampled): printed, not exported.

Exit status: the traced command's; 2 for a usage error; 1 if tracing could not
start; 69 if the command succeeded but spans could not be exported (unsent
spans are kept for `tracectl resend`; spans the backend refused are written to
dead_letter/ under --data-dir).
)";
}

}  // namespace tracer::ctl
