#include "agent/daemon/control_client.h"

#include "common/backoff.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "glog/logging.h"

namespace tracer::daemon {

using Stream = grpc::ClientReaderWriter<tracer::v1::AgentMessage, tracer::v1::ControlMessage>;

ControlClient::ControlClient(std::shared_ptr<grpc::Channel> channel, ControlClientOptions options,
                             PolicyHandler* handler)
    : stub_(tracer::v1::AgentService::NewStub(std::move(channel))),
      options_(std::move(options)),
      handler_(handler) {}

ControlClient::~ControlClient() { Stop(); }

void ControlClient::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ControlClient::Stop() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
    if (active_ctx_ != nullptr) active_ctx_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

ControlClientState ControlClient::State() const {
  absl::MutexLock l(&mu_);
  return state_;
}

bool ControlClient::Write(Stream* stream, const tracer::v1::AgentMessage& m) {
  absl::MutexLock l(&write_mu_);
  return stream->Write(m);
}

void ControlClient::ReportStatus(const tracer::v1::PolicyStatus& status) {
  absl::MutexLock l(&mu_);
  last_status_ = status;
  if (active_stream_ == nullptr || !state_.connected) return;
  tracer::v1::AgentMessage m;
  *m.mutable_policy_status() = status;
  absl::MutexLock w(&write_mu_);
  active_stream_->Write(m);
}

void ControlClient::Run() {
  common::Backoff backoff(common::ReconnectBackoff(options_.initial_backoff, options_.max_backoff));
  while (true) {
    if (RunStream()) backoff.Reset();  // a stream that worked starts a new run of failures
    const absl::Duration wait = backoff.Next();
    absl::MutexLock l(&mu_);
    auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    if (stopping_ || mu_.AwaitWithTimeout(absl::Condition(&stopping), wait)) return;
  }
}

void ControlClient::HandlePolicy(const tracer::v1::Policy& policy, Stream* stream) {
  tracer::v1::PolicyStatus status;
  bool apply = false;
  {
    absl::MutexLock l(&mu_);
    if (!last_status_.has_value() || policy.version() > state_.applied_policy_version) {
      apply = true;
    } else if (policy.version() == state_.applied_policy_version) {
      status = *last_status_;
    } else {
      LOG(WARNING) << "control: ignoring policy version " << policy.version()
                   << " older than the applied " << state_.applied_policy_version;
      return;
    }
  }
  if (apply) {
    status = handler_->Apply(policy);
    status.set_policy_version(policy.version());
    absl::MutexLock l(&mu_);
    last_status_ = status;
    state_.applied_policy_version = policy.version();
    ++state_.policies_applied;
    LOG(INFO) << "control: applied policy version " << policy.version() << " ("
              << policy.sessions_size() << " sessions)";
  }
  tracer::v1::AgentMessage m;
  *m.mutable_policy_status() = status;
  Write(stream, m);
}

bool ControlClient::RunStream() {
  grpc::ClientContext ctx;
  {
    absl::MutexLock l(&mu_);
    if (stopping_) return false;
    active_ctx_ = &ctx;
    stream_broken_ = false;
    state_.connected = false;
    ++state_.connects;
  }
  std::unique_ptr<Stream> stream = stub_->Connect(&ctx);
  bool welcomed = false;
  {
    tracer::v1::AgentMessage hello;
    *hello.mutable_hello() = options_.hello;
    if (Write(stream.get(), hello)) {
      std::thread reader([&] {
        tracer::v1::ControlMessage m;
        while (stream->Read(&m)) {
          if (m.has_welcome()) {
            if (m.welcome().protocol_version() != tracer::v1::PROTOCOL_VERSION_1) {
              LOG(ERROR) << "control: the control plane speaks protocol version "
                         << m.welcome().protocol_version() << ", this agent "
                         << tracer::v1::PROTOCOL_VERSION_1;
            }
            welcomed = true;
            {
              absl::MutexLock l(&mu_);
              state_.connected = true;
              state_.agent_id = m.welcome().agent_id();
              active_stream_ = stream.get();
            }
            LOG(INFO) << "control: connected as agent " << m.welcome().agent_id();
            if (options_.on_welcome) options_.on_welcome(m.welcome());
          } else if (m.has_policy()) {
            HandlePolicy(m.policy(), stream.get());
          }
        }
        absl::MutexLock l(&mu_);
        stream_broken_ = true;
      });
      // Heartbeats until the stream breaks or we stop.
      while (true) {
        {
          absl::MutexLock l(&mu_);
          auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
            return stopping_ || stream_broken_;
          };
          if (mu_.AwaitWithTimeout(absl::Condition(&wake), options_.heartbeat_interval)) break;
        }
        tracer::v1::AgentMessage hb;
        hb.mutable_heartbeat()->set_unix_nano(absl::GetCurrentTimeNanos());
        if (options_.counters) *hb.mutable_heartbeat()->mutable_counters() = options_.counters();
        if (!Write(stream.get(), hb)) break;
        if (options_.current_status) {
          tracer::v1::AgentMessage st;
          *st.mutable_policy_status() = options_.current_status();
          if (st.policy_status().policy_version() > 0 && !Write(stream.get(), st)) break;
        }
        absl::MutexLock l(&mu_);
        ++state_.heartbeats_sent;
      }
      ctx.TryCancel();
      reader.join();
    } else {
      ctx.TryCancel();
    }
  }
  {
    absl::MutexLock l(&mu_);
    active_stream_ = nullptr;
  }
  grpc::Status st = stream->Finish();
  absl::MutexLock l(&mu_);
  active_ctx_ = nullptr;
  state_.connected = false;
  if (!stopping_) {
    ++state_.stream_failures;
    LOG(WARNING) << "control: stream to the control plane ended: " << st.error_code() << " "
                 << st.error_message() << "; reconnecting";
  }
  return welcomed;
}

}  // namespace tracer::daemon
