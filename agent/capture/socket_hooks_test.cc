#include "agent/capture/socket_hooks.h"

#include <bpf/libbpf.h>

#include <memory>
#include <string>

#include "bpf/sockets.skel.h"
#include "gtest/gtest.h"

namespace tracer::capture {
namespace {

struct SkelDeleter {
  void operator()(sockets* s) const { sockets__destroy(s); }
};

// Autoload of every program in sections starting with `prefix`; fails the
// test when there is none.
void ExpectAutoload(bpf_object* obj, const std::string& prefix, bool want) {
  int n = 0;
  bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    const std::string sec = bpf_program__section_name(prog);
    if (sec.rfind(prefix, 0) != 0) continue;
    ++n;
    EXPECT_EQ(bpf_program__autoload(prog), want) << sec;
  }
  EXPECT_GT(n, 0) << prefix;
}

// Opening the object parses it; nothing is loaded, so no privileges needed.
TEST(SocketHooksTest, EachFormLoadsItsProgramsOnlyAndProcessExitStays) {
  std::unique_ptr<sockets, SkelDeleter> skel(sockets__open());
  ASSERT_NE(skel, nullptr);
  SelectSocketHooks(skel->obj, SocketHooks::kSyscallTracepoints);
  ExpectAutoload(skel->obj, "tp/syscalls/sys_enter_", true);
  ExpectAutoload(skel->obj, "tp/syscalls/sys_exit_", true);
  // Attached per call by SocketTracepointLinks, not by the skeleton.
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) {
    if (std::string(bpf_program__section_name(prog)).rfind("tp/syscalls/", 0) == 0) {
      EXPECT_FALSE(bpf_program__autoattach(prog));
    }
  }
  ExpectAutoload(skel->obj, "raw_tp/sys_", false);
  ExpectAutoload(skel->obj, "raw_tp/sched_process_exit", true);

  SelectSocketHooks(skel->obj, SocketHooks::kRawTracepoints);
  ExpectAutoload(skel->obj, "tp/syscalls/", false);
  ExpectAutoload(skel->obj, "raw_tp/sys_", true);
  ExpectAutoload(skel->obj, "raw_tp/sched_process_exit", true);
}

TEST(SocketHooksTest, NamesAreDistinct) {
  EXPECT_STREQ(SocketHooksName(SocketHooks::kSyscallTracepoints), "syscall tracepoints");
  EXPECT_STREQ(SocketHooksName(SocketHooks::kRawTracepoints), "raw tracepoints");
}

}  // namespace
}  // namespace tracer::capture
