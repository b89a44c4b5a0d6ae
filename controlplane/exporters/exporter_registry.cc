#include "controlplane/exporters/exporter_registry.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "controlplane/exporters/exporter_validation.h"
#include "storage/atomic_file.h"

namespace tracer::controlplane {
namespace {

constexpr char kMagic[] = "TREXPT01";
constexpr size_t kMagicBytes = 8;
constexpr size_t kMaxCreatedByBytes = 256;
constexpr mode_t kStateFileMode = 0600;  // header values are secrets

void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetLe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

bool IsApi(const v1::ExporterSpec& spec) { return spec.source() == kApiSource; }

// The settable fields only (what a request may carry).
v1::ExporterSpec Settable(const v1::ExporterSpec& spec) {
  v1::ExporterSpec out = spec;
  out.clear_created_unix_nano();
  out.clear_version();
  out.clear_created_by();
  out.clear_source();
  return out;
}

}  // namespace

v1::ExporterSpec RedactSecrets(v1::ExporterSpec spec) {
  for (v1::ExporterSpec::Header& h : *spec.mutable_headers()) h.clear_value();
  return spec;
}

ExporterRegistry::ExporterRegistry(ExporterRegistryOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<ExporterRegistry>> ExporterRegistry::Open(
    ExporterRegistryOptions options) {
  std::unique_ptr<ExporterRegistry> registry(new ExporterRegistry(std::move(options)));
  RETURN_IF_ERROR(registry->Load());
  return registry;
}

int64_t ExporterRegistry::Now() const {
  return options_.now_unix_nanos ? options_.now_unix_nanos() : absl::GetCurrentTimeNanos();
}

absl::Status ExporterRegistry::Load() {
  if (options_.state_path.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> data = storage::ReadWholeFile(options_.state_path);
  if (absl::IsNotFound(data.status())) return absl::OkStatus();
  if (!data.ok()) return data.status();
  auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(
        absl::StrCat(options_.state_path, ": malformed exporter state: ", why));
  };
  if (data->size() < kMagicBytes + 8 || data->compare(0, kMagicBytes, kMagic) != 0) {
    return corrupt("bad header");
  }
  const uint64_t version = GetLe(data->data() + kMagicBytes, 8);
  std::map<std::string, v1::ExporterSpec, std::less<>> exporters;
  size_t pos = kMagicBytes + 8;
  while (pos < data->size()) {
    if (data->size() - pos < 4) return corrupt("truncated length");
    const uint32_t len = static_cast<uint32_t>(GetLe(data->data() + pos, 4));
    pos += 4;
    if (data->size() - pos < len) return corrupt("truncated exporter");
    v1::ExporterSpec spec;
    if (!spec.ParseFromArray(data->data() + pos, static_cast<int>(len))) {
      return corrupt("exporter does not parse");
    }
    pos += len;
    if (!ValidateExporterName(spec.name()).ok() || exporters.count(spec.name()) > 0) {
      return corrupt(
          absl::StrCat("bad or repeated exporter name \"", absl::CHexEscape(spec.name()), "\""));
    }
    spec.set_source(std::string(kApiSource));
    std::string name = spec.name();
    exporters.emplace(std::move(name), std::move(spec));
  }
  absl::MutexLock lock(&mu_);
  exporters_ = std::move(exporters);
  version_ = version;
  return absl::OkStatus();
}

absl::Status ExporterRegistry::Persist(
    const std::map<std::string, v1::ExporterSpec, std::less<>>& exporters, uint64_t version) const {
  if (options_.state_path.empty()) return absl::OkStatus();
  std::string data(kMagic, kMagicBytes);
  PutLe(&data, version, 8);
  for (const auto& [name, spec] : exporters) {
    if (!IsApi(spec)) continue;
    const std::string bytes = spec.SerializeAsString();
    PutLe(&data, bytes.size(), 4);
    data += bytes;
  }
  return storage::WriteFileAtomically(options_.state_path, data, kStateFileMode);
}

absl::StatusOr<v1::ExporterSpec> ExporterRegistry::Add(const v1::ExporterSpec& request,
                                                       bool replace, absl::string_view created_by) {
  v1::ExporterSpec spec = Settable(request);
  RETURN_IF_ERROR(ValidateExporterSpec(spec));
  spec.set_source(std::string(kApiSource));
  spec.set_created_by(std::string(created_by.substr(0, kMaxCreatedByBytes)));
  spec.set_created_unix_nano(static_cast<uint64_t>(Now()));

  absl::MutexLock lock(&mu_);
  auto it = exporters_.find(spec.name());
  if (it != exporters_.end()) {
    if (!IsApi(it->second)) {
      return absl::FailedPreconditionError(absl::StrCat("exporter ", spec.name(),
                                                        " comes from the control plane's start-up ",
                                                        it->second.source(), "; change it there"));
    }
    if (!replace) {
      return absl::AlreadyExistsError(
          absl::StrCat("exporter ", spec.name(), " exists (replace it with --replace)"));
    }
    spec.set_created_unix_nano(it->second.created_unix_nano());
  } else if (exporters_.size() >= options_.max_exporters) {
    return absl::ResourceExhaustedError(
        absl::StrCat("at most ", options_.max_exporters, " exporters; remove one first"));
  }
  const uint64_t version = version_ + 1;
  spec.set_version(version);
  auto next = exporters_;
  next[spec.name()] = spec;
  RETURN_IF_ERROR(Persist(next, version));
  exporters_ = std::move(next);
  version_ = version;
  return RedactSecrets(std::move(spec));
}

absl::StatusOr<v1::ExporterSpec> ExporterRegistry::AddStartup(const v1::ExporterSpec& request,
                                                              absl::string_view source) {
  v1::ExporterSpec spec = Settable(request);
  RETURN_IF_ERROR(ValidateExporterSpec(spec));
  spec.set_source(std::string(source));
  spec.set_created_by(std::string(source));
  spec.set_created_unix_nano(static_cast<uint64_t>(Now()));
  absl::MutexLock lock(&mu_);
  auto it = exporters_.find(spec.name());
  if (it != exporters_.end()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "exporter ", spec.name(), " from the start-up ", source, " is also ",
        IsApi(it->second) ? "stored (tracectl exporters add); remove one of them"
                          : absl::StrCat("given by the start-up ", it->second.source())));
  }
  if (exporters_.size() >= options_.max_exporters) {
    return absl::ResourceExhaustedError(
        absl::StrCat("at most ", options_.max_exporters, " exporters"));
  }
  exporters_[spec.name()] = spec;
  return RedactSecrets(std::move(spec));
}

absl::StatusOr<v1::ExporterSpec> ExporterRegistry::Remove(absl::string_view name) {
  RETURN_IF_ERROR(ValidateExporterName(name));
  absl::MutexLock lock(&mu_);
  auto it = exporters_.find(name);
  if (it == exporters_.end()) return absl::NotFoundError(absl::StrCat("no exporter ", name));
  if (!IsApi(it->second)) {
    return absl::FailedPreconditionError(
        absl::StrCat("exporter ", name, " comes from the control plane's start-up ",
                     it->second.source(), "; remove it there and restart"));
  }
  const uint64_t version = version_ + 1;
  auto next = exporters_;
  v1::ExporterSpec removed = std::move(next.find(name)->second);
  next.erase(std::string(name));
  RETURN_IF_ERROR(Persist(next, version));
  exporters_ = std::move(next);
  version_ = version;
  removed.set_version(version);
  return RedactSecrets(std::move(removed));
}

absl::StatusOr<v1::ExporterSpec> ExporterRegistry::GetWithSecrets(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = exporters_.find(name);
  if (it == exporters_.end()) return absl::NotFoundError(absl::StrCat("no exporter ", name));
  return it->second;
}

std::vector<v1::ExporterSpec> ExporterRegistry::ListWithSecrets() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::ExporterSpec> out;
  out.reserve(exporters_.size());
  for (const auto& [name, spec] : exporters_) out.push_back(spec);
  return out;
}

std::vector<v1::ExporterSpec> ExporterRegistry::ListRedacted() const {
  std::vector<v1::ExporterSpec> out = ListWithSecrets();
  for (v1::ExporterSpec& spec : out) spec = RedactSecrets(std::move(spec));
  return out;
}

uint64_t ExporterRegistry::version() const {
  absl::MutexLock lock(&mu_);
  return version_;
}

}  // namespace tracer::controlplane
