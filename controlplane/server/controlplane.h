// ControlPlane: the control plane's parts on one data directory, wired
// together: the durable queue (storage::RocksDbWal in <data_dir>/queue), the
// embedded trace store (<data_dir>/traces) and its queue consumer, the
// session registry (<data_dir>/sessions), the agent registry, and the two
// gRPC services. The caller builds the grpc::Server and registers
// agent_service() and control_service().
#ifndef TRACER_CONTROLPLANE_SERVER_CONTROLPLANE_H_
#define TRACER_CONTROLPLANE_SERVER_CONTROLPLANE_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
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
};

// Methods are thread-safe. Destroying without Shutdown() is allowed (what a
// crash leaves is recovered by the next Open).
class ControlPlane {
 public:
  // Opens every part (see above) and starts the background threads (store
  // consumer, session expiry). Errors: from the parts.
  static absl::StatusOr<std::unique_ptr<ControlPlane>> Open(
      ControlPlaneOptions options);
  ~ControlPlane();

  v1::AgentService::Service* agent_service() { return agent_service_.get(); }
  v1::ControlService::Service* control_service() {
    return control_service_.get();
  }

  // Stops the background threads after moving every queued record into the
  // store. Call after the gRPC server stopped. Idempotent.
  void Shutdown();

  SessionRegistry* sessions() { return sessions_.get(); }
  TraceStore* store() { return store_.get(); }
  storage::Wal* queue() { return queue_.get(); }

 private:
  ControlPlane() = default;
  void ExpireLoop(absl::Duration every);

  std::unique_ptr<storage::RocksDbWal> queue_;
  std::unique_ptr<TraceStore> store_;
  std::unique_ptr<SessionRegistry> sessions_;
  std::unique_ptr<UploadIngest> ingest_;
  std::unique_ptr<StoreConsumer> consumer_;
  AgentRegistry agents_;
  std::unique_ptr<AgentServiceImpl> agent_service_;
  std::unique_ptr<ControlServiceImpl> control_service_;
  std::thread expire_thread_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_SERVER_CONTROLPLANE_H_
