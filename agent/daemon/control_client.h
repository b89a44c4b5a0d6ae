// ControlClient: the agent's end of AgentService.Connect
// (proto/tracer/v1/agent.proto, DESIGN.md "Control path").
//
// Per stream: sends Hello first, then a Heartbeat (AgentCounters) every
// heartbeat_interval; receives Welcome (hands the agent id to on_welcome)
// and Policy messages. A Policy whose version is newer than the last applied
// one is applied through the PolicyHandler and its PolicyStatus sent back; a
// repeat of the applied version (the control plane re-pushes it on every
// reconnect) is answered with the status already known, without applying it
// again; an older version is ignored. When the stream breaks the client
// reconnects with exponential backoff and full jitter.
#ifndef TRACER_AGENT_DAEMON_CONTROL_CLIENT_H_
#define TRACER_AGENT_DAEMON_CONTROL_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "tracer/v1/agent.grpc.pb.h"

namespace tracer::daemon {

// Applies policies. Called from the client's reader thread, one call at a
// time; may block until the policy is in effect.
class PolicyHandler {
 public:
  virtual ~PolicyHandler() = default;
  // Applies `policy` (the complete set of sessions for this agent) and says
  // per session whether it is in effect. Must not throw.
  virtual tracer::v1::PolicyStatus Apply(const tracer::v1::Policy& policy) = 0;
};

struct ControlClientOptions {
  tracer::v1::Hello hello;
  absl::Duration heartbeat_interval = absl::Seconds(5);
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(15);
  // Counters for each heartbeat (called on the heartbeat thread).
  std::function<tracer::v1::AgentCounters()> counters;
  // Receives every Welcome (called on the reader thread).
  std::function<void(const tracer::v1::Welcome&)> on_welcome;
  // When set, each heartbeat is followed by this status (per-session state
  // and span counts), so the control plane's `session show` stays current
  // between policy changes. Called on the heartbeat thread.
  std::function<tracer::v1::PolicyStatus()> current_status;
};

struct ControlClientState {
  bool connected = false;  // a Welcome arrived on the current stream
  uint64_t connects = 0;   // streams opened
  uint64_t stream_failures = 0;
  uint64_t heartbeats_sent = 0;
  uint64_t policies_applied = 0;
  uint64_t applied_policy_version = 0;
  std::string agent_id;  // from the latest Welcome
};

// Thread-safe. Does not own `handler`, which must outlive the client.
class ControlClient {
 public:
  ControlClient(std::shared_ptr<grpc::Channel> channel, ControlClientOptions options,
                PolicyHandler* handler);
  ~ControlClient();  // Stop()s

  void Start();
  // Ends the stream and the threads. Idempotent.
  void Stop();

  // Sends `status` on the current stream (e.g. a session ended by a limit).
  // Dropped when not connected (the next connect re-reports via the policy
  // re-push).
  void ReportStatus(const tracer::v1::PolicyStatus& status);

  ControlClientState State() const;

 private:
  void Run();
  bool RunStream();  // true if a Welcome arrived
  void HandlePolicy(
      const tracer::v1::Policy& policy,
      grpc::ClientReaderWriter<tracer::v1::AgentMessage, tracer::v1::ControlMessage>* stream);
  bool Write(grpc::ClientReaderWriter<tracer::v1::AgentMessage, tracer::v1::ControlMessage>* stream,
             const tracer::v1::AgentMessage& m);

  const std::unique_ptr<tracer::v1::AgentService::Stub> stub_;
  const ControlClientOptions options_;
  PolicyHandler* const handler_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stream_broken_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* active_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  grpc::ClientReaderWriter<tracer::v1::AgentMessage, tracer::v1::ControlMessage>* active_stream_
      ABSL_GUARDED_BY(mu_) = nullptr;
  std::optional<tracer::v1::PolicyStatus> last_status_ ABSL_GUARDED_BY(mu_);
  ControlClientState state_ ABSL_GUARDED_BY(mu_);
  absl::Mutex write_mu_;  // one writer at a time on the stream
  std::thread thread_;
};

}  // namespace tracer::daemon

#endif  // TRACER_AGENT_DAEMON_CONTROL_CLIENT_H_
