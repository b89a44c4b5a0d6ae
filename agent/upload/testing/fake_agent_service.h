// FakeAgentService: an in-process AgentService (proto/tracer/v1/agent.proto)
// on loopback, insecure, for tests of the agent's uploader and control
// client. It behaves as the control plane's contract says: Upload stores each
// (agent_id, seq) once and acks it (duplicate = true when seen before);
// Connect answers Hello with Welcome and then pushes the current Policy.
// Knobs let tests break streams and withhold acks. Thread-safe.
#ifndef TRACER_AGENT_UPLOAD_TESTING_FAKE_AGENT_SERVICE_H_
#define TRACER_AGENT_UPLOAD_TESTING_FAKE_AGENT_SERVICE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "tracer/v1/agent.grpc.pb.h"

namespace tracer::upload::testing {

class FakeAgentService final : public tracer::v1::AgentService::Service {
 public:
  // One stored upload.
  struct Stored {
    std::string agent_id;
    uint64_t seq = 0;
    std::string batch;
    uint32_t span_count = 0;
  };

  // --- Upload knobs ---
  // The next Upload stream fails with UNAVAILABLE when it receives a request
  // with this seq (before storing it), and stops withholding acks. One-shot.
  void BreakUploadAtSeq(uint64_t seq) {
    absl::MutexLock l(&mu_);
    break_at_seq_ = seq;
  }
  // While true, requests are stored but not acknowledged.
  void SetWithholdAcks(bool withhold) {
    absl::MutexLock l(&mu_);
    withhold_acks_ = withhold;
  }

  // --- Connect knobs ---
  // The policy pushed after Welcome on every Connect, and to streams already
  // open.
  void SetPolicy(const tracer::v1::Policy& policy) {
    absl::MutexLock l(&mu_);
    policy_ = policy;
    ++policy_generation_;
  }
  // Ends every open Connect stream with UNAVAILABLE.
  void DropConnectStreams() {
    absl::MutexLock l(&mu_);
    ++drop_generation_;
  }

  // --- Observations ---
  std::vector<Stored> stored() const {
    absl::MutexLock l(&mu_);
    return stored_;
  }
  // Seqs received on each Upload stream, in order, resends included.
  std::vector<std::vector<uint64_t>> upload_streams() const {
    absl::MutexLock l(&mu_);
    return upload_streams_;
  }
  std::vector<tracer::v1::Hello> hellos() const {
    absl::MutexLock l(&mu_);
    return hellos_;
  }
  std::vector<tracer::v1::Heartbeat> heartbeats() const {
    absl::MutexLock l(&mu_);
    return heartbeats_;
  }
  std::vector<tracer::v1::PolicyStatus> policy_statuses() const {
    absl::MutexLock l(&mu_);
    return statuses_;
  }
  // Waits until `pred(*this)` holds or `timeout` passes; returns pred's value.
  template <typename Pred>
  bool WaitFor(Pred pred, absl::Duration timeout) const {
    absl::Time deadline = absl::Now() + timeout;
    while (!pred(*this)) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return true;
  }

  grpc::Status Upload(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<tracer::v1::UploadAck, tracer::v1::UploadRequest>* stream) override {
    {
      absl::MutexLock l(&mu_);
      upload_streams_.emplace_back();
    }
    tracer::v1::UploadRequest req;
    while (stream->Read(&req)) {
      tracer::v1::UploadAck ack;
      bool send = false;
      {
        absl::MutexLock l(&mu_);
        upload_streams_.back().push_back(req.seq());
        if (break_at_seq_ && *break_at_seq_ == req.seq()) {
          break_at_seq_.reset();
          withhold_acks_ = false;
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "test: stream broken");
        }
        auto key = std::make_pair(req.agent_id(), req.seq());
        bool dup = seen_.count(key) > 0;
        if (!dup) {
          seen_[key] = true;
          stored_.push_back(Stored{req.agent_id(), req.seq(), req.batch(), req.span_count()});
        }
        ack.set_seq(req.seq());
        ack.set_duplicate(dup);
        send = !withhold_acks_;
      }
      if (send && !stream->Write(ack)) break;
    }
    (void)ctx;
    return grpc::Status::OK;
  }

  grpc::Status Connect(grpc::ServerContext* ctx,
                       grpc::ServerReaderWriter<tracer::v1::ControlMessage,
                                                tracer::v1::AgentMessage>* stream) override {
    tracer::v1::AgentMessage first;
    if (!stream->Read(&first) || !first.has_hello()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "hello: expected first");
    }
    uint64_t drop_gen;
    {
      absl::MutexLock l(&mu_);
      hellos_.push_back(first.hello());
      drop_gen = drop_generation_;
    }
    absl::Mutex write_mu;
    {
      tracer::v1::ControlMessage m;
      m.mutable_welcome()->set_agent_id("agent-" + first.hello().node_id());
      m.mutable_welcome()->set_protocol_version(tracer::v1::PROTOCOL_VERSION_1);
      absl::MutexLock l(&write_mu);
      stream->Write(m);
    }
    std::atomic<bool> done{false};
    // Reader: heartbeats and policy statuses.
    std::thread reader([&] {
      tracer::v1::AgentMessage m;
      while (stream->Read(&m)) {
        absl::MutexLock l(&mu_);
        if (m.has_heartbeat()) heartbeats_.push_back(m.heartbeat());
        if (m.has_policy_status()) statuses_.push_back(m.policy_status());
      }
      done.store(true);
    });
    // Writer: push the policy when it changes; end on a drop request.
    uint64_t sent_gen = 0;
    grpc::Status result = grpc::Status::OK;
    while (!done.load() && !ctx->IsCancelled()) {
      std::optional<tracer::v1::Policy> to_send;
      {
        absl::MutexLock l(&mu_);
        if (drop_generation_ != drop_gen) {
          result = grpc::Status(grpc::StatusCode::UNAVAILABLE, "test: dropped");
          break;
        }
        if (policy_ && policy_generation_ != sent_gen) {
          to_send = policy_;
          sent_gen = policy_generation_;
        }
      }
      if (to_send) {
        tracer::v1::ControlMessage m;
        *m.mutable_policy() = *to_send;
        absl::MutexLock l(&write_mu);
        if (!stream->Write(m)) break;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    ctx->TryCancel();
    reader.join();
    return result;
  }

 private:
  mutable absl::Mutex mu_;
  std::optional<uint64_t> break_at_seq_ ABSL_GUARDED_BY(mu_);
  bool withhold_acks_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::pair<std::string, uint64_t>, bool> seen_ ABSL_GUARDED_BY(mu_);
  std::vector<Stored> stored_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<uint64_t>> upload_streams_ ABSL_GUARDED_BY(mu_);
  std::optional<tracer::v1::Policy> policy_ ABSL_GUARDED_BY(mu_);
  uint64_t policy_generation_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t drop_generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<tracer::v1::Hello> hellos_ ABSL_GUARDED_BY(mu_);
  std::vector<tracer::v1::Heartbeat> heartbeats_ ABSL_GUARDED_BY(mu_);
  std::vector<tracer::v1::PolicyStatus> statuses_ ABSL_GUARDED_BY(mu_);
};

// Runs a FakeAgentService on 127.0.0.1 (a free port), insecure.
class FakeControlPlane {
 public:
  FakeControlPlane() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
  }
  ~FakeControlPlane() { server_->Shutdown(std::chrono::system_clock::now()); }

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::shared_ptr<grpc::Channel> NewChannel() const {
    return grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
  }
  FakeAgentService& service() { return service_; }

 private:
  FakeAgentService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace tracer::upload::testing

#endif  // TRACER_AGENT_UPLOAD_TESTING_FAKE_AGENT_SERVICE_H_
