// Hook floor helper for tests/bench/http_overhead.py: loads one family of
// the minimal programs in hook_floor.bpf.c (each reads the current tgid,
// looks it up in an empty map and returns), attaches them and waits for
// SIGINT or SIGTERM. Run as a --mode of the benchmark, it measures what a
// hook choice costs the workload before a single byte is captured.
//
//   --hooks=raw_tp       raw_tp/sys_enter + raw_tp/sys_exit (every syscall)
//   --hooks=tp_btf       tp_btf/sys_enter + tp_btf/sys_exit (every syscall)
//   --hooks=tracepoint   syscalls:sys_enter_X/sys_exit_X of the 13 calls a
//                        socket capture follows (read, write, readv, writev,
//                        recvfrom, sendto, recvmsg, sendmsg, sendfile64,
//                        close, accept, accept4, connect)
//   --hooks=tracepoint_exit  only the sys_exit_X half of those (the call's
//                        arguments are still in the saved user registers at
//                        exit; what is lost is the entry timestamp)
//   --hooks=cgroup_skb   cgroup_skb ingress + egress on --cgroup (a cgroup2
//                        directory; its root covers every socket)
//   --hooks=sockops      sockops on --cgroup plus an sk_msg verdict program
//                        on an empty sockhash
//
// Prints "hook_floor: N programs attached (HOOKS)" once attached and
// "hook_floor: done" on exit. Exit status 0, or 1 with the libbpf error.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gflags/gflags.h>

#include "tests/bench/http/hook_floor_bpf.skel.h"

DEFINE_string(hooks, "raw_tp",
              "raw_tp | tp_btf | tracepoint | tracepoint_exit | cgroup_skb | sockops");
DEFINE_string(cgroup, "", "cgroup2 directory for cgroup_skb / sockops");

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

// Which programs of the object belong to FLAGS_hooks.
bool Selected(const std::string& hooks, const char* sec) {
  std::string s(sec);
  if (hooks == "raw_tp") return s.rfind("raw_tp/", 0) == 0;
  if (hooks == "tp_btf") return s.rfind("tp_btf/", 0) == 0;
  if (hooks == "tracepoint") return s.rfind("tp/syscalls/", 0) == 0;
  if (hooks == "tracepoint_exit") return s.rfind("tp/syscalls/sys_exit_", 0) == 0;
  if (hooks == "cgroup_skb") return s.rfind("cgroup_skb/", 0) == 0;
  if (hooks == "sockops") return s == "sockops" || s == "sk_msg";
  return false;
}

int Fail(const char* what, int err) {
  std::fprintf(stderr, "hook_floor: %s: %s\n", what, std::strerror(err < 0 ? -err : err));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  const std::string hooks = FLAGS_hooks;
  hook_floor_bpf* skel = hook_floor_bpf__open();
  if (!skel) return Fail("open", errno);
  bpf_program* prog;
  bool any = false;
  bpf_object__for_each_program(prog, skel->obj) {
    bool on = Selected(hooks, bpf_program__section_name(prog));
    bpf_program__set_autoload(prog, on);
    any |= on;
  }
  if (!any) {
    std::fprintf(stderr, "hook_floor: unknown --hooks=%s\n", hooks.c_str());
    return 1;
  }
  if (int err = hook_floor_bpf__load(skel)) return Fail("load", err);

  std::vector<bpf_link*> links;
  int cg = -1;
  if (hooks == "cgroup_skb" || hooks == "sockops") {
    cg = open(FLAGS_cgroup.c_str(), O_RDONLY | O_DIRECTORY);
    if (cg < 0) return Fail("open --cgroup", errno);
  }
  int attached = 0;
  bpf_object__for_each_program(prog, skel->obj) {
    if (!Selected(hooks, bpf_program__section_name(prog))) continue;
    bpf_link* link = nullptr;
    if (std::strcmp(bpf_program__section_name(prog), "sk_msg") == 0) {
      int err = bpf_prog_attach(bpf_program__fd(prog), bpf_map__fd(skel->maps.sock_hash),
                                BPF_SK_MSG_VERDICT, 0);
      if (err) return Fail("attach sk_msg", errno);
      ++attached;
      continue;
    }
    if (cg >= 0) {
      link = bpf_program__attach_cgroup(prog, cg);
    } else {
      link = bpf_program__attach(prog);
    }
    if (!link) return Fail(bpf_program__section_name(prog), errno);
    links.push_back(link);
    ++attached;
  }
  std::fprintf(stderr, "hook_floor: %d programs attached (%s)\n", attached, hooks.c_str());

  signal(SIGINT, OnSignal);
  signal(SIGTERM, OnSignal);
  while (!g_stop) pause();
  for (bpf_link* l : links) bpf_link__destroy(l);
  if (cg >= 0) close(cg);
  hook_floor_bpf__destroy(skel);
  std::fprintf(stderr, "hook_floor: done\n");
  return 0;
}
