// AgentRegistry: what the control plane knows about each agent that has
// connected since it started: its Hello, connection state, last heartbeat
// counters and how it applied the policy (proto/tracer/v1/agent.proto).
// In memory only; agents re-send all of it when they reconnect.
#ifndef TRACER_CONTROLPLANE_SERVER_AGENT_REGISTRY_H_
#define TRACER_CONTROLPLANE_SERVER_AGENT_REGISTRY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "tracer/v1/agent.pb.h"
#include "tracer/v1/control.pb.h"
#include "tracer/v1/session.pb.h"

namespace tracer::controlplane {

inline constexpr size_t kMaxAgents = 10000;
inline constexpr int kMaxPolicyStatusSessions = 1024;

// Bounds of agent-sent messages; INVALID_ARGUMENT naming the field.
//   hello.node_id 1..128 bytes, hostname <= 253, kernel_release <= 128,
//   agent_version <= 64, capabilities <= 32 x <= 64 bytes, labels <= 32
//   pairs (key 1..128, value <= 256).
absl::Status ValidateHello(const v1::Hello& hello);
//   policy_status.sessions <= 1024, session_id <= 64, error <= 1024 bytes.
absl::Status ValidatePolicyStatus(const v1::PolicyStatus& status);

// Thread-safe.
class AgentRegistry {
 public:
  // Records a (re)connection of hello.node_id at `now_unix_nano`; returns a
  // token for Disconnected. Errors: RESOURCE_EXHAUSTED beyond kMaxAgents
  // distinct agents.
  absl::StatusOr<uint64_t> Connected(const v1::Hello& hello, uint64_t now_unix_nano);
  // Marks the agent disconnected unless it reconnected since `token`.
  void Disconnected(const std::string& agent_id, uint64_t token);
  void RecordHeartbeat(const std::string& agent_id, const v1::Heartbeat& hb);
  void RecordPolicyStatus(const std::string& agent_id, const v1::PolicyStatus& status);

  // Every known agent, by agent id (last_uploaded_seq left 0).
  std::vector<v1::AgentInfo> List() const;

  // How each agent selected by `session` applied it.
  std::vector<v1::SessionDetail::AgentState> SessionStates(const v1::Session& session) const;

 private:
  struct Entry {
    v1::AgentInfo info;
    v1::PolicyStatus status;
    uint64_t token = 0;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Entry> agents_ ABSL_GUARDED_BY(mu_);
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_SERVER_AGENT_REGISTRY_H_
