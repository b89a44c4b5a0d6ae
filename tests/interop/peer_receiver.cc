#include "tests/interop/peer_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace tracer::interop {
namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> ReadLines(const std::string& path) {
  return absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty());
}

std::optional<std::string> FindNode() {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "", ':')) {
    std::string cand = absl::StrCat(dir, "/node");
    if (!dir.empty() && access(cand.c_str(), X_OK) == 0) return cand;
  }
  if (access("/usr/bin/node", X_OK) == 0) return "/usr/bin/node";
  return std::nullopt;
}

std::string ReceiverScript() {
  for (const char* base : {static_cast<const char*>(std::getenv("TEST_SRCDIR")), "."}) {
    if (base == nullptr) continue;
    for (const char* rel :
         {"/tracer/tests/peers/otlp_receiver.js", "/tests/peers/otlp_receiver.js"}) {
      std::string cand = absl::StrCat(base, rel);
      if (Exists(cand)) return cand;
    }
  }
  return "tests/peers/otlp_receiver.js";
}

std::string TempDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

// Extracts "name":123 from a flat JSON object.
int JsonInt(const std::string& json, const std::string& name) {
  size_t at = json.find(absl::StrCat("\"", name, "\":"));
  if (at == std::string::npos) return 0;
  int v = 0;
  size_t start = at + name.size() + 3;
  size_t end = json.find_first_not_of("0123456789", start);
  absl::SimpleAtoi(json.substr(start, end - start), &v);
  return v;
}

}  // namespace

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && *ci != '\0';
}

std::optional<std::string> PeersDir(std::string* why_not) {
  const char* dir = std::getenv("TRACER_PEERS_DIR");
  if (dir == nullptr || *dir == '\0') {
    *why_not = "TRACER_PEERS_DIR is not set (run tests/peers/install.sh, or `make test`)";
    return std::nullopt;
  }
  if (!FindNode()) {
    *why_not = "node is not installed (Debian package nodejs)";
    return std::nullopt;
  }
  std::string d = dir;
  if (!Exists(d + "/node_modules/@grpc/grpc-js") ||
      !Exists(d + "/node_modules/@opentelemetry/exporter-collector-grpc")) {
    *why_not = absl::StrCat("npm packages missing in ", d, " (run tests/peers/install.sh ", d, ")");
    return std::nullopt;
  }
  return d;
}

absl::StatusOr<std::unique_ptr<PeerReceiver>> PeerReceiver::Start(const std::string& peers_dir,
                                                                  std::vector<std::string> args) {
  static std::atomic<int> counter{0};
  auto node = FindNode();
  if (!node) return absl::FailedPreconditionError("node not found");
  std::unique_ptr<PeerReceiver> r(new PeerReceiver());
  const std::string base =
      absl::StrCat(TempDir(), "/receiver-", getpid(), "-", counter.fetch_add(1));
  r->out_path_ = base + ".out.jsonl";
  r->log_path_ = base + ".log.jsonl";
  r->stderr_path_ = base + ".stderr";
  const std::string ready = base + ".ready";
  for (const auto& p : {r->out_path_, r->log_path_, ready}) unlink(p.c_str());

  std::vector<std::string> argv = {*node,   ReceiverScript(), "--out",        r->out_path_,
                                   "--log", r->log_path_,     "--ready-file", ready};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string node_path = absl::StrCat("NODE_PATH=", peers_dir, "/node_modules");

  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    FILE* err = std::fopen(r->stderr_path_.c_str(), "w");
    if (err != nullptr) dup2(fileno(err), 2);
    putenv(const_cast<char*>(node_path.c_str()));
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  r->pid_ = pid;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!Exists(ready)) {
    int wstatus = 0;
    if (waitpid(pid, &wstatus, WNOHANG) == pid) {
      r->pid_ = -1;
      return absl::InternalError(
          absl::StrCat("receiver exited early: ", ReadFile(r->stderr_path_)));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("receiver not ready after 30 s: ", ReadFile(r->stderr_path_)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  std::string ports = ReadFile(ready);
  r->grpc_port_ = JsonInt(ports, "grpc");
  r->http_port_ = JsonInt(ports, "http");
  return r;
}

PeerReceiver::~PeerReceiver() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

void PeerReceiver::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::vector<std::string> PeerReceiver::Requests() const { return ReadLines(out_path_); }
std::vector<std::string> PeerReceiver::Attempts() const { return ReadLines(log_path_); }

int UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace tracer::interop
