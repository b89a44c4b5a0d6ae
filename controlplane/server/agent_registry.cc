#include "controlplane/server/agent_registry.h"

#include "absl/strings/str_cat.h"
#include "controlplane/sessions/node_selector.h"

namespace tracer::controlplane {
namespace {

absl::Status CheckLength(absl::string_view field, const std::string& value, size_t min,
                         size_t max) {
  if (value.size() < min) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": is empty"));
  }
  if (value.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": longer than ", max, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateHello(const v1::Hello& hello) {
  absl::Status s = CheckLength("hello.node_id", hello.node_id(), 1, 128);
  if (s.ok()) s = CheckLength("hello.hostname", hello.hostname(), 0, 253);
  if (s.ok()) s = CheckLength("hello.kernel_release", hello.kernel_release(), 0, 128);
  if (s.ok()) s = CheckLength("hello.agent_version", hello.agent_version(), 0, 64);
  if (!s.ok()) return s;
  if (hello.capabilities_size() > 32) {
    return absl::InvalidArgumentError("hello.capabilities: more than 32 entries");
  }
  for (int i = 0; i < hello.capabilities_size(); ++i) {
    if (s = CheckLength(absl::StrCat("hello.capabilities[", i, "]"), hello.capabilities(i), 0, 64);
        !s.ok()) {
      return s;
    }
  }
  if (hello.labels_size() > 32) {
    return absl::InvalidArgumentError("hello.labels: more than 32 pairs");
  }
  for (const auto& [key, value] : hello.labels()) {
    if (s = CheckLength("hello.labels (key)", key, 1, 128); !s.ok()) return s;
    if (s = CheckLength(absl::StrCat("hello.labels[", key, "]"), value, 0, 256); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePolicyStatus(const v1::PolicyStatus& status) {
  if (status.sessions_size() > kMaxPolicyStatusSessions) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy_status.sessions: more than ", kMaxPolicyStatusSessions));
  }
  for (int i = 0; i < status.sessions_size(); ++i) {
    const auto& state = status.sessions(i);
    absl::Status s = CheckLength(absl::StrCat("policy_status.sessions[", i, "].session_id"),
                                 state.session_id(), 1, 64);
    if (s.ok()) {
      s = CheckLength(absl::StrCat("policy_status.sessions[", i, "].error"), state.error(), 0,
                      1024);
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> AgentRegistry::Connected(const v1::Hello& hello, uint64_t now_unix_nano) {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(hello.node_id());
  if (it == agents_.end()) {
    if (agents_.size() >= kMaxAgents) {
      return absl::ResourceExhaustedError(absl::StrCat("more than ", kMaxAgents, " agents"));
    }
    it = agents_.emplace(hello.node_id(), Entry()).first;
  }
  Entry& entry = it->second;
  entry.info.set_agent_id(hello.node_id());
  *entry.info.mutable_hello() = hello;
  entry.info.set_connected(true);
  entry.info.set_connected_unix_nano(now_unix_nano);
  entry.token = next_token_++;
  return entry.token;
}

void AgentRegistry::Disconnected(const std::string& agent_id, uint64_t token) {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(agent_id);
  if (it != agents_.end() && it->second.token == token) {
    it->second.info.set_connected(false);
  }
}

void AgentRegistry::RecordHeartbeat(const std::string& agent_id, const v1::Heartbeat& hb) {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(agent_id);
  if (it == agents_.end()) return;
  it->second.info.set_last_heartbeat_unix_nano(hb.unix_nano());
  *it->second.info.mutable_counters() = hb.counters();
}

void AgentRegistry::RecordPolicyStatus(const std::string& agent_id,
                                       const v1::PolicyStatus& status) {
  absl::MutexLock lock(&mu_);
  auto it = agents_.find(agent_id);
  if (it == agents_.end()) return;
  it->second.status = status;
  it->second.info.set_policy_version_applied(status.policy_version());
}

std::vector<v1::AgentInfo> AgentRegistry::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::AgentInfo> out;
  for (const auto& [id, entry] : agents_) out.push_back(entry.info);
  return out;
}

std::vector<v1::SessionDetail::AgentState> AgentRegistry::SessionStates(
    const v1::Session& session) const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::SessionDetail::AgentState> out;
  for (const auto& [id, entry] : agents_) {
    if (!SelectsAgent(session.nodes(), entry.info.hello())) continue;
    v1::SessionDetail::AgentState state;
    state.set_agent_id(id);
    state.set_node_id(entry.info.hello().node_id());
    state.set_connected(entry.info.connected());
    for (const auto& s : entry.status.sessions()) {
      if (s.session_id() != session.id()) continue;
      state.set_applied(s.applied());
      state.set_error(s.error());
      state.set_spans_captured(s.spans_captured());
    }
    out.push_back(std::move(state));
  }
  return out;
}

}  // namespace tracer::controlplane
