// ExporterManager: keeps the fan-out's running backends
// (controlplane/fanout/fanout.h) in step with the exporter registry. Every
// change is validated, stored, then applied to the fan-out; if the fan-out
// refuses it, the stored change is undone, so what `tracectl exporters
// list` shows is what runs.
#ifndef TRACER_CONTROLPLANE_EXPORTERS_EXPORTER_MANAGER_H_
#define TRACER_CONTROLPLANE_EXPORTERS_EXPORTER_MANAGER_H_

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "controlplane/exporters/exporter_registry.h"
#include "controlplane/fanout/fanout.h"
#include "tracer/v1/control.pb.h"

namespace tracer::controlplane {

// Thread-safe; changes are serialized.
class ExporterManager {
 public:
  // Neither owned; both outlive the manager.
  ExporterManager(ExporterRegistry* registry, fanout::FanOut* fanout);

  // Called once at start: registers `startup` (each with its source set,
  // startup_exporters.h) in the registry, starts a backend for every
  // exporter, then deletes the queue cursors of exporters that no longer
  // exist (FanOut::RemoveStaleCursors). A stored exporter that cannot start
  // (e.g. its CA file is gone) is logged and skipped, and then no cursor is
  // deleted (its backlog is kept for when it is fixed). Errors: a start-up
  // exporter that is invalid, clashes with a stored one, or cannot start
  // (misconfiguration stops the daemon early).
  absl::Status Start(const std::vector<v1::ExporterSpec>& startup);

  // ExporterRegistry::Add, then FanOut::AddBackend (a replaced backend
  // restarts on its cursor). Returns the stored spec, redacted. Errors: the
  // registry's, or the fan-out's (the stored change is then undone).
  absl::StatusOr<v1::ExporterSpec> Add(const v1::ExporterSpec& spec, bool replace,
                                       absl::string_view created_by);

  // ExporterRegistry::Remove, then FanOut::RemoveBackend (its cursor is
  // deleted: the queue stops keeping records for it). Returns the removed
  // spec, redacted. Errors: the registry's.
  absl::StatusOr<v1::ExporterSpec> Remove(absl::string_view name);

 private:
  ExporterRegistry* const registry_;
  fanout::FanOut* const fanout_;
  absl::Mutex mu_;  // serializes changes
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_EXPORTERS_EXPORTER_MANAGER_H_
