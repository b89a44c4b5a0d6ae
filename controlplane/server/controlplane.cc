#include "controlplane/server/controlplane.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "glog/logging.h"

namespace tracer::controlplane {

absl::StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::Open(ControlPlaneOptions options) {
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError("data_dir is required");
  }
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot create ", options.data_dir, ": ", ec.message()));
  }
  std::unique_ptr<ControlPlane> cp(new ControlPlane());
  options.queue.data_dir = options.data_dir + "/queue";
  auto queue = storage::RocksDbWal::Open(options.queue);
  if (!queue.ok()) return queue.status();
  cp->queue_ = std::move(*queue);
  RETURN_IF_ERROR(cp->queue_->RegisterConsumer(kStoreConsumer, storage::StartPosition::kOldest));
  options.store.path = options.data_dir + "/traces";
  auto store = TraceStore::Open(options.store);
  if (!store.ok()) return store.status();
  cp->store_ = std::move(*store);
  SessionRegistryOptions session_options;
  session_options.state_path = options.data_dir + "/sessions";
  auto sessions = SessionRegistry::Open(session_options);
  if (!sessions.ok()) return sessions.status();
  cp->sessions_ = std::move(*sessions);
  ExporterRegistryOptions exporter_options;
  exporter_options.state_path = options.data_dir + "/exporters";
  auto exporters = ExporterRegistry::Open(exporter_options);
  if (!exporters.ok()) return exporters.status();
  cp->exporters_ = std::move(*exporters);
  fanout::FanOutOptions fanout_options;
  fanout_options.dead_letter_dir = options.data_dir + "/dead_letter";
  fanout_options.resource_attributes = options.resource_attributes;
  fanout_options.poll = options.export_poll;
  cp->fanout_ = std::make_unique<fanout::FanOut>(cp->queue_.get(), std::move(fanout_options));
  cp->export_drain_ = options.export_drain;
  cp->exporter_manager_ =
      std::make_unique<ExporterManager>(cp->exporters_.get(), cp->fanout_.get());
  RETURN_IF_ERROR(cp->exporter_manager_->Start(options.startup_exporters));
  cp->consumer_ = std::make_unique<StoreConsumer>(cp->queue_.get(), cp->store_.get());
  StoreConsumer* consumer = cp->consumer_.get();
  fanout::FanOut* fanout = cp->fanout_.get();
  auto ingest =
      UploadIngest::Open(cp->queue_.get(), cp->store_->HighWaterMarks(), [consumer, fanout] {
        consumer->Notify();
        fanout->Notify();
      });
  if (!ingest.ok()) return ingest.status();
  cp->ingest_ = std::move(*ingest);
  cp->agent_service_ =
      std::make_unique<AgentServiceImpl>(cp->sessions_.get(), &cp->agents_, cp->ingest_.get());
  cp->control_service_ = std::make_unique<ControlServiceImpl>(
      cp->sessions_.get(), &cp->agents_, cp->ingest_.get(), cp->queue_.get(), cp->store_.get(),
      ControlServiceImpl::Exporters{cp->exporters_.get(), cp->exporter_manager_.get(),
                                    cp->fanout_.get()});
  cp->consumer_->Start(absl::Milliseconds(200), options.retention_every);
  const absl::Duration every = options.expire_every;
  ControlPlane* raw = cp.get();
  cp->expire_thread_ = std::thread([raw, every] { raw->ExpireLoop(every); });
  LOG(INFO) << "control plane data in " << options.data_dir << ": policy version "
            << cp->sessions_->version() << ", " << cp->sessions_->List(false).size()
            << " active sessions, " << cp->queue_->Stats().records << " queued records, "
            << cp->store_->Stats().spans << " stored spans, "
            << cp->exporters_->ListWithSecrets().size() << " exporters (version "
            << cp->exporters_->version() << ")";
  return cp;
}

ControlPlane::~ControlPlane() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (expire_thread_.joinable()) expire_thread_.join();
  consumer_.reset();  // stops its thread without draining
  if (fanout_ != nullptr) fanout_->Stop(absl::ZeroDuration());
}

void ControlPlane::ExpireLoop(absl::Duration every) {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), every);
      if (stop_) return;
    }
    absl::StatusOr<int> expired = sessions_->ExpireDue();
    if (!expired.ok()) {
      LOG(ERROR) << "session expiry: " << expired.status();
    } else if (*expired > 0) {
      LOG(INFO) << *expired << " session(s) reached their duration limit";
    }
  }
}

void ControlPlane::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    if (shut_down_) return;
    shut_down_ = true;
  }
  if (expire_thread_.joinable()) expire_thread_.join();
  consumer_->Stop();
  fanout_->Stop(export_drain_);
  uint64_t lag = 0;
  for (const fanout::BackendStats& b : fanout_->Stats()) {
    lag += b.queue_lag_records;
    if (b.queue_lag_records > 0) {
      LOG(INFO) << "exporter " << b.name << ": " << b.queue_lag_records
                << " records left queued for the next start";
    }
  }
  LOG(INFO) << "control plane flushed: " << queue_->Stats().records << " records queued (" << lag
            << " behind exporters), " << store_->Stats().spans << " spans stored";
}

}  // namespace tracer::controlplane
