#include "agent/capture/socket_hooks.h"

#include <bpf/libbpf.h>
#include <linux/types.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agent/capture/libbpf_status.h"
#include "bpf/sockets.h"

namespace tracer::capture {
namespace {

struct FollowedCall {
  const char* tracepoint;  // suffix of syscalls:sys_enter_* / sys_exit_*
  int args;                // arguments its enter program reads
};
#define SOCKETS_FOLLOWED_CALL(name, tp, args) FollowedCall{tp, args},
constexpr FollowedCall kFollowedCalls[] = {SOCKETS_FOLLOWED_CALLS(SOCKETS_FOLLOWED_CALL)};
#undef SOCKETS_FOLLOWED_CALL

constexpr char kExitProgram[] = "sockets_tp_exit";

// The tracefs libbpf uses to resolve tracepoint ids (libbpf's
// tracefs_path(): debugfs's tracing/ when it exists, else tracefs).
const char* LibbpfTracefs() {
  return access("/sys/kernel/debug/tracing", F_OK) == 0 ? "/sys/kernel/debug/tracing"
                                                        : "/sys/kernel/tracing";
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

SocketHooks ChooseSocketHooks(bool syscall_programs) {
  if (syscall_programs) return SocketHooks::kRawTracepoints;
  const std::string path = std::string(LibbpfTracefs()) + "/events/syscalls/sys_enter_read/id";
  return access(path.c_str(), R_OK) == 0 ? SocketHooks::kSyscallTracepoints
                                         : SocketHooks::kRawTracepoints;
}

const char* SocketHooksName(SocketHooks hooks) {
  return hooks == SocketHooks::kSyscallTracepoints ? "syscall tracepoints" : "raw tracepoints";
}

void SelectSocketHooks(bpf_object* obj, SocketHooks hooks) {
  const bool tracepoints = hooks == SocketHooks::kSyscallTracepoints;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    const std::string_view sec = bpf_program__section_name(prog);
    if (StartsWith(sec, "tp/syscalls/")) {
      bpf_program__set_autoload(prog, tracepoints);
      bpf_program__set_autoattach(prog, false);  // SocketTracepointLinks
    } else if (sec == "raw_tp/sys_enter" || sec == "raw_tp/sys_exit") {
      bpf_program__set_autoload(prog, !tracepoints);
    }
  }
}

SocketTracepointLinks& SocketTracepointLinks::operator=(SocketTracepointLinks&& o) noexcept {
  if (this != &o) {
    DetachAll();
    links_ = std::move(o.links_);
    o.links_.clear();
  }
  return *this;
}

absl::Status SocketTracepointLinks::Attach(bpf_object* obj) {
  bpf_program* exit = bpf_object__find_program_by_name(obj, kExitProgram);
  for (const FollowedCall& call : kFollowedCalls) {
    const std::string enter_name = absl::StrCat("sockets_tp_enter", call.args);
    bpf_program* enter = bpf_object__find_program_by_name(obj, enter_name.c_str());
    if (enter == nullptr || exit == nullptr) {
      DetachAll();
      return absl::InternalError(
          absl::StrCat("socket tracker object without its tracepoint program ", enter_name));
    }
    for (const auto& [prog, dir] : {std::pair{enter, "sys_enter_"}, std::pair{exit, "sys_exit_"}}) {
      const std::string name = absl::StrCat(dir, call.tracepoint);
      errno = 0;
      bpf_link* link = bpf_program__attach_tracepoint(prog, "syscalls", name.c_str());
      if (link == nullptr) {
        absl::Status s = LibbpfErrnoStatus(absl::StrCat("attach the socket tracker to ", name));
        DetachAll();
        return s;
      }
      links_.push_back(link);
    }
  }
  return absl::OkStatus();
}

void SocketTracepointLinks::DetachAll() {
  std::vector<std::thread> threads;
  threads.reserve(links_.size());
  for (bpf_link* link : links_) threads.emplace_back([link] { bpf_link__destroy(link); });
  for (std::thread& t : threads) t.join();
  links_.clear();
}

}  // namespace tracer::capture
