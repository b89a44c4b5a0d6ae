// Loads bpf/syscalls.bpf.c with the socket tracker (CaptureOptions::sockets)
// into the running kernel and traces real HTTP peers on loopback:
// `python3 -m http.server`, curl and small Python socket clients. Needs
// root; skips otherwise (fails when CI is set).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/capture/event_source.h"
#include "agent/capture/socket_hooks.h"
#include "gtest/gtest.h"

namespace tracer::capture {
namespace {

constexpr char kPython[] = "/usr/bin/python3";
constexpr char kCurl[] = "/usr/bin/curl";

// ---- collecting events -------------------------------------------------------

struct Data {
  ConnectionId conn;
  uint32_t tid;
  Direction direction;
  int nr;
  uint64_t start_ns, end_ns, length;
  std::string bytes;
};

class SocketSink : public EventSink {
 public:
  void OnSyscall(const SyscallEvent&) override {}
  void OnProcess(const ProcessEvent& e) override {
    if (e.kind == ProcessEvent::Kind::kExit) exited.push_back(e.tgid);
  }
  void OnSocketOpen(const SocketOpenEvent& e) override { opens.push_back(e); }
  void OnSocketData(const SocketDataEvent& e) override {
    data.push_back({e.conn, e.tid, e.direction, e.syscall_nr, e.start_ns, e.end_ns, e.length,
                    std::string(e.data)});
  }
  void OnSocketClose(const SocketCloseEvent& e) override { closes.push_back(e); }

  std::vector<SocketOpenEvent> OpensOf(uint32_t tgid) const {
    std::vector<SocketOpenEvent> out;
    for (const auto& o : opens)
      if (o.conn.tgid == tgid) out.push_back(o);
    return out;
  }
  std::vector<Data> DataOf(uint64_t conn_id, Direction d) const {
    std::vector<Data> out;
    for (const auto& x : data)
      if (x.conn.id == conn_id && x.direction == d) out.push_back(x);
    return out;
  }
  std::string Stream(uint64_t conn_id, Direction d) const {
    std::string s;
    for (const auto& x : DataOf(conn_id, d)) s += x.bytes;
    return s;
  }
  uint64_t Length(uint64_t conn_id, Direction d) const {
    uint64_t n = 0;
    for (const auto& x : DataOf(conn_id, d)) n += x.length;
    return n;
  }
  bool Closed(uint64_t conn_id) const {
    for (const auto& c : closes)
      if (c.conn.id == conn_id) return true;
    return false;
  }
  size_t EventsOf(uint32_t tgid) const {
    size_t n = 0;
    for (const auto& o : opens) n += o.conn.tgid == tgid;
    for (const auto& x : data) n += x.conn.tgid == tgid;
    for (const auto& c : closes) n += c.conn.tgid == tgid;
    return n;
  }

  std::vector<SocketOpenEvent> opens;
  std::vector<Data> data;
  std::vector<SocketCloseEvent> closes;
  std::vector<uint32_t> exited;
};

uint64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

// Polls until `done()` (or 10 s), then drains what is still queued.
void PollUntil(EventSource& source, SocketSink& sink, const std::function<bool()>& done) {
  const uint64_t deadline = NowMs() + 10000;
  while (!done() && NowMs() < deadline) {
    auto n = source.Poll(sink, 5);
    ASSERT_TRUE(n.ok()) << n.status();
  }
  EXPECT_TRUE(done()) << "expected events did not arrive within 10 s";
  for (int idle = 0; idle < 3;) {
    auto n = source.Poll(sink, 2);
    ASSERT_TRUE(n.ok()) << n.status();
    idle = *n == 0 ? idle + 1 : 0;
  }
}

// ---- processes -----------------------------------------------------------------

std::string TempDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

std::string WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// A child that execs `argv` once released: it blocks in read(2) on a pipe
// first, so a test can AddTarget() its pid before it does anything.
class GatedExec {
 public:
  explicit GatedExec(const std::vector<std::string>& argv) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) std::abort();
    pid_ = fork();
    if (pid_ < 0) std::abort();
    if (pid_ == 0) {
      close(p[1]);
      const int null = open("/dev/null", O_RDWR);
      dup2(null, 1);
      dup2(null, 2);
      char c;
      while (read(p[0], &c, 1) < 0 && errno == EINTR) {
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(p[0]);
    gate_ = p[1];
  }
  ~GatedExec() {
    if (gate_ >= 0) close(gate_);
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  uint32_t pid() const { return pid_; }
  void Release() {
    close(gate_);
    gate_ = -1;
  }
  // Returns the exit status (waitpid's), or -1 after 20 s (then kills it).
  int Wait() {
    for (int i = 0; i < 20000; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return status;
      }
      usleep(1000);
    }
    return -1;
  }
  void Terminate() {
    if (gate_ >= 0) Release();
    kill(pid_, SIGTERM);
    if (Wait() == -1) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      reaped_ = true;
    }
  }

 private:
  pid_t pid_ = -1;
  int gate_ = -1;
  bool reaped_ = false;
};

// A free TCP port on the loopback interface of `family` (bound once, then
// released; the server binds it again right away).
uint16_t FreePort(int family) {
  const int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss = {};
  socklen_t len;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    len = sizeof *a;
  }
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len), 0);
  const uint16_t port = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                          : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  close(fd);
  return port;
}

// True when some socket listens on `port` (/proc/net/tcp and tcp6, state 0A).
bool Listening(uint16_t port) {
  const std::string needle = absl::StrFormat(":%04X ", port);
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream f(path);
    std::string line;
    while (std::getline(f, line)) {
      std::istringstream in(line);
      std::string sl, local, remote, state;
      if (!(in >> sl >> local >> remote >> state)) continue;
      if (state == "0A" && (local + " ").find(needle) != std::string::npos) return true;
    }
  }
  return false;
}

// `python3 -m http.server` on `bind`:`port` serving `dir`, started untraced
// and returned once it listens (so it sits in its accept loop).
std::unique_ptr<GatedExec> StartServer(const std::string& bind, uint16_t port,
                                       const std::string& dir) {
  auto server = std::make_unique<GatedExec>(std::vector<std::string>{
      kPython, "-m", "http.server", "--bind", bind, "--directory", dir, std::to_string(port)});
  server->Release();
  for (int i = 0; i < 10000 && !Listening(port); ++i) usleep(1000);
  EXPECT_TRUE(Listening(port)) << "http.server did not listen on " << port;
  return server;
}

std::string ServeDir(const std::string& name, size_t body_bytes) {
  const std::string dir = absl::StrCat(TempDir(), "/", name);
  mkdir(dir.c_str(), 0755);
  std::string body;
  for (size_t i = 0; body.size() < body_bytes; ++i) body += absl::StrFormat("line %07d\n", i);
  body.resize(body_bytes);
  WriteFile(dir + "/x", body);
  return dir;
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::unique_ptr<EventSource> Open(const CaptureOptions& options) {
  auto source = OpenBpfEventSource(options);
  EXPECT_TRUE(source.ok()) << source.status();
  return source.ok() ? std::move(*source) : nullptr;
}

// `http_only`: no syscall programs (trace=none), so the socket tracker sits
// on the per-call syscall tracepoints where tracefs allows
// (socket_hooks.h); otherwise on the raw tracepoint pair.
CaptureOptions SocketOptions(bool http_only) {
  CaptureOptions o;
  o.sockets = true;
  o.no_syscalls = http_only;
  o.ringbuf_bytes = 16u << 20;
  return o;
}

// BPF links this process holds (attached programs).
int BpfLinks() {
  int n = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    char path[64], target[128];
    std::snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    const ssize_t len = readlink(path, target, sizeof(target) - 1);
    if (len <= 0) continue;
    target[len] = 0;
    if (std::strcmp(target, "anon_inode:bpf_link") == 0) ++n;
  }
  return n;
}

// Every test runs with both forms of the socket tracker's syscall hooks:
// the parameter is SocketOptions' `http_only`.
class SocketsBpfTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      if (std::getenv("CI") != nullptr) {
        FAIL() << "sockets_bpf_test needs root (CAP_BPF, CAP_PERFMON) and CI is set";
      }
      GTEST_SKIP() << "needs root to load BPF programs (CAP_BPF, CAP_PERFMON); skipping";
    }
    for (const char* tool : {kPython, kCurl}) {
      ASSERT_EQ(access(tool, X_OK), 0) << tool << " is needed as a test peer";
    }
  }
};

// Finds the one open event of `tgid` with `role`.
const SocketOpenEvent* OneOpen(const SocketSink& sink, uint32_t tgid, SocketRole role) {
  const SocketOpenEvent* found = nullptr;
  int n = 0;
  for (const auto& o : sink.opens) {
    if (o.conn.tgid == tgid && o.role == role) {
      found = &o;
      ++n;
    }
  }
  EXPECT_EQ(n, 1) << "open events of " << tgid << " with role " << static_cast<int>(role);
  return n == 1 ? found : nullptr;
}

// curl (traced) fetches /x from http.server (traced) on `host`; checks both
// ends' open, data and close events.
void CurlAgainstPythonServer(const std::string& bind, const std::string& url_host, int family,
                             bool http_only) {
  const std::string dir = ServeDir(absl::StrCat("serve", family), 2000);
  const std::string body = ReadFile(dir + "/x");
  const uint16_t port = FreePort(family);
  auto source = Open(SocketOptions(http_only));
  ASSERT_NE(source, nullptr);
  // The form in use: 26 per-call tracepoint links, or the raw pair.
  const int kTracepointLinks = 26;
  if (ChooseSocketHooks(!http_only) == SocketHooks::kSyscallTracepoints) {
    EXPECT_GE(BpfLinks(), kTracepointLinks);
  } else {
    EXPECT_LT(BpfLinks(), kTracepointLinks);
  }
  auto server = StartServer(bind, port, dir);
  ASSERT_TRUE(source->AddTarget(server->pid()).ok());

  GatedExec curl({kCurl, "-s", "-g", "-o", "/dev/null", "--http1.1",
                  absl::StrCat("http://", url_host, ":", port, "/x")});
  ASSERT_TRUE(source->AddTarget(curl.pid()).ok());
  curl.Release();
  ASSERT_EQ(curl.Wait(), 0) << "curl failed";

  SocketSink sink;
  auto both_closed = [&] {
    int closed = 0;
    for (const auto& o : sink.opens)
      if ((o.conn.tgid == curl.pid() || o.conn.tgid == server->pid()) && sink.Closed(o.conn.id))
        ++closed;
    return closed >= 2;
  };
  PollUntil(*source, sink, both_closed);
  server->Terminate();

  const auto want_family =
      family == AF_INET ? SocketAddress::Family::kIpv4 : SocketAddress::Family::kIpv6;
  const std::string loopback = family == AF_INET ? "127.0.0.1" : "::1";
  const SocketOpenEvent* client = OneOpen(sink, curl.pid(), SocketRole::kClient);
  const SocketOpenEvent* srv = OneOpen(sink, server->pid(), SocketRole::kServer);
  ASSERT_NE(client, nullptr);
  ASSERT_NE(srv, nullptr);
  EXPECT_EQ(client->remote.port, port);
  EXPECT_EQ(client->remote.family, want_family);
  EXPECT_EQ(client->remote.AddressString(), loopback);
  EXPECT_EQ(client->local.AddressString(), loopback);
  EXPECT_NE(client->local.port, 0);
  EXPECT_EQ(srv->local.port, port);
  EXPECT_EQ(srv->local.family, want_family);
  EXPECT_EQ(srv->local.AddressString(), loopback);
  EXPECT_EQ(srv->remote.port, client->local.port) << "the server's peer is curl's socket";
  EXPECT_NE(client->conn.id, srv->conn.id);
  EXPECT_NE(client->conn.id, 0u);
  EXPECT_GT(client->ts_ns, 0u);

  const std::string request = sink.Stream(client->conn.id, Direction::kEgress);
  EXPECT_EQ(request.rfind("GET /x HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\n\r\n"), std::string::npos) << request;
  EXPECT_EQ(sink.Stream(srv->conn.id, Direction::kIngress), request)
      << "the server read exactly what curl wrote";
  const std::string response = sink.Stream(srv->conn.id, Direction::kEgress);
  EXPECT_EQ(response.rfind("HTTP/1.0 200", 0), 0u) << response;
  ASSERT_GE(response.size(), body.size());
  EXPECT_EQ(response.substr(response.size() - body.size()), body);
  EXPECT_EQ(sink.Stream(client->conn.id, Direction::kIngress), response);
  for (const auto& d : sink.data) {
    EXPECT_EQ(d.bytes.size(), d.length) << "small messages are copied whole";
    EXPECT_LE(d.start_ns, d.end_ns);
  }
  EXPECT_TRUE(sink.Closed(client->conn.id));
  EXPECT_TRUE(sink.Closed(srv->conn.id));
  const CaptureCounters c = source->Counters();
  EXPECT_EQ(c.sockets.ringbuf_drops, 0u);
  EXPECT_EQ(c.sockets.untracked_full, 0u);
  EXPECT_EQ(c.invalid_records, 0u);
  EXPECT_EQ(c.sockets.opens, sink.opens.size());
  EXPECT_EQ(c.sockets.data_events, sink.data.size());
  EXPECT_EQ(c.sockets.closes, sink.closes.size());
}

TEST_P(SocketsBpfTest, CurlAndPythonServerOverIpv4) {
  CurlAgainstPythonServer("127.0.0.1", "127.0.0.1", AF_INET, GetParam());
}

TEST_P(SocketsBpfTest, CurlAndPythonServerOverIpv6) {
  CurlAgainstPythonServer("::1", "[::1]", AF_INET6, GetParam());
}

// A 100 KiB body with a 1000-byte limit: every record carries the first
// min(length, 1000) bytes and the full length; lengths add up to the body.
TEST_P(SocketsBpfTest, LargeBodyIsTruncatedAtTheLimitWithLengthsIntact) {
  const size_t kBody = 100 * 1024;
  const uint32_t kLimit = 1000;
  const std::string dir = ServeDir("big", kBody);
  const std::string body = ReadFile(dir + "/x");
  const uint16_t port = FreePort(AF_INET);
  CaptureOptions options = SocketOptions(GetParam());
  options.socket_capture_bytes = kLimit;
  auto source = Open(options);
  ASSERT_NE(source, nullptr);
  auto server = StartServer("127.0.0.1", port, dir);
  ASSERT_TRUE(source->AddTarget(server->pid()).ok());
  GatedExec curl({kCurl, "-s", "-o", "/dev/null", absl::StrCat("http://127.0.0.1:", port, "/x")});
  ASSERT_TRUE(source->AddTarget(curl.pid()).ok());
  curl.Release();
  ASSERT_EQ(curl.Wait(), 0);

  SocketSink sink;
  PollUntil(*source, sink, [&] {
    const auto opens = sink.OpensOf(server->pid());
    return opens.size() == 1 && sink.Closed(opens[0].conn.id);
  });
  server->Terminate();
  const SocketOpenEvent* srv = OneOpen(sink, server->pid(), SocketRole::kServer);
  const SocketOpenEvent* client = OneOpen(sink, curl.pid(), SocketRole::kClient);
  ASSERT_NE(srv, nullptr);
  ASSERT_NE(client, nullptr);

  const auto out = sink.DataOf(srv->conn.id, Direction::kEgress);
  ASSERT_FALSE(out.empty());
  const std::string first = out[0].bytes;
  const size_t header_end = first.find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos) << "headers fit the first record: " << first;
  EXPECT_EQ(first.rfind("HTTP/1.0 200", 0), 0u);
  uint64_t total = 0, not_copied = 0;
  bool some_truncated = false;
  for (const auto& d : out) {
    EXPECT_EQ(d.bytes.size(), std::min<uint64_t>(d.length, kLimit)) << "record of " << d.length;
    total += d.length;
    not_copied += d.length - d.bytes.size();
    some_truncated |= d.bytes.size() < d.length;
  }
  EXPECT_TRUE(some_truncated);
  EXPECT_EQ(total, header_end + 4 + kBody) << "lengths add up to headers plus body";
  // http.server writes the headers in one call and the body after them, so
  // the second record holds the body's first bytes.
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out[0].length, header_end + 4);
  EXPECT_EQ(out[1].bytes, body.substr(0, out[1].bytes.size()));
  EXPECT_EQ(sink.Length(client->conn.id, Direction::kIngress), total)
      << "curl read what the server wrote";
  for (const auto& d : sink.DataOf(client->conn.id, Direction::kIngress))
    EXPECT_EQ(d.bytes.size(), std::min<uint64_t>(d.length, kLimit));

  const CaptureCounters c = source->Counters();
  uint64_t all_not_copied = 0, all_copied = 0;
  for (const auto& d : sink.data) {
    all_not_copied += d.length - d.bytes.size();
    all_copied += d.bytes.size();
  }
  EXPECT_GE(all_not_copied, not_copied);
  EXPECT_EQ(c.sockets.bytes_not_copied, all_not_copied);
  EXPECT_EQ(c.sockets.bytes_copied, all_copied);
  EXPECT_EQ(c.sockets.ringbuf_drops, 0u);
}

// Vector and message calls: sendmsg with several buffers, writev, recvmsg,
// readv, plain write/read, recv_into (recvfrom), and sendfile (length
// only). The bytes come out in stream order whatever the call.
TEST_P(SocketsBpfTest, SendmsgWritevRecvmsgReadvPaths) {
  const std::string dir = ServeDir("vec", 3000);
  const std::string body = ReadFile(dir + "/x");
  const uint16_t port = FreePort(AF_INET);
  const std::string script = WriteFile(absl::StrCat(TempDir(), "/vec_client.py"), R"PY(
import os, socket, sys
port = int(sys.argv[1])
parts = [b"GET /x HTTP/1.1\r\n", b"Host: vec\r\n", b"X-Path: sendmsg\r\n\r\n"]

# 1: sendmsg with three buffers; recvmsg then readv.
s = socket.create_connection(("127.0.0.1", port))
s.sendmsg(parts)
got = s.recvmsg(7)[0]
while True:
    a, b = bytearray(3), bytearray(65536)
    n = os.readv(s.fileno(), [a, b])
    if n == 0:
        break
    got += (bytes(a) + bytes(b))[:n]
s.close()
open(sys.argv[2] + ".1", "wb").write(got)

# 2: writev with two buffers; read.
s = socket.create_connection(("127.0.0.1", port))
os.writev(s.fileno(), [b"GET /x HTTP/1.1\r\nHost: vec\r\n", b"X-Path: writev\r\n\r\n"])
got = b""
while True:
    chunk = os.read(s.fileno(), 65536)
    if not chunk:
        break
    got += chunk
s.close()
open(sys.argv[2] + ".2", "wb").write(got)

# 3: write; recv_into.
s = socket.create_connection(("127.0.0.1", port))
os.write(s.fileno(), b"GET /x HTTP/1.1\r\nHost: vec\r\nX-Path: write\r\n\r\n")
got = b""
buf = bytearray(65536)
while True:
    n = s.recv_into(buf)
    if n == 0:
        break
    got += bytes(buf[:n])
s.close()
open(sys.argv[2] + ".3", "wb").write(got)

# 4: sendfile of a request file (metadata only); recv.
req = sys.argv[2] + ".req"
open(req, "wb").write(b"GET /x HTTP/1.1\r\nHost: vec\r\nX-Path: sendfile\r\n\r\n")
s = socket.create_connection(("127.0.0.1", port))
with open(req, "rb") as f:
    os.sendfile(s.fileno(), f.fileno(), 0, os.path.getsize(req))
got = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    got += chunk
s.close()
open(sys.argv[2] + ".4", "wb").write(got)
)PY");
  const std::string out_prefix = absl::StrCat(TempDir(), "/vec_out");
  auto source = Open(SocketOptions(GetParam()));
  ASSERT_NE(source, nullptr);
  auto server = StartServer("127.0.0.1", port, dir);
  GatedExec client({kPython, script, std::to_string(port), out_prefix});
  ASSERT_TRUE(source->AddTarget(client.pid()).ok());
  client.Release();
  ASSERT_EQ(client.Wait(), 0) << "client script failed";

  SocketSink sink;
  PollUntil(*source, sink, [&] {
    const auto opens = sink.OpensOf(client.pid());
    if (opens.size() < 4) return false;
    for (const auto& o : opens)
      if (!sink.Closed(o.conn.id)) return false;
    return true;
  });
  server->Terminate();
  EXPECT_EQ(sink.OpensOf(server->pid()).size(), 0u) << "the server was not traced";

  auto opens = sink.OpensOf(client.pid());
  ASSERT_EQ(opens.size(), 4u);
  const std::string requests[4] = {"GET /x HTTP/1.1\r\nHost: vec\r\nX-Path: sendmsg\r\n\r\n",
                                   "GET /x HTTP/1.1\r\nHost: vec\r\nX-Path: writev\r\n\r\n",
                                   "GET /x HTTP/1.1\r\nHost: vec\r\nX-Path: write\r\n\r\n",
                                   "GET /x HTTP/1.1\r\nHost: vec\r\nX-Path: sendfile\r\n\r\n"};
  const int egress_nr[4] = {SYS_sendmsg, SYS_writev, SYS_write, SYS_sendfile};
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(absl::StrCat("connection ", i + 1));
    const uint64_t id = opens[i].conn.id;
    EXPECT_EQ(opens[i].role, SocketRole::kClient);
    EXPECT_EQ(opens[i].remote.port, port);
    const auto egress = sink.DataOf(id, Direction::kEgress);
    ASSERT_EQ(egress.size(), 1u) << "one call sent the whole request";
    EXPECT_EQ(egress[0].nr, egress_nr[i]);
    EXPECT_EQ(egress[0].bytes, i == 3 ? "" : requests[i]) << "sendfile: no bytes";
    EXPECT_EQ(egress[0].length, requests[i].size());
    const std::string response = sink.Stream(id, Direction::kIngress);
    EXPECT_EQ(response, ReadFile(absl::StrCat(out_prefix, ".", i + 1)))
        << "ingress equals what the script received";
    EXPECT_EQ(response.rfind("HTTP/1.0 200", 0), 0u);
    EXPECT_EQ(response.substr(response.size() - body.size()), body);
    EXPECT_TRUE(sink.Closed(id));
  }
  const auto in1 = sink.DataOf(opens[0].conn.id, Direction::kIngress);
  ASSERT_GE(in1.size(), 2u);
  EXPECT_EQ(in1[0].nr, SYS_recvmsg);
  EXPECT_EQ(in1[0].bytes, "HTTP/1.");
  for (size_t i = 1; i < in1.size(); ++i) EXPECT_EQ(in1[i].nr, SYS_readv);
  for (const auto& d : sink.DataOf(opens[1].conn.id, Direction::kIngress))
    EXPECT_EQ(d.nr, SYS_read);
  for (const auto& d : sink.DataOf(opens[2].conn.id, Direction::kIngress))
    EXPECT_EQ(d.nr, SYS_recvfrom);
}

// UDP (connected and not), unix stream and datagram sockets and a pipe of a
// traced process produce no socket events; its one TCP connection does,
// and is closed by the process's exit when the script leaves it open.
TEST_P(SocketsBpfTest, UntrackedSocketsAreSilentAndExitClosesTrackedOnes) {
  const std::string dir = ServeDir("quiet", 100);
  const uint16_t port = FreePort(AF_INET);
  // Abstract unix address (no file; TEST_TMPDIR paths can exceed sun_path).
  const std::string unix_name = absl::StrCat("sockets_bpf_test.", getpid());
  const std::string script = WriteFile(absl::StrCat(TempDir(), "/quiet_client.py"), R"PY(
import os, socket, sys
port, upath = int(sys.argv[1]), "\0" + sys.argv[2]

# UDP, unconnected and connected.
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a.bind(("127.0.0.1", 0))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b.sendto(b"GET /udp HTTP/1.1\r\n\r\n", a.getsockname())
a.recvfrom(100)
b.connect(a.getsockname())
b.send(b"GET /udp2 HTTP/1.1\r\n\r\n")
os.read(a.fileno(), 100)
a.close(); b.close()

# Unix stream: listen, connect, accept, write, read.
l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
l.bind(upath); l.listen(1)
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(upath)
s, _ = l.accept()
c.sendall(b"GET /unix HTTP/1.1\r\n\r\n")
s.recv(100)
os.write(s.fileno(), b"HTTP/1.1 200 OK\r\n\r\n")
os.read(c.fileno(), 100)
c.close(); s.close(); l.close()

# Unix datagram pair and a pipe.
x, y = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
x.send(b"GET /pair HTTP/1.1\r\n\r\n"); y.recv(100)
r, w = os.pipe()
os.write(w, b"GET /pipe HTTP/1.1\r\n\r\n"); os.read(r, 100)

# One TCP connection, left open at exit.
t = socket.create_connection(("127.0.0.1", port))
t.sendall(b"GET /x HTTP/1.0\r\n\r\n")
t.recv(12)
os._exit(0)
)PY");
  auto source = Open(SocketOptions(GetParam()));
  ASSERT_NE(source, nullptr);
  auto server = StartServer("127.0.0.1", port, dir);
  GatedExec client({kPython, script, std::to_string(port), unix_name});
  ASSERT_TRUE(source->AddTarget(client.pid()).ok());
  client.Release();
  ASSERT_EQ(client.Wait(), 0) << "client script failed";

  SocketSink sink;
  PollUntil(*source, sink, [&] {
    const auto opens = sink.OpensOf(client.pid());
    return opens.size() == 1 && sink.Closed(opens[0].conn.id);
  });
  server->Terminate();

  const auto opens = sink.OpensOf(client.pid());
  ASSERT_EQ(opens.size(), 1u) << "only the TCP connection is tracked";
  const uint64_t id = opens[0].conn.id;
  EXPECT_EQ(opens[0].remote.port, port);
  for (const auto& d : sink.data) {
    if (d.conn.tgid != client.pid()) continue;
    EXPECT_EQ(d.conn.id, id) << "data on an untracked socket: " << d.bytes;
    EXPECT_EQ(d.bytes.find("/udp"), std::string::npos);
    EXPECT_EQ(d.bytes.find("/unix"), std::string::npos);
    EXPECT_EQ(d.bytes.find("/pair"), std::string::npos);
    EXPECT_EQ(d.bytes.find("/pipe"), std::string::npos);
  }
  EXPECT_EQ(sink.Stream(id, Direction::kEgress), "GET /x HTTP/1.0\r\n\r\n");
  EXPECT_EQ(sink.Stream(id, Direction::kIngress).rfind("HTTP/1.0 200", 0), 0u);
  int closes = 0;
  for (const auto& c : sink.closes) closes += c.conn.tgid == client.pid();
  EXPECT_EQ(closes, 1) << "closed once, by the exit";
  EXPECT_EQ(sink.EventsOf(client.pid()), 1 + sink.DataOf(id, Direction::kEgress).size() +
                                             sink.DataOf(id, Direction::kIngress).size() + 1);
}

// Without CaptureOptions::sockets nothing of the socket tracker is loaded.
TEST_P(SocketsBpfTest, SocketsOffDeliversNoSocketEvents) {
  const std::string dir = ServeDir("off", 100);
  const uint16_t port = FreePort(AF_INET);
  auto source = Open(CaptureOptions{});
  ASSERT_NE(source, nullptr);
  auto server = StartServer("127.0.0.1", port, dir);
  GatedExec curl({kCurl, "-s", "-o", "/dev/null", absl::StrCat("http://127.0.0.1:", port, "/x")});
  ASSERT_TRUE(source->AddTarget(curl.pid()).ok());
  curl.Release();
  ASSERT_EQ(curl.Wait(), 0);
  SocketSink sink;
  PollUntil(*source, sink, [&] {
    for (uint32_t t : sink.exited)
      if (t == curl.pid()) return true;
    return false;
  });
  server->Terminate();
  EXPECT_TRUE(sink.opens.empty());
  EXPECT_TRUE(sink.data.empty());
  EXPECT_TRUE(sink.closes.empty());
}

TEST_P(SocketsBpfTest, CaptureLimitAboveTheMaximumIsInvalidArgument) {
  CaptureOptions o = SocketOptions(GetParam());
  o.socket_capture_bytes = 16385;
  auto source = OpenBpfEventSource(o);
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), absl::StatusCode::kInvalidArgument);
  o.socket_capture_bytes = 16384;
  EXPECT_TRUE(OpenBpfEventSource(o).ok());
}

INSTANTIATE_TEST_SUITE_P(Hooks, SocketsBpfTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "HttpOnly" : "WithSyscalls";
                         });

}  // namespace
}  // namespace tracer::capture
