#include "controlplane/exporters/exporter_manager.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controlplane/exporters/backend_options.h"
#include "glog/logging.h"

namespace tracer::controlplane {

ExporterManager::ExporterManager(ExporterRegistry* registry, fanout::FanOut* fanout)
    : registry_(registry), fanout_(fanout) {}

absl::Status ExporterManager::Start(const std::vector<v1::ExporterSpec>& startup) {
  absl::MutexLock lock(&mu_);
  for (const v1::ExporterSpec& spec : startup) {
    auto added = registry_->AddStartup(spec, spec.source());
    if (!added.ok()) {
      return absl::Status(added.status().code(),
                          absl::StrCat("exporter from the start-up ", spec.source(), ": ",
                                       added.status().message()));
    }
  }
  bool all_started = true;
  for (const v1::ExporterSpec& spec : registry_->ListWithSecrets()) {
    absl::StatusOr<fanout::BackendOptions> options = ToBackendOptions(spec);
    absl::Status status =
        options.ok() ? fanout_->AddBackend(*std::move(options)) : options.status();
    if (status.ok()) {
      LOG(INFO) << "exporter " << spec.name() << " (" << spec.source() << ", "
                << (spec.protocol().empty() ? "grpc" : spec.protocol()) << " " << spec.endpoint()
                << ") started";
      continue;
    }
    if (spec.source() != kApiSource) {
      return absl::Status(status.code(), absl::StrCat("exporter ", spec.name(), " (start-up ",
                                                      spec.source(), "): ", status.message()));
    }
    LOG(ERROR) << "stored exporter " << spec.name() << " cannot start: " << status
               << " (its queue cursor is kept; fix it with tracectl exporters add --replace)";
    all_started = false;
  }
  if (!all_started) return absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> stale = fanout_->RemoveStaleCursors();
  if (!stale.ok()) return stale.status();
  for (const std::string& name : *stale) {
    LOG(INFO) << "exporter " << name << " is no longer configured: deleted its queue cursor";
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ExporterSpec> ExporterManager::Add(const v1::ExporterSpec& spec, bool replace,
                                                      absl::string_view created_by) {
  absl::MutexLock lock(&mu_);
  std::optional<v1::ExporterSpec> previous;
  if (auto old = registry_->GetWithSecrets(spec.name()); old.ok()) previous = *std::move(old);
  absl::StatusOr<v1::ExporterSpec> stored = registry_->Add(spec, replace, created_by);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<v1::ExporterSpec> full = registry_->GetWithSecrets(spec.name());
  absl::Status status = full.status();
  if (status.ok()) {
    absl::StatusOr<fanout::BackendOptions> options = ToBackendOptions(*full);
    status = options.ok() ? fanout_->AddBackend(*std::move(options)) : options.status();
  }
  if (status.ok()) return stored;
  // Undo the stored change so that the registry shows what runs.
  absl::Status undo =
      previous.has_value()
          ? registry_->Add(*previous, /*replace=*/true, previous->created_by()).status()
          : registry_->Remove(spec.name()).status();
  if (!undo.ok()) {
    LOG(ERROR) << "exporter " << spec.name()
               << ": undoing a change the fan-out refused failed: " << undo;
  }
  return status;
}

absl::StatusOr<v1::ExporterSpec> ExporterManager::Remove(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<v1::ExporterSpec> removed = registry_->Remove(name);
  if (!removed.ok()) return removed.status();
  if (absl::Status s = fanout_->RemoveBackend(std::string_view(name.data(), name.size()));
      !s.ok() && !absl::IsNotFound(s)) {
    LOG(ERROR) << "exporter " << name
               << " removed from the registry, but stopping it failed: " << s;
  }
  return removed;
}

}  // namespace tracer::controlplane
