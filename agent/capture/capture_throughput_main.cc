// Manual throughput check of the capture layer: runs a command untraced,
// then traced (consuming every event), and prints wall times, events and
// drops. Example (as root):
//   capture_throughput -- dd if=/dev/zero of=/dev/null bs=1 count=2000000
#include <fcntl.h>
#include <gflags/gflags.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "agent/capture/event_source.h"

DEFINE_int32(poll_ms, 2, "consumer poll interval (ms)");
DEFINE_uint32(ringbuf_mb, 64, "ring buffer size (MiB, power of two)");
DEFINE_bool(stats, false, "kernel-side stats mode instead of per-syscall records");
DEFINE_bool(print, false, "print every event (debugging; slow)");
DEFINE_bool(untraced, true, "also time an untraced run first");
DEFINE_bool(attached_miss, false,
            "also time a run with the programs attached but the command not traced "
            "(the cost every untraced process pays)");
DEFINE_bool(sockets, false, "also load the socket tracker (HTTP flow capture)");
DEFINE_uint32(socket_capture_bytes, 4096, "socket payload bytes copied per data event");

namespace {

using tracer::capture::EventSink;
using tracer::capture::ProcessEvent;
using tracer::capture::SyscallEvent;

double NowSec() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

class CountingSink : public EventSink {
 public:
  void OnSyscall(const SyscallEvent& e) override {
    ++syscalls;
    if (!FLAGS_print) return;
    std::printf("[%u/%u] nr=%d ret=%lld dur=%lluns%s", e.tgid, e.tid, e.nr,
                static_cast<long long>(e.ret), static_cast<unsigned long long>(e.duration_ns),
                e.no_return ? " no-return" : "");
    for (const auto& b : e.blobs) {
      std::printf(" arg%d(kind %d%s)=\"", b.arg_index, static_cast<int>(b.kind),
                  b.truncated ? ",trunc" : "");
      for (char c : b.data) std::printf(c >= 32 && c < 127 ? "%c" : "\\x%02x", c & 0xff);
      std::printf("\"");
    }
    std::printf("\n");
  }
  void OnProcess(const ProcessEvent& e) override {
    ++processes;
    if (e.kind == ProcessEvent::Kind::kExit && e.tgid == root) root_exited = true;
    if (FLAGS_print) {
      std::printf("process kind=%d tgid=%u parent=%u exit=%d file=%s comm=%s\n",
                  static_cast<int>(e.kind), e.tgid, e.parent_tgid, e.exit_code, e.filename.c_str(),
                  e.comm.c_str());
    }
  }
  uint32_t root = 0;
  bool root_exited = false;
  uint64_t syscalls = 0;
  uint64_t processes = 0;
};

// Forks `argv` blocked on a pipe; returns pid and the pipe's write end.
pid_t SpawnGated(std::vector<char*>& argv, int* gate) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[1]);
    char c;
    while (read(p[0], &c, 1) < 0 && errno == EINTR) {
    }
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(p[0]);
  *gate = p[1];
  return pid;
}

double RunUntraced(std::vector<char*>& argv) {
  int gate = -1;
  pid_t pid = SpawnGated(argv, &gate);
  const double t0 = NowSec();
  close(gate);
  waitpid(pid, nullptr, 0);
  return NowSec() - t0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  std::vector<char*> cmd(argv + 1, argv + argc);
  if (cmd.empty()) {
    std::fprintf(stderr, "usage: capture_throughput [flags] -- command args...\n");
    return 2;
  }
  cmd.push_back(nullptr);

  if (FLAGS_untraced) std::printf("untraced: %.3f s\n", RunUntraced(cmd));

  tracer::capture::CaptureOptions options;
  options.ringbuf_bytes = FLAGS_ringbuf_mb << 20;
  options.stats_only = FLAGS_stats;
  options.sockets = FLAGS_sockets;
  options.socket_capture_bytes = FLAGS_socket_capture_bytes;
  auto source_or = tracer::capture::OpenBpfEventSource(options);
  if (!source_or.ok()) {
    std::fprintf(stderr, "cannot start tracing: %s\n",
                 std::string(source_or.status().message()).c_str());
    return 1;
  }
  auto& source = **source_or;
  if (FLAGS_attached_miss) std::printf("attached, not traced: %.3f s\n", RunUntraced(cmd));
  CountingSink sink;
  int gate = -1;
  pid_t pid = SpawnGated(cmd, &gate);
  sink.root = pid;
  if (auto st = source.AddTarget(pid); !st.ok()) {
    std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
    return 1;
  }
  const double t0 = NowSec();
  close(gate);
  double t_exit = 0;
  bool reaped = false;
  while (!reaped || !sink.root_exited) {
    auto n = source.Poll(sink, FLAGS_poll_ms);
    if (!n.ok()) {
      std::fprintf(stderr, "poll: %s\n", std::string(n.status().message()).c_str());
      return 1;
    }
    if (!reaped && waitpid(pid, nullptr, WNOHANG) == pid) {
      reaped = true;
      t_exit = NowSec() - t0;
    }
    if (reaped && NowSec() - t0 > t_exit + 10) break;  // exit record lost
  }
  while (true) {
    auto n = source.Poll(sink, 0);
    if (!n.ok() || *n == 0) break;
  }
  const double t_drained = NowSec() - t0;
  auto c = source.Counters();
  uint64_t drops = 0;
  for (uint64_t d : c.ringbuf_drops_per_cpu) drops += d;
  std::printf(
      "traced: %.3f s (all events consumed at %.3f s)\nsyscall events: %llu, process events: "
      "%llu, ring-buffer drops: %llu, missed syscalls: %llu, invalid records: %llu\n",
      t_exit, t_drained, static_cast<unsigned long long>(sink.syscalls),
      static_cast<unsigned long long>(sink.processes), static_cast<unsigned long long>(drops),
      static_cast<unsigned long long>(c.missed_syscalls),
      static_cast<unsigned long long>(c.invalid_records));
  if (FLAGS_sockets) {
    const auto& k = c.sockets;
    std::printf(
        "sockets: %llu opens, %llu data events (%llu bytes copied, %llu not copied), %llu "
        "closes, ring-buffer drops: %llu, untracked (table full): %llu, missed calls: %llu\n",
        static_cast<unsigned long long>(k.opens), static_cast<unsigned long long>(k.data_events),
        static_cast<unsigned long long>(k.bytes_copied),
        static_cast<unsigned long long>(k.bytes_not_copied),
        static_cast<unsigned long long>(k.closes), static_cast<unsigned long long>(k.ringbuf_drops),
        static_cast<unsigned long long>(k.untracked_full),
        static_cast<unsigned long long>(k.missed_calls));
  }
  if (FLAGS_stats) {
    auto totals = source.Totals();
    uint64_t calls = 0;
    if (totals.ok())
      for (const auto& t : *totals) calls += t.calls;
    std::printf("stats mode: %llu calls counted in the kernel\n",
                static_cast<unsigned long long>(calls));
  }
  return 0;
}
