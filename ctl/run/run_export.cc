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

}  // namespace

bool ExportRequested(const RunOptions& o, const EnvLookup& env) {
  return !o.otlp_endpoint.empty() || env("OTEL_EXPORTER_OTLP_ENDPOINT").has_value() ||
         env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").has_value();
}

absl::StatusOr<std::unique_ptr<RunExport>> RunExport::Create(const RunOptions& options,
                                                             const EnvLookup& env, bool want_spans,
                                                             bool sampled) {
  if (!want_spans || !sampled) return std::unique_ptr<RunExport>();
  auto out = std::unique_ptr<RunExport>(new RunExport());
  ASSIGN_OR_RETURN(out->exports_, ExportPipeline::Create(options, env));
  return out;
}

absl::Status RunExport::OpenWal(const std::string& data_dir, bool want_export) {
  if (!want_export) return absl::OkStatus();
  ASSIGN_OR_RETURN(wal_, OpenRunWal(data_dir, &wal_dir_));
  return absl::OkStatus();
}

int RunExport::Finish(const absl::Status& wal_st, int rc) {
  absl::Status st = exports_->Shutdown();
  if (!wal_st.ok()) {
    PrintError(wal_st.message());
    if (rc == 0) rc = kExitExportFailed;
  }
  if (!st.ok()) {
    PrintError(absl::StrCat("export failed: ", st.message()));
    if (!wal_dir_.empty()) {
      PrintError(
          absl::StrCat("the spans are kept in ", wal_dir_,
                       " (RocksDB write-ahead log of OTLP ExportTraceServiceRequest batches)"));
    }
    if (rc == 0) rc = kExitExportFailed;
  }
  wal_.reset();
  if (st.ok() && wal_st.ok() && !wal_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(wal_dir_, ec);  // every destination has every span
  }
  return rc;
}

std::string RunExport::Summary() const { return absl::StrCat("; ", exports_->Summary()); }

}  // namespace tracer::ctl::run
