// ControlPlane: the control plane's parts on one data directory, wired
// together: the durable queue (storage::RocksDbWal in <data_dir>/queue), the
// embedded trace store (<data_dir>/traces) and its queue consumer, the
// session registry (<data_dir>/sessions), the exporter registry
// (<data_dir>/exporters) and the fan-out that delivers the queue to every
// exporter (dead letters in <data_dir>/dead_letter), the agent registry,
// and the two gRPC services. The caller builds the grpc::Server and
// registers agent_service() and control_service().
#ifndef TRACER_CONTROLPLANE_SERVER_CONTROLPLANE_H_
#define TRACER_CONTROLPLANE_SERVER_CONTROLPLANE_H_

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controlplane/exporters/exporter_manager.h"
#include "controlplane/exporters/exporter_registry.h"
#include "controlplane/fanout/fanout.h"
#include "controlplane/ingest/store_consumer.h"
#include "controlplane/ingest/upload_ingest.h"
#include "controlplane/server/agent_registry.h"
#include "controlplane/server/agent_service.h"
#include "controlplane/server/control_service.h"
#include "controlplane/sessions/session_registry.h"
#include "controlplane/store/trace_store.h"
#include "storage/rocksdb_wal.h"

namespace tracer::controlplane {

struct ControlPlaneOptions {
  // Required; created if missing.
  std::string data_dir;
  // Queue options; data_dir is replaced by <data_dir>/queue.
  storage::WalOptions queue;
  // Store options; path is replaced by <data_dir>/traces.
  TraceStoreOptions store;
  // How often session duration limits and store retention are checked.
  absl::Duration expire_every = absl::Seconds(1);
  absl::Duration retention_every = absl::Seconds(60);
  // Exporters from the start-up configuration (config file, flags,
  // OTEL_EXPORTER_OTLP_*), each with its source set (startup_exporters.h);
  // registered in memory next to the stored ones.
  std::vector<v1::ExporterSpec> startup_exporters;
  // Merged into every exported Resource (OTEL_RESOURCE_ATTRIBUTES,
  // OTEL_SERVICE_NAME); a record's own attributes win.
  std::vector<std::pair<std::string, std::string>> resource_attributes;
  // How long Shutdown() lets the exporters deliver what is queued.
  absl::Duration export_drain = absl::Seconds(5);
  // How often exporters re-read the queue without a notification.
  absl::Duration export_poll = absl::Milliseconds(200);
};

// Methods are thread-safe. Destroying without Shutdown() is allowed (what a
// crash leaves is recovered by the next Open).
class ControlPlane {
 public:
  // Opens every part (see above), starts the stored and start-up exporters
  // (ExporterManager::Start) and the background threads (store consumer,
  // session expiry). Errors: from the parts; a bad start-up exporter.
  static absl::StatusOr<std::unique_ptr<ControlPlane>> Open(ControlPlaneOptions options);
  ~ControlPlane();

  v1::AgentService::Service* agent_service() { return agent_service_.get(); }
  v1::ControlService::Service* control_service() { return control_service_.get(); }

  // Stops the background threads after moving every queued record into the
  // store, and the exporters after letting them deliver for up to
  // options.export_drain (their cursors stay: the rest goes out after the
  // next start). Call after the gRPC server stopped. Idempotent.
  void Shutdown();

  // ControlServiceImpl::BuildStatus(): what GetStatus and /metrics report.
  v1::StatusResponse Status() const { return control_service_->BuildStatus(); }

  SessionRegistry* sessions() { return sessions_.get(); }
  ExporterRegistry* exporters() { return exporters_.get(); }
  fanout::FanOut* fanout() { return fanout_.get(); }
  TraceStore* store() { return store_.get(); }
  storage::Wal* queue() { return queue_.get(); }

 private:
  ControlPlane() = default;
  void ExpireLoop(absl::Duration every);

  // Declared (so destroyed) in dependency order: the fan-out reads queue_.
  std::unique_ptr<storage::RocksDbWal> queue_;
  std::unique_ptr<TraceStore> store_;
  std::unique_ptr<SessionRegistry> sessions_;
  std::unique_ptr<ExporterRegistry> exporters_;
  std::unique_ptr<fanout::FanOut> fanout_;
  std::unique_ptr<ExporterManager> exporter_manager_;
  absl::Duration export_drain_;
  std::unique_ptr<UploadIngest> ingest_;
  std::unique_ptr<StoreConsumer> consumer_;
  AgentRegistry agents_;
  std::unique_ptr<AgentServiceImpl> agent_service_;
  std::unique_ptr<ControlServiceImpl> control_service_;
  std::thread expire_thread_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_SERVER_CONTROLPLANE_H_
