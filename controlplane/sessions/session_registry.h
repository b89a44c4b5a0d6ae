// SessionRegistry: the control plane's sessions and the policy version
// (DESIGN.md, "Control path").
//
// Every accepted change (start, stop, expiry) bumps one global policy
// version; a session records the version that last changed it. The state
// is persisted in one small file (see SessionRegistryOptions::state_path),
// rewritten atomically (write temp, fsync, rename, fsync directory) before a
// change becomes visible, so a restart keeps the sessions and the version.
// A change whose write fails is not applied.
//
// File format: the 8 bytes "TRSESS01", a little-endian u64 policy version,
// then for each session a little-endian u32 length and that many bytes of
// serialized tracer.v1.Session.
#ifndef TRACER_CONTROLPLANE_SESSIONS_SESSION_REGISTRY_H_
#define TRACER_CONTROLPLANE_SESSIONS_SESSION_REGISTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "absl/strings/string_view.h"

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tracer/v1/agent.pb.h"
#include "tracer/v1/session.pb.h"

namespace tracer::controlplane {

struct SessionRegistryOptions {
  // File holding the sessions (created on the first change; its directory
  // must exist). Empty: in memory only (tests).
  std::string state_path;
  // At most this many ACTIVE sessions; StartSession beyond it fails with
  // RESOURCE_EXHAUSTED.
  size_t max_active_sessions = 256;
  // Stopped / expired sessions kept for `session list --all` and `show`;
  // older ones are forgotten first.
  size_t max_finished_sessions = 1000;
  // Unix time in ns. Default: absl::GetCurrentTimeNanos.
  std::function<int64_t()> now_unix_nanos;
};

// Thread-safe: every method may be called concurrently.
class SessionRegistry {
 public:
  // Loads `options.state_path` if it exists. Errors: DATA_LOSS if the file
  // is malformed, INTERNAL on read errors.
  static absl::StatusOr<std::unique_ptr<SessionRegistry>> Open(SessionRegistryOptions options);

  // Validates `request` (session_validation.h) and, if valid, stores it as a
  // new ACTIVE session with a fresh id ("s-" + 16 hex digits), created time,
  // `created_by` (truncated to 256 bytes) and a new policy version. Returns
  // the stored session. Errors: INVALID_ARGUMENT naming the field,
  // RESOURCE_EXHAUSTED (too many active sessions), INTERNAL when persisting
  // fails. On error nothing changes.
  absl::StatusOr<v1::Session> Start(const v1::Session& request, absl::string_view created_by);

  // Marks session `id` STOPPED (stopped time now, new policy version).
  // Stopping a session that already ended returns it unchanged.
  // Errors: INVALID_ARGUMENT (empty or > 64 bytes id), NOT_FOUND, INTERNAL.
  absl::StatusOr<v1::Session> Stop(absl::string_view id);

  // Marks EXPIRED every ACTIVE session whose limits.duration_seconds has
  // elapsed since it was created (one new version for all of them). Returns
  // how many expired.
  absl::StatusOr<int> ExpireDue();

  // The session with `id`. Errors: NOT_FOUND.
  absl::StatusOr<v1::Session> Get(absl::string_view id) const;

  // Sessions in creation order; ended ones only if `include_ended`.
  std::vector<v1::Session> List(bool include_ended) const;

  // The current policy version (0 before the first change ever).
  uint64_t version() const;

  // The policy for the agent that said `hello`: the current version and the
  // ACTIVE sessions whose node selector selects it (node_selector.h).
  v1::Policy PolicyFor(const v1::Hello& hello) const;

  // Blocks until version() > `known` or `timeout` passes; returns whether
  // the version is above `known`.
  bool WaitForVersionAbove(uint64_t known, absl::Duration timeout) const;

 private:
  explicit SessionRegistry(SessionRegistryOptions options);
  int64_t Now() const;
  // Writes `sessions` and `version` to the state file.
  absl::Status Persist(const std::vector<v1::Session>& sessions, uint64_t version) const;
  absl::Status Load();
  // Forgets the oldest ended sessions beyond max_finished_sessions.
  void PruneEnded(std::vector<v1::Session>* sessions) const;

  const SessionRegistryOptions options_;
  mutable absl::Mutex mu_;
  std::vector<v1::Session> sessions_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_SESSIONS_SESSION_REGISTRY_H_
