#include "ctl/wal_export.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

#include "common/status_macros.h"
#include "otlp/delivery/transport.h"

namespace tracer::ctl {
namespace {

namespace delivery = otlp::delivery;

delivery::BackendOptions BackendOptionsFor(const WalExportOptions& o) {
  delivery::BackendOptions b;
  b.name = kWalExportBackend;
  b.exporter = o.exporter;
  b.max_batch_spans = std::max<size_t>(1, o.max_batch_spans);
  b.payload_format = delivery::PayloadFormat::kRequest;
  b.log_retries = false;  // ReportWalExport tells the outcome
  // A backend that is back within the run's last seconds gets its spans.
  b.breaker.open_for = absl::Seconds(2);
  return b;
}

}  // namespace

absl::StatusOr<std::unique_ptr<WalExport>> WalExport::Start(storage::Wal* wal,
                                                            WalExportOptions options) {
  delivery::BackendOptions backend = BackendOptionsFor(options);
  ASSIGN_OR_RETURN(std::unique_ptr<otlp::SpanExporter> exporter,
                   delivery::CreateTransport(backend));
  RETURN_IF_ERROR(
      wal->RegisterConsumer(delivery::ConsumerName(backend.name), storage::StartPosition::kOldest));
  std::string destination = exporter->Describe();
  auto worker = std::make_unique<delivery::BackendWorker>(
      wal, std::move(backend), std::move(exporter), otlp::ResourceAttributes{},
      options.dead_letter_dir, absl::Milliseconds(100), delivery::BackendStats{});
  worker->Start();
  return std::unique_ptr<WalExport>(
      new WalExport(wal, std::move(options), std::move(destination), std::move(worker)));
}

WalExport::WalExport(storage::Wal* wal, WalExportOptions options, std::string destination,
                     std::unique_ptr<delivery::BackendWorker> worker)
    : wal_(wal),
      options_(std::move(options)),
      destination_(std::move(destination)),
      worker_(std::move(worker)) {}

WalExport::~WalExport() { worker_->Stop(); }

WalExportResult WalExport::Snapshot() const {
  WalExportResult result;
  result.stats = worker_->Stats();
  const std::string consumer = delivery::ConsumerName(kWalExportBackend);
  for (const storage::ConsumerStats& c : wal_->Stats().consumers) {
    if (c.name != consumer) continue;
    result.unsent_records = c.lag_records;
    result.unsent_spans = c.lag_spans;
  }
  return result;
}

WalExportResult WalExport::Finish(const WalExportProgress& progress) {
  uint64_t cursor_moves = 0;  // acked records, to tell progress from waiting
  absl::Time idle_since = absl::Now();
  while (true) {
    const absl::Time now = absl::Now();
    const absl::Time round_end =
        std::min(now + absl::Seconds(1), idle_since + options_.idle_budget);
    if (worker_->Drain(round_end)) break;
    const delivery::BackendStats stats = worker_->Stats();
    if (progress) progress(Snapshot());
    const uint64_t moves = stats.requests_sent + stats.spans_dead_lettered;
    if (moves != cursor_moves) {
      cursor_moves = moves;
      idle_since = absl::Now();
    } else if (absl::Now() >= idle_since + options_.idle_budget) {
      break;
    }
  }
  worker_->Stop();
  return Snapshot();
}

std::string SpansInBatches(uint64_t spans, uint64_t batches) {
  return absl::StrCat(spans, " spans in ", batches, batches == 1 ? " batch" : " batches");
}

std::string DeadLetterDirFor(const std::string& wal_dir) {
  std::string trimmed = wal_dir;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const std::filesystem::path dir(trimmed);
  return (dir.parent_path() / "dead_letter" / dir.filename()).string();
}

bool ReportWalExport(const std::string& prefix, const std::string& wal_dir,
                     const otlp::ExporterConfig& exporter, const std::string& destination,
                     const WalExportResult& result) {
  const delivery::BackendStats& s = result.stats;
  if (s.spans_dead_lettered > 0) {
    std::fprintf(stderr, "%s%llu spans refused by %s (not retryable: %s); written to %s/%s.jsonl\n",
                 prefix.c_str(), static_cast<unsigned long long>(s.spans_dead_lettered),
                 destination.c_str(), s.last_error.c_str(), DeadLetterDirFor(wal_dir).c_str(),
                 kWalExportBackend);
  }
  if (result.complete()) {
    std::error_code ec;
    std::filesystem::remove_all(wal_dir, ec);  // every span was delivered or dead-lettered
    return s.spans_dead_lettered == 0;
  }
  const std::string why =
      s.last_error.empty() ? absl::StrCat(destination, ": not delivered in time") : s.last_error;
  std::fprintf(stderr, "%sexport failed: %s; %s not sent\n", prefix.c_str(), why.c_str(),
               SpansInBatches(result.unsent_spans, result.unsent_records).c_str());
  std::fprintf(stderr,
               "%sthe spans are kept in %s (RocksDB write-ahead log of OTLP "
               "ExportTraceServiceRequest batches); send them with:\n"
               "  tracectl resend --otlp-endpoint %s --otlp-protocol %s %s\n",
               prefix.c_str(), wal_dir.c_str(), exporter.endpoint.c_str(),
               std::string(otlp::ProtocolName(exporter.protocol)).c_str(), wal_dir.c_str());
  if (!exporter.headers.empty()) {
    std::fprintf(stderr, "%s(with the same --otlp-headers or OTEL_EXPORTER_OTLP_HEADERS)\n",
                 prefix.c_str());
  }
  return false;
}

}  // namespace tracer::ctl
