#include "controlplane/server/controlplane.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace tracer::controlplane {

absl::StatusOr<std::unique_ptr<ControlPlane>> ControlPlane::Open(
    ControlPlaneOptions options) {
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
  if (absl::Status s = cp->queue_->RegisterConsumer(
          kStoreConsumer, storage::StartPosition::kOldest);
      !s.ok()) {
    return s;
  }
  options.store.path = options.data_dir + "/traces";
  auto store = TraceStore::Open(options.store);
  if (!store.ok()) return store.status();
  cp->store_ = std::move(*store);
  SessionRegistryOptions session_options;
  session_options.state_path = options.data_dir + "/sessions";
  auto sessions = SessionRegistry::Open(session_options);
  if (!sessions.ok()) return sessions.status();
  cp->sessions_ = std::move(*sessions);
  cp->consumer_ =
      std::make_unique<StoreConsumer>(cp->queue_.get(), cp->store_.get());
  StoreConsumer* consumer = cp->consumer_.get();
  auto ingest = UploadIngest::Open(cp->queue_.get(), cp->store_->HighWaterMarks(),
                                   [consumer] { consumer->Notify(); });
  if (!ingest.ok()) return ingest.status();
  cp->ingest_ = std::move(*ingest);
  cp->agent_service_ = std::make_unique<AgentServiceImpl>(
      cp->sessions_.get(), &cp->agents_, cp->ingest_.get());
  cp->control_service_ = std::make_unique<ControlServiceImpl>(
      cp->sessions_.get(), &cp->agents_, cp->ingest_.get(), cp->queue_.get(),
      cp->store_.get());
  cp->consumer_->Start(absl::Milliseconds(200), options.retention_every);
  const absl::Duration every = options.expire_every;
  ControlPlane* raw = cp.get();
  cp->expire_thread_ = std::thread([raw, every] { raw->ExpireLoop(every); });
  LOG(INFO) << "control plane data in " << options.data_dir << ": policy version "
            << cp->sessions_->version() << ", "
            << cp->sessions_->List(false).size() << " active sessions, "
            << cp->queue_->Stats().records << " queued records, "
            << cp->store_->Stats().spans << " stored spans";
  return cp;
}

ControlPlane::~ControlPlane() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (expire_thread_.joinable()) expire_thread_.join();
  consumer_.reset();  // stops its thread without draining
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
  }
  if (expire_thread_.joinable()) expire_thread_.join();
  consumer_->Stop();
  LOG(INFO) << "control plane flushed: " << queue_->Stats().records
            << " records queued, " << store_->Stats().spans << " spans stored";
}

}  // namespace tracer::controlplane
