#include "ctl/resend_command.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ctl/getopt_args.h"
#include "ctl/run/exit_codes.h"
#include "ctl/wal_export.h"
#include "storage/rocksdb_wal.h"

namespace tracer::ctl {
namespace {

constexpr char kPrefix[] = "tracectl resend: ";
constexpr int kExitNotALog = 1;  // DIR missing, not a log, or locked by another process

enum LongOnly { kOtlpEndpoint = 1000, kOtlpProtocol, kOtlpHeaders };

const option kLongOptions[] = {
    {"help", no_argument, nullptr, 'h'},
    {"otlp-endpoint", required_argument, nullptr, kOtlpEndpoint},
    {"otlp-protocol", required_argument, nullptr, kOtlpProtocol},
    {"otlp-headers", required_argument, nullptr, kOtlpHeaders},
    {nullptr, 0, nullptr, 0},
};

int Fail(int exit_code, absl::string_view message) {
  std::fprintf(stderr, "%s%s\n", kPrefix, std::string(message).c_str());
  return exit_code;
}

// "<spans> spans sent in <requests> request(s) to <destination>".
std::string Sent(const WalExportResult& r, const std::string& destination) {
  return absl::StrCat(r.stats.spans_sent, " spans sent in ", r.stats.requests_sent,
                      r.stats.requests_sent == 1 ? " request" : " requests", " to ", destination);
}

}  // namespace

absl::StatusOr<ResendOptions> ParseResendOptions(const std::vector<std::string>& args) {
  ResendOptions opts;
  GetoptArgs words("tracectl resend", args.begin(), args.end());
  char** argv = words.argv();
  const int argc = words.argc();
  int c;
  while ((c = getopt_long(argc, argv, ":h", kLongOptions, nullptr)) != -1) {
    switch (c) {
      case 'h':
        opts.help = true;
        return opts;
      case kOtlpEndpoint:
        opts.otlp.endpoint = optarg;
        if (opts.otlp.endpoint.empty())
          return absl::InvalidArgumentError("--otlp-endpoint: empty URL");
        break;
      case kOtlpProtocol: {
        absl::StatusOr<std::string> protocol = ParseOtlpProtocolFlag(optarg);
        if (!protocol.ok()) return protocol.status();
        opts.otlp.protocol = *std::move(protocol);
        break;
      }
      case kOtlpHeaders:
        opts.otlp.headers = optarg;
        break;
      case ':':
        return absl::InvalidArgumentError(
            absl::StrCat("option ", argv[optind - 1], " needs an argument"));
      default:
        return absl::InvalidArgumentError(
            absl::StrCat("unknown option ", argv[optind - 1], " (see tracectl resend --help)"));
    }
  }
  const int rest = argc - optind;
  if (rest != 1) {
    return absl::InvalidArgumentError(
        rest == 0 ? "which directory? (tracectl resend [flags] DIR; see --help)"
                  : "one directory at a time (tracectl resend [flags] DIR)");
  }
  opts.dir = argv[optind];
  return opts;
}

const char* ResendUsage() {
  return R"(Usage: tracectl resend [flags] DIR

Send the spans that a `tracectl run` kept in its write-ahead log DIR (under
its --data-dir, because the export failed) to an OTLP backend, from where the
log's cursor stopped; DIR is removed once every batch is acknowledged. The
failed run prints this command with the right DIR. Stopped midway (Ctrl-C, a
backend that goes down again), run it again: it resumes at the cursor and
never sends an acknowledged batch twice.

Flags (as for tracectl run; the OTEL_EXPORTER_OTLP_* environment applies):
      --otlp-endpoint URL      e.g. http://localhost:4317 (gRPC) or
                               http://localhost:4318 (HTTP)
      --otlp-protocol P        grpc (default), http (= http/protobuf), http/json
      --otlp-headers K=V,...   extra request headers, e.g. an API key

Requests the backend refuses (not retryable: HTTP 400, INVALID_ARGUMENT, ...)
are written to dead_letter/<name of DIR>/otlp.jsonl beside DIR.

Exit status: 0 when every span was delivered (DIR removed); 69 when spans
are still unsent (DIR kept) or the backend refused some; 1 when DIR is not a
run's write-ahead log; 2 for a usage error.
)";
}

int ResendCommand(const ResendOptions& o, const otlp::EnvLookup& env) {
  absl::StatusOr<otlp::ExporterConfig> config = OtlpExporterConfig(o.otlp, env);
  if (!config.ok()) return Fail(kExitUsage, config.status().message());
  std::error_code ec;
  // RocksDB would create a missing directory: check that DIR is a log first.
  if (!std::filesystem::is_regular_file(std::filesystem::path(o.dir) / "CURRENT", ec)) {
    return Fail(kExitNotALog, absl::StrCat(o.dir, ": not the write-ahead log of a tracectl run"));
  }
  storage::WalOptions wal_options;
  wal_options.data_dir = o.dir;
  absl::StatusOr<std::unique_ptr<storage::RocksDbWal>> wal = storage::RocksDbWal::Open(wal_options);
  if (!wal.ok()) return Fail(kExitNotALog, absl::StrCat(o.dir, ": ", wal.status().message()));

  WalExportOptions export_options;
  export_options.exporter = *config;
  export_options.dead_letter_dir = DeadLetterDirFor(o.dir);
  export_options.idle_budget = config->timeout + absl::Seconds(6);
  absl::StatusOr<std::unique_ptr<WalExport>> exporter =
      WalExport::Start(wal->get(), std::move(export_options));
  if (!exporter.ok()) return Fail(kExitUsage, exporter.status().message());
  const std::string destination = (*exporter)->destination();
  const storage::WalStats before = (*wal)->Stats();
  std::fprintf(stderr, "%s%s to send to %s\n", kPrefix,
               SpansInBatches(before.spans, before.records).c_str(), destination.c_str());
  const WalExportResult result = (*exporter)->Finish([&destination](const WalExportResult& r) {
    std::fprintf(stderr, "%s%s; %s left\n", kPrefix, Sent(r, destination).c_str(),
                 SpansInBatches(r.unsent_spans, r.unsent_records).c_str());
  });
  exporter->reset();
  wal->reset();  // closed before ReportWalExport may remove the directory
  std::fprintf(stderr, "%s%s\n", kPrefix, Sent(result, destination).c_str());
  if (!ReportWalExport(kPrefix, o.dir, *config, destination, result)) return kExitExportFailed;
  std::fprintf(stderr, "%severy span delivered; %s removed\n", kPrefix, o.dir.c_str());
  return 0;
}

}  // namespace tracer::ctl
