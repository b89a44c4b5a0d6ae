#include "controlplane/fanout/fanout.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "otlp/delivery/backend_worker.h"
#include "otlp/delivery/transport.h"

namespace tracer::fanout {

class FanOut::Worker : public otlp::delivery::BackendWorker {
 public:
  using BackendWorker::BackendWorker;
};

namespace {

absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Invalid(std::string_view name, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("backend \"", Sv(name), "\": ", Sv(what)));
}

absl::Status ValidateName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Invalid(name, "name: must be 1..64 bytes of [a-z0-9_.-]");
  }
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return Invalid(name, "name: must be 1..64 bytes of [a-z0-9_.-]");
  }
  if (name == "." || name == "..") return Invalid(name, "name: \".\" and \"..\" are reserved");
  return absl::OkStatus();
}

absl::Status Validate(const BackendOptions& o, const FanOutOptions& fanout) {
  if (absl::Status s = ValidateName(o.name); !s.ok()) return s;
  if (o.max_batch_spans == 0) return Invalid(o.name, "max_batch_spans: must be > 0");
  if (o.max_batch_bytes == 0) return Invalid(o.name, "max_batch_bytes: must be > 0");
  if (o.breaker.failure_threshold < 1) {
    return Invalid(o.name, "breaker.failure_threshold: must be >= 1");
  }
  if (o.breaker.open_for < absl::ZeroDuration()) {
    return Invalid(o.name, "breaker.open_for: must be >= 0");
  }
  const otlp::RetryPolicy& r = o.exporter.retry;
  if (r.initial_interval <= absl::ZeroDuration()) {
    return Invalid(o.name, "retry.initial_interval: must be > 0");
  }
  if (r.enabled && (r.max_interval < r.initial_interval || r.multiplier < 1.0 ||
                    r.randomization_factor < 0.0 || r.randomization_factor > 1.0)) {
    return Invalid(o.name,
                   "retry: need max_interval >= initial_interval, multiplier >= 1 and "
                   "randomization_factor in [0, 1]");
  }
  if (o.exporter.timeout <= absl::ZeroDuration()) {
    return Invalid(o.name, "exporter.timeout: must be > 0");
  }
  if (fanout.dead_letter_dir.empty()) {
    return absl::InvalidArgumentError("FanOut: dead_letter_dir is required");
  }
  return absl::OkStatus();
}

}  // namespace

FanOut::FanOut(storage::Wal* queue, FanOutOptions options)
    : queue_(queue), options_(std::move(options)) {}

FanOut::~FanOut() { Stop(absl::ZeroDuration()); }

absl::Status FanOut::AddBackend(BackendOptions options) {
  absl::MutexLock admin(&admin_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return absl::FailedPreconditionError("FanOut is stopped");
  }
  if (absl::Status s = Validate(options, options_); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<otlp::SpanExporter>> exporter =
      options_.exporter_factory ? options_.exporter_factory(options)
                                : otlp::delivery::CreateTransport(options);
  if (!exporter.ok()) return exporter.status();
  if (*exporter == nullptr) return absl::InternalError("exporter factory returned null");
  const std::string consumer = otlp::delivery::ConsumerName(options.name);
  if (absl::Status s = queue_->RegisterConsumer(consumer, storage::StartPosition::kOldest);
      !s.ok()) {
    return s;
  }

  // Replacing: stop the old worker first so two never share the cursor.
  Worker* old = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(options.name);
    if (it != workers_.end()) old = it->second.get();
  }
  BackendStats counters;
  if (old != nullptr) {
    old->Stop();
    counters = old->Stats();
  }
  const std::string name = options.name;
  auto worker = std::make_unique<Worker>(queue_, std::move(options), *std::move(exporter),
                                         options_.resource_attributes, options_.dead_letter_dir,
                                         options_.poll, std::move(counters));
  Worker* started = worker.get();
  std::unique_ptr<Worker> replaced;
  {
    absl::MutexLock lock(&mu_);
    std::unique_ptr<Worker>& slot = workers_[name];
    replaced = std::move(slot);
    slot = std::move(worker);
  }
  started->Start();  // after it is in workers_, so Stats() sees it from its first attempt
  LOG(INFO) << (replaced ? "replaced" : "added") << " export backend " << name;
  return absl::OkStatus();
}

absl::Status FanOut::RemoveBackend(std::string_view name) {
  absl::MutexLock admin(&admin_mu_);
  Worker* worker = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(name);
    if (it == workers_.end()) {
      return absl::NotFoundError(absl::StrCat("no export backend named \"", Sv(name), "\""));
    }
    worker = it->second.get();
  }
  worker->Stop();
  std::unique_ptr<Worker> removed;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(name);
    removed = std::move(it->second);
    workers_.erase(it);
  }
  absl::Status s = queue_->RemoveConsumer(removed->consumer());
  if (!s.ok() && !absl::IsNotFound(s)) return s;
  LOG(INFO) << "removed export backend " << name;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FanOut::RemoveStaleCursors() {
  absl::MutexLock admin(&admin_mu_);
  std::vector<std::string> stale;
  const storage::WalStats stats = queue_->Stats();
  for (const storage::ConsumerStats& c : stats.consumers) {
    if (!absl::StartsWith(c.name, Sv(kConsumerPrefix))) continue;
    std::string backend = c.name.substr(kConsumerPrefix.size());
    {
      absl::MutexLock lock(&mu_);
      if (workers_.count(backend) > 0) continue;
    }
    if (absl::Status s = queue_->RemoveConsumer(c.name); !s.ok() && !absl::IsNotFound(s)) {
      return s;
    }
    LOG(INFO) << "removed the queue cursor of export backend " << backend
              << " (no longer configured)";
    stale.push_back(std::move(backend));
  }
  return stale;
}

void FanOut::Notify() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, worker] : workers_) worker->Notify();
}

std::vector<BackendStats> FanOut::Stats() const {
  std::vector<BackendStats> out;
  {
    absl::MutexLock lock(&mu_);
    out.reserve(workers_.size());
    for (const auto& [name, worker] : workers_) out.push_back(worker->Stats());
  }
  const storage::WalStats queue = queue_->Stats();
  for (BackendStats& b : out) {
    const std::string consumer = otlp::delivery::ConsumerName(b.name);
    auto it = std::lower_bound(
        queue.consumers.begin(), queue.consumers.end(), consumer,
        [](const storage::ConsumerStats& c, const std::string& n) { return c.name < n; });
    if (it == queue.consumers.end() || it->name != consumer) continue;
    b.queue_lag_records = it->lag_records;
    b.queue_lag_spans = it->lag_spans;
    b.queue_dropped_spans = it->dropped_spans;
  }
  return out;  // workers_ is ordered by name
}

void FanOut::Stop(absl::Duration drain) {
  absl::MutexLock admin(&admin_mu_);
  std::vector<Worker*> workers;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [name, worker] : workers_) workers.push_back(worker.get());
  }
  if (drain > absl::ZeroDuration()) {
    const absl::Time deadline = absl::Now() + drain;
    for (Worker* w : workers) {
      if (!w->Drain(deadline)) {
        LOG(WARNING) << "export backend " << w->Stats().name << " did not catch up within "
                     << absl::FormatDuration(drain) << "; its cursor keeps the rest queued";
      }
    }
  }
  for (Worker* w : workers) w->Stop();
}

}  // namespace tracer::fanout
