// ExporterRegistry: the control plane's OTLP exporters (DESIGN.md "Export"),
// validated, versioned and stored like the sessions
// (controlplane/sessions/session_registry.h).
//
// Two kinds of entries:
//   - "api" exporters (tracectl exporters add): persisted in one file
//     (ExporterRegistryOptions::state_path, mode 0600: header values are
//     secrets such as API tokens), rewritten atomically before a change
//     becomes visible. Every change bumps one registry version, and the
//     changed exporter records it. A change whose write fails is not
//     applied.
//   - start-up exporters (source "config", "flags" or "env"): from the
//     daemon's configuration, kept in memory only (the configuration is
//     their home; editing it and restarting changes them). They have
//     version 0 and cannot be removed through the API.
//
// Secrets: ListRedacted() and the results of Add/Remove blank header
// values; only ListWithSecrets() (for the fan-out that sends them) and the
// state file hold them.
//
// File format: the 8 bytes "TREXPT01", a little-endian u64 registry
// version, then for each stored exporter a little-endian u32 length and that
// many bytes of serialized tracer.v1.ExporterSpec.
#ifndef TRACER_CONTROLPLANE_EXPORTERS_EXPORTER_REGISTRY_H_
#define TRACER_CONTROLPLANE_EXPORTERS_EXPORTER_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tracer/v1/control.pb.h"

namespace tracer::controlplane {

// ExporterSpec.source of exporters added through the ControlService API.
inline constexpr absl::string_view kApiSource = "api";

struct ExporterRegistryOptions {
  // File holding the "api" exporters (created on the first change; its
  // directory must exist). Empty: in memory only (tests).
  std::string state_path;
  // At most this many exporters of both kinds; more is RESOURCE_EXHAUSTED.
  size_t max_exporters = 64;
  // Unix time in ns. Default: absl::GetCurrentTimeNanos.
  std::function<int64_t()> now_unix_nanos;
};

// Returns `spec` with every header value replaced by "" (keys kept).
v1::ExporterSpec RedactSecrets(v1::ExporterSpec spec);

// Thread-safe: every method may be called concurrently.
class ExporterRegistry {
 public:
  // Loads options.state_path if it exists. Errors: DATA_LOSS when the file
  // is malformed, INTERNAL on read errors. Stored exporters are not
  // re-validated here (a CA file may have moved; FanOut reports that).
  static absl::StatusOr<std::unique_ptr<ExporterRegistry>> Open(ExporterRegistryOptions options);

  // Validates `spec` (exporter_validation.h) and stores it as an "api"
  // exporter with created time now, `created_by` (truncated to 256 bytes)
  // and a new registry version. With `replace`, an existing api exporter of
  // that name is replaced (keeping its created time). Returns the stored
  // spec, redacted. Errors: INVALID_ARGUMENT naming the field;
  // ALREADY_EXISTS (name taken and !replace); FAILED_PRECONDITION (the name
  // is a start-up exporter); RESOURCE_EXHAUSTED; INTERNAL when persisting
  // fails. On error nothing changes.
  absl::StatusOr<v1::ExporterSpec> Add(const v1::ExporterSpec& spec, bool replace,
                                       absl::string_view created_by);

  // Adds a start-up exporter (in memory, version 0, `source` as given, e.g.
  // "config"). Errors: as Add, and ALREADY_EXISTS when the name is stored
  // already (a start-up exporter never silently shadows a stored one).
  absl::StatusOr<v1::ExporterSpec> AddStartup(const v1::ExporterSpec& spec,
                                              absl::string_view source);

  // Removes api exporter `name` (new registry version). Returns the removed
  // spec, redacted, with the new version. Errors: INVALID_ARGUMENT (bad
  // name), NOT_FOUND, FAILED_PRECONDITION (a start-up exporter), INTERNAL.
  absl::StatusOr<v1::ExporterSpec> Remove(absl::string_view name);

  // The exporter called `name`, with secrets. Errors: NOT_FOUND.
  absl::StatusOr<v1::ExporterSpec> GetWithSecrets(absl::string_view name) const;

  // All exporters sorted by name: with header values (for the fan-out), or
  // redacted (for anything shown to a user).
  std::vector<v1::ExporterSpec> ListWithSecrets() const;
  std::vector<v1::ExporterSpec> ListRedacted() const;

  // The registry version (0 before the first stored change ever).
  uint64_t version() const;

 private:
  explicit ExporterRegistry(ExporterRegistryOptions options);
  int64_t Now() const;
  absl::Status Load();
  // Writes the api exporters of `exporters` and `version` to the file.
  absl::Status Persist(const std::map<std::string, v1::ExporterSpec, std::less<>>& exporters,
                       uint64_t version) const;

  const ExporterRegistryOptions options_;
  mutable absl::Mutex mu_;
  std::map<std::string, v1::ExporterSpec, std::less<>> exporters_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_EXPORTERS_EXPORTER_REGISTRY_H_
