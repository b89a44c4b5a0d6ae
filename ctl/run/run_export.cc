#include "ctl/run/run_export.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "ctl/otlp_flags.h"
#include "ctl/run/exit_codes.h"
#include "storage/rocksdb_wal.h"

namespace tracer::ctl::run {
namespace {

// Opens a write-ahead log in a fresh directory under `base`.
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
  ASSIGN_OR_RETURN(auto wal, storage::RocksDbWal::Open(wo));
  return std::unique_ptr<storage::Wal>(std::move(wal));
}

OtlpFlags OtlpFlagsOf(const RunOptions& o) {
  return OtlpFlags{o.otlp_endpoint, o.otlp_protocol, o.otlp_headers};
}

}  // namespace

bool ExportRequested(const RunOptions& o, const EnvLookup& env) {
  return OtlpEndpointGiven(OtlpFlagsOf(o), env);
}

absl::StatusOr<std::unique_ptr<RunExport>> RunExport::Create(const RunOptions& options,
                                                             const EnvLookup& env, bool want_spans,
                                                             bool sampled) {
  if (!want_spans || !sampled) return std::unique_ptr<RunExport>();
  auto out = std::unique_ptr<RunExport>(new RunExport());
  if (!options.output_path.empty()) {
    ASSIGN_OR_RETURN(out->file_, FileSink::Create(options.output_path));
  }
  if (ExportRequested(options, env)) {
    ASSIGN_OR_RETURN(out->backend_, OtlpExporterConfig(OtlpFlagsOf(options), env));
  }
  out->max_batch_spans_ = options.max_export_batch_spans;
  return out;
}

RunExport::~RunExport() = default;

absl::Status RunExport::OpenWal(const std::string& data_dir, bool want_export) {
  if (!want_export || !backend_) return absl::OkStatus();
  ASSIGN_OR_RETURN(wal_, OpenRunWal(data_dir, &wal_dir_));
  WalExportOptions o;
  o.exporter = *backend_;
  o.max_batch_spans = max_batch_spans_;
  o.dead_letter_dir = DeadLetterDirFor(wal_dir_);
  o.idle_budget = backend_->timeout + absl::Seconds(6);
  ASSIGN_OR_RETURN(delivery_, WalExport::Start(wal_.get(), std::move(o)));
  return absl::OkStatus();
}

int RunExport::Finish(const absl::Status& wal_st, int rc) {
  bool ok = true;
  if (file_) {
    if (absl::Status st = file_->Shutdown(); !st.ok()) {
      PrintError(absl::StrCat("export failed: ", st.message()));
      ok = false;
    }
  }
  if (!wal_st.ok()) {
    PrintError(wal_st.message());
    ok = false;
  }
  if (delivery_) {
    delivered_ = delivery_->Finish();
    const std::string destination = delivery_->destination();
    delivery_.reset();
    wal_.reset();  // closed before the directory may be removed
    ok = ReportWalExport("tracectl run: ", wal_dir_, *backend_, destination, *delivered_) && ok;
    destination_ = destination;
  }
  if (!ok && rc == 0) rc = kExitExportFailed;
  return rc;
}

std::string RunExport::Summary() const {
  std::string s;
  if (delivered_) {
    absl::StrAppend(&s, "; ", delivered_->stats.spans_sent, " spans sent to ", destination_);
    if (delivered_->stats.spans_rejected > 0) {
      absl::StrAppend(&s, ", ", delivered_->stats.spans_rejected, " rejected by the backend");
    }
    if (delivered_->stats.spans_dead_lettered > 0) {
      absl::StrAppend(&s, ", ", delivered_->stats.spans_dead_lettered, " refused");
    }
    if (!delivered_->complete()) {
      absl::StrAppend(&s, ", ", delivered_->unsent_spans, " not sent (kept for tracectl resend)");
    }
  }
  if (file_) absl::StrAppend(&s, "; ", file_->Summary());
  return s;
}

}  // namespace tracer::ctl::run
