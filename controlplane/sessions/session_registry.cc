#include "controlplane/sessions/session_registry.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "controlplane/sessions/node_selector.h"
#include "controlplane/sessions/session_validation.h"
#include "storage/atomic_file.h"

namespace tracer::controlplane {
namespace {

constexpr char kMagic[] = "TRSESS01";
constexpr size_t kMagicBytes = 8;
constexpr size_t kMaxCreatedByBytes = 256;
constexpr size_t kMaxIdBytes = 64;

bool Ended(const v1::Session& s) { return s.state() != v1::Session::ACTIVE; }

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetLe(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  }
  return v;
}

}  // namespace

SessionRegistry::SessionRegistry(SessionRegistryOptions options) : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<SessionRegistry>> SessionRegistry::Open(
    SessionRegistryOptions options) {
  std::unique_ptr<SessionRegistry> registry(new SessionRegistry(std::move(options)));
  RETURN_IF_ERROR(registry->Load());
  return registry;
}

int64_t SessionRegistry::Now() const {
  return options_.now_unix_nanos ? options_.now_unix_nanos() : absl::GetCurrentTimeNanos();
}

absl::Status SessionRegistry::Load() {
  if (options_.state_path.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> read = storage::ReadWholeFile(options_.state_path);
  if (absl::IsNotFound(read.status())) return absl::OkStatus();
  if (!read.ok()) return read.status();
  const std::string& data = *read;
  auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(
        absl::StrCat(options_.state_path, ": malformed session state: ", why));
  };
  if (data.size() < kMagicBytes + 8 || data.compare(0, kMagicBytes, kMagic) != 0) {
    return corrupt("bad header");
  }
  uint64_t version = GetLe(data.data() + kMagicBytes, 8);
  std::vector<v1::Session> sessions;
  size_t pos = kMagicBytes + 8;
  while (pos < data.size()) {
    if (data.size() - pos < 4) return corrupt("truncated length");
    uint32_t len = static_cast<uint32_t>(GetLe(data.data() + pos, 4));
    pos += 4;
    if (data.size() - pos < len) return corrupt("truncated session");
    v1::Session session;
    if (!session.ParseFromArray(data.data() + pos, static_cast<int>(len))) {
      return corrupt("session does not parse");
    }
    pos += len;
    sessions.push_back(std::move(session));
  }
  absl::MutexLock lock(&mu_);
  sessions_ = std::move(sessions);
  version_ = version;
  return absl::OkStatus();
}

absl::Status SessionRegistry::Persist(const std::vector<v1::Session>& sessions,
                                      uint64_t version) const {
  if (options_.state_path.empty()) return absl::OkStatus();
  std::string data(kMagic, kMagicBytes);
  PutU64(&data, version);
  for (const v1::Session& session : sessions) {
    std::string bytes = session.SerializeAsString();
    PutU32(&data, static_cast<uint32_t>(bytes.size()));
    data += bytes;
  }
  return storage::WriteFileAtomically(options_.state_path, data, 0600);
}

void SessionRegistry::PruneEnded(std::vector<v1::Session>* sessions) const {
  size_t ended = static_cast<size_t>(std::count_if(sessions->begin(), sessions->end(), Ended));
  for (auto it = sessions->begin();
       ended > options_.max_finished_sessions && it != sessions->end();) {
    if (Ended(*it)) {
      it = sessions->erase(it);
      --ended;
    } else {
      ++it;
    }
  }
}

absl::StatusOr<v1::Session> SessionRegistry::Start(const v1::Session& request,
                                                   absl::string_view created_by) {
  if (absl::Status s = ValidateSession(request); !s.ok()) return s;
  v1::Session session = request;
  absl::BitGen gen;
  session.set_id(absl::StrFormat("s-%016x", absl::Uniform<uint64_t>(gen)));
  session.set_state(v1::Session::ACTIVE);
  session.set_created_unix_nano(static_cast<uint64_t>(Now()));
  session.set_stopped_unix_nano(0);
  session.set_created_by(std::string(created_by.substr(0, kMaxCreatedByBytes)));

  absl::MutexLock lock(&mu_);
  size_t active = static_cast<size_t>(std::count_if(
      sessions_.begin(), sessions_.end(), [](const v1::Session& s) { return !Ended(s); }));
  if (active >= options_.max_active_sessions) {
    return absl::ResourceExhaustedError(
        absl::StrCat("at most ", options_.max_active_sessions, " active sessions; stop one first"));
  }
  const uint64_t version = version_ + 1;
  session.set_version(version);
  std::vector<v1::Session> next = sessions_;
  next.push_back(session);
  PruneEnded(&next);
  if (absl::Status s = Persist(next, version); !s.ok()) return s;
  sessions_ = std::move(next);
  version_ = version;
  return session;
}

absl::StatusOr<v1::Session> SessionRegistry::Stop(absl::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("session_id: is empty");
  if (id.size() > kMaxIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("session_id: longer than ", kMaxIdBytes, " bytes"));
  }
  absl::MutexLock lock(&mu_);
  auto it = std::find_if(sessions_.begin(), sessions_.end(),
                         [&](const v1::Session& s) { return s.id() == id; });
  if (it == sessions_.end()) {
    return absl::NotFoundError(absl::StrCat("no session ", id));
  }
  if (Ended(*it)) return *it;
  const uint64_t version = version_ + 1;
  std::vector<v1::Session> next = sessions_;
  v1::Session& session = next[static_cast<size_t>(it - sessions_.begin())];
  session.set_state(v1::Session::STOPPED);
  session.set_stopped_unix_nano(static_cast<uint64_t>(Now()));
  session.set_version(version);
  v1::Session result = session;
  PruneEnded(&next);
  RETURN_IF_ERROR(Persist(next, version));
  sessions_ = std::move(next);
  version_ = version;
  return result;
}

absl::StatusOr<int> SessionRegistry::ExpireDue() {
  const int64_t now = Now();
  absl::MutexLock lock(&mu_);
  const uint64_t version = version_ + 1;
  std::vector<v1::Session> next = sessions_;
  int expired = 0;
  for (v1::Session& session : next) {
    const uint64_t duration_s = session.limits().duration_seconds();
    if (Ended(session) || duration_s == 0) continue;
    const int64_t end = static_cast<int64_t>(session.created_unix_nano()) +
                        static_cast<int64_t>(duration_s) * 1000000000;
    if (now < end) continue;
    session.set_state(v1::Session::EXPIRED);
    session.set_stopped_unix_nano(static_cast<uint64_t>(now));
    session.set_version(version);
    ++expired;
  }
  if (expired == 0) return 0;
  PruneEnded(&next);
  RETURN_IF_ERROR(Persist(next, version));
  sessions_ = std::move(next);
  version_ = version;
  return expired;
}

absl::StatusOr<v1::Session> SessionRegistry::Get(absl::string_view id) const {
  absl::MutexLock lock(&mu_);
  for (const v1::Session& session : sessions_) {
    if (session.id() == id) return session;
  }
  return absl::NotFoundError(absl::StrCat("no session ", id));
}

std::vector<v1::Session> SessionRegistry::List(bool include_ended) const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Session> out;
  for (const v1::Session& session : sessions_) {
    if (include_ended || !Ended(session)) out.push_back(session);
  }
  return out;
}

uint64_t SessionRegistry::version() const {
  absl::MutexLock lock(&mu_);
  return version_;
}

v1::Policy SessionRegistry::PolicyFor(const v1::Hello& hello) const {
  absl::MutexLock lock(&mu_);
  v1::Policy policy;
  policy.set_version(version_);
  for (const v1::Session& session : sessions_) {
    if (!Ended(session) && SelectsAgent(session.nodes(), hello)) {
      *policy.add_sessions() = session;
    }
  }
  return policy;
}

bool SessionRegistry::WaitForVersionAbove(uint64_t known, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto above = [this, known]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return version_ > known; };
  return mu_.AwaitWithTimeout(absl::Condition(&above), timeout);
}

}  // namespace tracer::controlplane
