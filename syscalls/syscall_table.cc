#include "syscalls/syscall_table.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace tracer::syscalls {
namespace {

struct SyscallRow {
  int nr;
  std::string_view name;
  int arg_count;  // -1: unknown
};

struct ErrnoRow {
  int value;
  std::string_view name;
  std::string_view message;
};

#include "syscalls/syscall_tables.inc"

constexpr size_t kMaxInternedUnknown = 4096;

template <typename Row>
const Row* FindRow(const Row* begin, const Row* end, int key, int Row::*field) {
  const Row* it =
      std::lower_bound(begin, end, key, [field](const Row& r, int k) { return r.*field < k; });
  if (it == end || it->*field != key) return nullptr;
  return it;
}

const SyscallRow* FindSyscall(int nr) {
  return FindRow(std::begin(kSyscallRows), std::end(kSyscallRows), nr, &SyscallRow::nr);
}

const ErrnoRow* FindErrno(int err) {
  return FindRow(std::begin(kErrnoRows), std::end(kErrnoRows), err, &ErrnoRow::value);
}

// Names made up for numbers the table lacks. node_hash_map keeps the strings
// at stable addresses, so the returned views stay valid.
class UnknownNames {
 public:
  std::string_view Get(int nr) {
    absl::MutexLock lock(&mu_);
    auto it = names_.find(nr);
    if (it != names_.end()) return it->second;
    if (names_.size() >= kMaxInternedUnknown) return "syscall_unknown";
    auto [pos, inserted] =
        names_.emplace(nr, absl::StrFormat("syscall_%#x", static_cast<uint32_t>(nr)));
    return pos->second;
  }

 private:
  absl::Mutex mu_;
  absl::node_hash_map<int, std::string> names_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::string_view SyscallName(int nr) {
  if (const SyscallRow* row = FindSyscall(nr)) return row->name;
  static UnknownNames* unknown = new UnknownNames();
  return unknown->Get(nr);
}

std::optional<int> SyscallNumber(std::string_view name) {
  static const auto* by_name = [] {
    auto* m = new absl::flat_hash_map<std::string_view, int>();
    for (const SyscallRow& r : kSyscallRows) m->emplace(r.name, r.nr);
    return m;
  }();
  auto it = by_name->find(name);
  if (it == by_name->end()) return std::nullopt;
  return it->second;
}

std::optional<int> SyscallArgCount(int nr) {
  const SyscallRow* row = FindSyscall(nr);
  if (row == nullptr || row->arg_count < 0) return std::nullopt;
  return row->arg_count;
}

const std::vector<int>& AllSyscallNumbers() {
  static const auto* all = [] {
    auto* v = new std::vector<int>();
    for (const SyscallRow& r : kSyscallRows) v->push_back(r.nr);
    return v;
  }();
  return *all;
}

std::string_view ErrnoName(int err) {
  const ErrnoRow* row = FindErrno(err);
  return row == nullptr ? std::string_view() : row->name;
}

std::string_view ErrnoMessage(int err) {
  const ErrnoRow* row = FindErrno(err);
  return row == nullptr ? std::string_view() : row->message;
}

}  // namespace tracer::syscalls
