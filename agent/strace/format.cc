#include "agent/strace/format.h"

#include <fcntl.h>
#include <sched.h>

#include <algorithm>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/strace/flags.h"
#include "agent/strace/quote.h"
#include "agent/strace/signatures.h"
#include "agent/strace/sockaddr.h"
#include "syscalls/syscall_table.h"

namespace tracer::strace {
namespace {

using capture::Blob;
using capture::BlobKind;
using capture::SyscallEvent;

constexpr int kMaxErrno = 4095;

// Kernel restart codes that strace reports with "?" instead of -1: the call
// was interrupted and will be restarted (or turned into EINTR) by the kernel.
constexpr int kErestartsys = 512;
constexpr int kErestartnointr = 513;
constexpr int kErestartnohand = 514;
constexpr int kErestartRestartblock = 516;

int32_t AsInt(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }

std::string Hex(uint64_t v) { return absl::StrFormat("%#x", v); }

std::string Ptr(uint64_t v) { return v == 0 ? "NULL" : Hex(v); }

const Blob* BlobOfKind(const SyscallEvent& e, int index, BlobKind kind) {
  const Blob* b = e.BlobFor(index);
  return b != nullptr && b->kind == kind ? b : nullptr;
}

std::string Path(const SyscallEvent& e, int i) {
  const Blob* b = BlobOfKind(e, i, BlobKind::kString);
  if (b == nullptr) return Ptr(e.args[i]);
  // A path is NUL-terminated; bytes after a stray NUL are not part of it.
  std::string_view s = b->data.substr(0, b->data.find('\0'));
  return QuoteBytes(s, b->truncated);
}

// A data buffer of `length` bytes of which the blob holds the first ones.
std::string Buffer(const SyscallEvent& e, int i, uint64_t length, const FormatOptions& o) {
  const Blob* b = BlobOfKind(e, i, BlobKind::kBytes);
  if (b == nullptr) return Ptr(e.args[i]);
  size_t shown = std::min<uint64_t>({b->data.size(), o.max_string_len, length});
  return QuoteBytes(b->data.substr(0, shown), shown < length);
}

std::vector<std::string_view> SplitNul(std::string_view data) {
  std::vector<std::string_view> parts;
  while (!data.empty()) {
    size_t nul = data.find('\0');
    parts.push_back(data.substr(0, nul));
    if (nul == std::string_view::npos) break;
    data.remove_prefix(nul + 1);
  }
  return parts;
}

std::string Argv(const SyscallEvent& e, int i, const FormatOptions& o) {
  const Blob* b = BlobOfKind(e, i, BlobKind::kArgv);
  if (b == nullptr) return Ptr(e.args[i]);
  std::vector<std::string_view> parts = SplitNul(b->data);
  // Without a trailing NUL the last string was cut by the capture bound.
  bool last_cut = b->truncated && !b->data.empty() && b->data.back() != '\0';
  std::string out = "[";
  for (size_t k = 0; k < parts.size(); ++k) {
    if (k > 0) out += ", ";
    if (k == o.max_array_len) {
      out += "...";
      return out + "]";
    }
    std::string_view s = parts[k];
    bool more = s.size() > o.max_string_len || (last_cut && k + 1 == parts.size());
    out += QuoteBytes(s.substr(0, o.max_string_len), more);
  }
  if (b->truncated) out += parts.empty() ? "..." : ", ...";
  return out + "]";
}

std::string Envp(const SyscallEvent& e, int i) {
  std::string out = Ptr(e.args[i]);
  if (const Blob* b = BlobOfKind(e, i, BlobKind::kArgv)) {
    size_t n = SplitNul(b->data).size();
    absl::StrAppend(&out, " /* ", n, b->truncated ? "+" : "", n == 1 ? " var */" : " vars */");
  }
  return out;
}

std::string Sockaddr(const SyscallEvent& e, int i) {
  const Blob* b = BlobOfKind(e, i, BlobKind::kSockaddr);
  if (b == nullptr) return Ptr(e.args[i]);
  return FormatSockaddr(b->data);
}

// The third fcntl argument depends on the command.
std::string FcntlArg(uint64_t cmd, uint64_t arg) {
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
    case F_SETOWN:
    case F_SETPIPE_SZ:
      return absl::StrCat(AsInt(arg));
    case F_SETSIG:
      return SignalToString(arg);
    case F_SETFD:
      return FdFlagsToString(arg);
    case F_SETFL:
      return OpenFlagsToString(arg);
    default:
      return Hex(arg);
  }
}

bool FcntlTakesArg(uint64_t cmd) {
  switch (cmd) {
    case F_GETFD:
    case F_GETFL:
    case F_GETOWN:
    case F_GETSIG:
    case F_GETLEASE:
    case F_GETPIPE_SZ:
    case F_GET_SEALS:
      return false;
    default:
      return true;
  }
}

std::string FormatOne(const SyscallEvent& e, const Signature& sig, int i, const FormatOptions& o) {
  uint64_t v = e.args[i];
  switch (sig.kinds[i]) {
    case ArgKind::kHex:
      return Hex(v);
    case ArgKind::kPtr:
      return Ptr(v);
    case ArgKind::kInt:
    case ArgKind::kFd:
      return absl::StrCat(AsInt(v));
    case ArgKind::kLong:
      return absl::StrCat(static_cast<int64_t>(v));
    case ArgKind::kULong:
      return absl::StrCat(v);
    case ArgKind::kDirFd:
      return DirFdToString(v);
    case ArgKind::kPath:
      return Path(e, i);
    case ArgKind::kReadBuf:
      // Filled only on success; strace shows the pointer otherwise.
      if (e.no_return || IsError(e.ret)) return Ptr(v);
      return Buffer(e, i, static_cast<uint64_t>(e.ret), o);
    case ArgKind::kWriteBuf:
      return Buffer(e, i, i + 1 < 6 ? e.args[i + 1] : 0, o);
    case ArgKind::kArgv:
      return Argv(e, i, o);
    case ArgKind::kEnvp:
      return Envp(e, i);
    case ArgKind::kSockaddr:
      return Sockaddr(e, i);
    case ArgKind::kOpenFlags:
      return OpenFlagsToString(v);
    case ArgKind::kCloexecFlags:
      return CloexecFlagsToString(v);
    case ArgKind::kMode:
      return ModeToString(v);
    case ArgKind::kAtFlags:
      return AtFlagsToString(v);
    case ArgKind::kFaccessatFlags:
      return FaccessatFlagsToString(v);
    case ArgKind::kAccessMode:
      return AccessModeToString(v);
    case ArgKind::kProt:
      return ProtToString(v);
    case ArgKind::kMmapFlags:
      return MmapFlagsToString(v);
    case ArgKind::kFcntlCmd:
      return FcntlCmdToString(v);
    case ArgKind::kSocketDomain:
      return SocketDomainToString(v);
    case ArgKind::kSocketType:
      return SocketTypeToString(v);
    case ArgKind::kSocketProto:
      return SocketProtocolToString(e.args[0], v);
    case ArgKind::kSocketFlags:
      return SocketFlagsToString(v);
    case ArgKind::kShutdownHow:
      return ShutdownHowToString(v);
    case ArgKind::kWhence:
      return WhenceToString(v);
    case ArgKind::kSignal:
      return SignalToString(v);
    case ArgKind::kSigprocHow:
      return SigprocmaskHowToString(v);
    case ArgKind::kWaitOptions:
      return WaitOptionsToString(v);
  }
  return Hex(v);
}

// x86-64 clone(flags, stack, parent_tid, child_tid, tls), named like strace.
std::string FormatClone(const SyscallEvent& e) {
  uint64_t flags = e.args[0];
  std::string out =
      absl::StrCat("child_stack=", Ptr(e.args[1]), ", flags=", CloneFlagsToString(flags));
  if (flags & CLONE_PARENT_SETTID) absl::StrAppend(&out, ", parent_tid=", Ptr(e.args[2]));
  if (flags & CLONE_SETTLS) absl::StrAppend(&out, ", tls=", Ptr(e.args[4]));
  if (flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID))
    absl::StrAppend(&out, ", child_tidptr=", Ptr(e.args[3]));
  return out;
}

void AppendPositional(const SyscallEvent& e, const Signature& sig, const FormatOptions& o,
                      std::string* out) {
  int count = std::min<int>(sig.arg_count, 6);
  bool is_fcntl = count == 3 && sig.kinds[1] == ArgKind::kFcntlCmd;
  if (is_fcntl && !FcntlTakesArg(e.args[1])) count = 2;
  // open/openat: like strace, the mode is shown only when the flags use it.
  if (count >= 2 && sig.kinds[count - 1] == ArgKind::kMode &&
      sig.kinds[count - 2] == ArgKind::kOpenFlags) {
    uint64_t flags = e.args[count - 2];
    if (!(flags & O_CREAT) && (flags & O_TMPFILE) != O_TMPFILE) --count;
  }
  for (int i = 0; i < count; ++i) {
    if (i > 0) out->append(", ");
    if (is_fcntl && i == 2) {
      out->append(FcntlArg(e.args[1], e.args[2]));
    } else {
      out->append(FormatOne(e, sig, i, o));
    }
  }
}

}  // namespace

bool IsError(int64_t ret) { return ret < 0 && ret >= -kMaxErrno; }

std::string FormatArgs(const SyscallEvent& event) { return FormatArgs(event, FormatOptions()); }

std::string FormatArgs(const SyscallEvent& event, const FormatOptions& options) {
  std::string out;
  AppendArgs(event, options, &out);
  return out;
}

void AppendArgs(const SyscallEvent& event, const FormatOptions& options, std::string* out) {
  if (const Signature* sig = FindSignature(event.nr)) {
    switch (sig->layout) {
      case Layout::kClone:
        out->append(FormatClone(event));
        return;
      case Layout::kPositional:
        AppendPositional(event, *sig, options, out);
        return;
    }
  }
  int count = syscalls::SyscallArgCount(event.nr).value_or(6);
  for (int i = 0; i < count; ++i) {
    if (i > 0) out->append(", ");
    out->append(Hex(event.args[i]));
  }
}

void AppendResult(const SyscallEvent& event, std::string* out) {
  // The common cases without a temporary string.
  if (!event.no_return && !IsError(event.ret)) {
    const Signature* sig = FindSignature(event.nr);
    if (sig == nullptr || sig->result == ResultKind::kDecimal) {
      absl::StrAppend(out, event.ret);
      return;
    }
  }
  out->append(FormatResult(event));
}

std::string FormatResult(const SyscallEvent& event) {
  if (event.no_return) return "?";
  int64_t ret = event.ret;
  if (IsError(ret)) {
    int err = static_cast<int>(-ret);
    std::string_view name = syscalls::ErrnoName(err);
    if (name.empty()) return absl::StrCat("-1 (errno ", err, ")");
    bool restart = err == kErestartsys || err == kErestartnointr || err == kErestartnohand ||
                   err == kErestartRestartblock;
    return absl::StrCat(restart ? "? " : "-1 ", std::string(name), " (",
                        std::string(syscalls::ErrnoMessage(err)), ")");
  }
  const Signature* sig = FindSignature(event.nr);
  ResultKind kind = sig != nullptr ? sig->result : ResultKind::kDecimal;
  switch (kind) {
    case ResultKind::kHex:
      return Hex(static_cast<uint64_t>(ret));
    case ResultKind::kFcntl:
      if (event.args[1] == F_GETFL)
        return absl::StrCat(Hex(ret), " (flags ", OpenFlagsToString(ret), ")");
      if (event.args[1] == F_GETFD)
        return absl::StrCat(Hex(ret), " (flags ", FdFlagsToString(ret), ")");
      return absl::StrCat(ret);
    case ResultKind::kDecimal:
      return absl::StrCat(ret);
  }
  return absl::StrCat(ret);
}

}  // namespace tracer::strace
