#include "agent/daemon/http_linger.h"

namespace tracer::daemon {

void HttpLinger::Add(uint32_t tgid, std::shared_ptr<SessionTrace> trace, uint64_t until_ns) {
  lingering_[tgid] = {std::move(trace), until_ns};
}

SessionTrace* HttpLinger::Find(uint32_t tgid) const {
  auto it = lingering_.find(tgid);
  return it == lingering_.end() ? nullptr : it->second.first.get();
}

void HttpLinger::RemoveIf(const std::function<bool(const SessionTrace&)>& pred,
                          const std::function<void(SessionTrace&)>& removed) {
  std::set<SessionTrace*> done;
  for (auto it = lingering_.begin(); it != lingering_.end();) {
    std::shared_ptr<SessionTrace> t = it->second.first;
    if (!pred(*t)) {
      ++it;
      continue;
    }
    if (done.insert(t.get()).second) removed(*t);
    it = lingering_.erase(it);
  }
}

std::map<SessionTrace*, std::shared_ptr<SessionTrace>> HttpLinger::TakeExpired(uint64_t now_ns) {
  std::map<SessionTrace*, std::shared_ptr<SessionTrace>> expired;
  for (auto it = lingering_.begin(); it != lingering_.end();) {
    if (now_ns >= it->second.second) {
      expired[it->second.first.get()] = it->second.first;
      it = lingering_.erase(it);
    } else {
      ++it;
    }
  }
  return expired;
}

void HttpLinger::ForEachTrace(const std::function<void(SessionTrace&)>& fn) const {
  for (const auto& [pid, entry] : lingering_) fn(*entry.first);
}

}  // namespace tracer::daemon
