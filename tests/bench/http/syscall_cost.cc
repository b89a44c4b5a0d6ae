// Per-call CPU cost of syscalls under whatever BPF programs are attached
// (tests/bench/http_hook_floors.py runs it under each hook of hook_floor):
//   socket   write(1 byte) on one end of a loopback TCP connection, then
//            read(1 byte) on the other: data syscalls a socket capture follows
//   getppid  the cheapest syscall, not followed: mostly the entry/exit path
//   fstatat  newfstatat("/"): a syscall nginx makes per request, not followed
// Reports the thread's CPU time per call (CLOCK_THREAD_CPUTIME_ID), which
// other load on the machine disturbs much less than wall time.
//
// Output, one line: "socket_ns=N getppid_ns=M fstatat_ns=K" (ns per call,
// the fastest of --rounds rounds of --calls calls each: on a machine shared
// with other work the fastest round is the one least disturbed, and a fixed
// per-call cost shows in it as in every other).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include <gflags/gflags.h>

DEFINE_int32(calls, 200000, "calls per round");
DEFINE_int32(rounds, 9, "rounds; the fastest is reported");

namespace {

uint64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + ts.tv_nsec;
}

// A connected loopback TCP pair (a: client, b: accepted).
bool TcpPair(int* a, int* b) {
  int l = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(l, 1) != 0 ||
      getsockname(l, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return false;
  *a = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(*a, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return false;
  *b = accept(l, nullptr, nullptr);
  close(l);
  int one = 1;
  setsockopt(*a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return *b >= 0;
}

double Min(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  int a, b;
  if (!TcpPair(&a, &b)) {
    std::perror("tcp pair");
    return 1;
  }
  std::vector<double> sock, ppid, fstat;
  char c = 'x';
  struct stat st;
  for (int r = 0; r < FLAGS_rounds; ++r) {
    uint64_t t0 = ThreadCpuNs();
    for (int i = 0; i < FLAGS_calls; ++i) {
      if (write(a, &c, 1) != 1 || read(b, &c, 1) != 1) return 1;
    }
    uint64_t t1 = ThreadCpuNs();
    for (int i = 0; i < FLAGS_calls; ++i) getppid();
    uint64_t t2 = ThreadCpuNs();
    for (int i = 0; i < FLAGS_calls; ++i) fstatat(AT_FDCWD, "/", &st, 0);
    uint64_t t3 = ThreadCpuNs();
    sock.push_back(static_cast<double>(t1 - t0) / (2.0 * FLAGS_calls));
    ppid.push_back(static_cast<double>(t2 - t1) / FLAGS_calls);
    fstat.push_back(static_cast<double>(t3 - t2) / FLAGS_calls);
  }
  std::printf("socket_ns=%.1f getppid_ns=%.1f fstatat_ns=%.1f\n", Min(sock), Min(ppid), Min(fstat));
  return 0;
}
