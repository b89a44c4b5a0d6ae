// Loads bpf/syscalls.bpf.c into the running kernel and traces real child
// processes. Needs root; skips otherwise (fails when CI is set).
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/capture/event_source.h"
#include "bpf/bpf.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::capture {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

// ---- helpers -----------------------------------------------------------------

struct OwnedBlob {
  int arg_index;
  BlobKind kind;
  bool truncated;
  std::string data;
};

// A SyscallEvent with its blob bytes copied out of the ring buffer.
struct Syscall {
  uint32_t tgid, tid;
  int nr;
  uint64_t args[6];
  int64_t ret;
  uint64_t start_ns, duration_ns;
  bool no_return;
  std::vector<OwnedBlob> blobs;

  const OwnedBlob* Blob(int index) const {
    for (const auto& b : blobs)
      if (b.arg_index == index) return &b;
    return nullptr;
  }
};

class CollectingSink : public EventSink {
 public:
  void OnSyscall(const SyscallEvent& e) override {
    Syscall s{e.tgid, e.tid, e.nr, {}, e.ret, e.start_ns, e.duration_ns, e.no_return, {}};
    std::memcpy(s.args, e.args, sizeof s.args);
    for (const auto& b : e.blobs)
      s.blobs.push_back({b.arg_index, b.kind, b.truncated, std::string(b.data)});
    syscalls.push_back(std::move(s));
  }
  void OnProcess(const ProcessEvent& e) override { processes.push_back(e); }

  std::vector<Syscall> Of(uint32_t tgid, int nr) const {
    std::vector<Syscall> out;
    for (const auto& s : syscalls)
      if (s.tgid == tgid && s.nr == nr) out.push_back(s);
    return out;
  }
  const ProcessEvent* Process(ProcessEvent::Kind kind, uint32_t tgid) const {
    for (const auto& p : processes)
      if (p.kind == kind && p.tgid == tgid) return &p;
    return nullptr;
  }

  std::vector<Syscall> syscalls;
  std::vector<ProcessEvent> processes;
};

// A forked child that runs `setup`, blocks in read(2) on a pipe until
// Release(), then runs `body` and _exits with its result. The constructor
// returns once the child is blocked, so tracing sees nothing before `body`
// (the read was entered before tracing and has no saved enter).
class GatedChild {
 public:
  explicit GatedChild(
      const std::function<int()>& body, const std::function<void()>& setup = [] {}) {
    int p[2];
    PCHECK(pipe2(p, O_CLOEXEC) == 0);
    pid_ = fork();
    PCHECK(pid_ >= 0);
    if (pid_ == 0) {
      close(p[1]);
      setup();
      char c;
      while (read(p[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(body());
    }
    close(p[0]);
    gate_ = p[1];
    WaitUntilBlockedInRead();
  }
  ~GatedChild() {
    if (gate_ >= 0) close(gate_);
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void Release() {
    close(gate_);
    gate_ = -1;
  }
  int Wait() {
    int status = 0;
    PCHECK(waitpid(pid_, &status, 0) == pid_);
    reaped_ = true;
    return status;
  }

 private:
  static void PCHECK(bool ok) {
    if (!ok) {
      std::perror("GatedChild");
      std::abort();
    }
  }
  // /proc/PID/syscall starts with the number of the syscall the task is
  // blocked in: "0 " is read.
  void WaitUntilBlockedInRead() {
    const std::string path = absl::StrCat("/proc/", pid_, "/syscall");
    for (int i = 0; i < 5000; ++i) {
      std::ifstream f(path);
      std::string line;
      std::getline(f, line);
      if (line.rfind("0 ", 0) == 0) return;
      usleep(1000);
    }
    ADD_FAILURE() << "child " << pid_ << " never blocked in read";
  }

  pid_t pid_ = -1;
  int gate_ = -1;
  bool reaped_ = false;
};

uint64_t NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

// Polls until the exit records of all `tgids` arrived (or 10 s), then drains.
void CollectUntilExited(EventSource& source, CollectingSink& sink,
                        const std::vector<uint32_t>& tgids) {
  const uint64_t deadline = NowMs() + 10000;
  auto all_exited = [&] {
    for (uint32_t t : tgids)
      if (!sink.Process(ProcessEvent::Kind::kExit, t)) return false;
    return true;
  };
  while (!all_exited() && NowMs() < deadline) {
    auto n = source.Poll(sink, 5);
    ASSERT_TRUE(n.ok()) << n.status();
  }
  ASSERT_TRUE(all_exited()) << "no exit record within 10 s";
  for (int idle = 0; idle < 3;) {
    auto n = source.Poll(sink, 2);
    ASSERT_TRUE(n.ok()) << n.status();
    idle = *n == 0 ? idle + 1 : 0;
  }
}

// Adds `child` as a pid target, releases it, waits for it to exit 0 and
// collects everything the source delivered until its exit record.
CollectingSink TraceUntilExit(EventSource& source, GatedChild& child) {
  CollectingSink sink;
  const uint32_t pid = child.pid();
  EXPECT_TRUE(source.AddTarget(pid).ok());
  child.Release();
  EXPECT_EQ(child.Wait(), 0);
  CollectUntilExited(source, sink, {pid});
  return sink;
}

std::unique_ptr<EventSource> Open(const CaptureOptions& options) {
  auto source = OpenBpfEventSource(options);
  EXPECT_TRUE(source.ok()) << source.status();
  return source.ok() ? std::move(*source) : nullptr;
}

std::string TempDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

std::string WriteTempFile(const std::string& name, const std::string& content) {
  std::string path = absl::StrCat(TempDir(), "/", name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

int DevNull() { return open("/dev/null", O_WRONLY | O_CLOEXEC); }

// Syscall name -> number, from the kernel UAPI header (x86-64).
std::map<std::string, int> SyscallNumbers() {
  std::map<std::string, int> out;
  std::ifstream f("/usr/include/x86_64-linux-gnu/asm/unistd_64.h");
  std::string define, name;
  int nr;
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    if (in >> define >> name >> nr && define == "#define" && name.rfind("__NR_", 0) == 0)
      out[name.substr(5)] = nr;
  }
  return out;
}

struct Count {
  uint64_t calls = 0;
  uint64_t errors = 0;
  bool operator==(const Count& o) const { return calls == o.calls && errors == o.errors; }
};
std::ostream& operator<<(std::ostream& os, const Count& c) {
  return os << "{calls " << c.calls << ", errors " << c.errors << "}";
}

// Runs `strace -f -c` on `argv` (stdout to /dev/null) and parses its table:
// syscall number -> calls/errors.
std::map<int, Count> StraceCounts(const std::vector<std::string>& argv) {
  const std::string out = absl::StrCat(TempDir(), "/strace-c.txt");
  std::string cmd = "timeout 60 strace -f -c -o " + out;
  for (const auto& a : argv) cmd += " '" + a + "'";
  cmd += " > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const auto numbers = SyscallNumbers();
  std::map<int, Count> counts;
  std::ifstream f(out);
  std::string line;
  while (std::getline(f, line)) {
    std::vector<std::string> t = absl::StrSplit(line, ' ', absl::SkipEmpty());
    // "% time seconds usecs/call calls [errors] syscall"
    if (t.size() < 5 || t.size() > 6 || t.back() == "total" || t.back() == "syscall" ||
        line[0] == '-') {
      continue;
    }
    auto it = numbers.find(t.back());
    if (it == numbers.end()) {
      ADD_FAILURE() << "unknown syscall in strace output: " << line;
      continue;
    }
    Count c;
    c.calls = std::stoull(t[3]);
    c.errors = t.size() == 6 ? std::stoull(t[4]) : 0;
    counts[it->second] = c;
  }
  EXPECT_FALSE(counts.empty()) << "no rows parsed from " << out;
  return counts;
}

// Runs `argv` as a traced, gated child in stats mode (follow forks, stdout to
// /dev/null) and returns the kernel's totals.
std::map<int, Count> TracedCounts(const std::vector<std::string>& argv) {
  CaptureOptions options;
  options.stats_only = true;
  options.follow_forks = true;
  auto source = Open(options);
  if (!source) return {};
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const int devnull = DevNull();
  GatedChild child(
      [&] {
        execv(cargv[0], cargv.data());
        return 127;
      },
      [&] { dup2(devnull, 1); });
  close(devnull);
  EXPECT_TRUE(source->AddTarget(child.pid()).ok());
  CollectingSink sink;
  child.Release();
  EXPECT_EQ(child.Wait(), 0);
  CollectUntilExited(*source, sink, {static_cast<uint32_t>(child.pid())});
  EXPECT_TRUE(sink.syscalls.empty()) << "stats mode must not send syscall records";
  auto totals = source->Totals();
  EXPECT_TRUE(totals.ok()) << totals.status();
  std::map<int, Count> counts;
  if (!totals.ok()) return counts;
  for (const auto& t : *totals) counts[t.nr] = Count{t.calls, t.errors};
  return counts;
}

class CaptureBpfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) {
      if (std::getenv("CI") != nullptr) {
        FAIL() << "capture_bpf_test needs root (CAP_BPF, CAP_PERFMON) and CI is set";
      }
      GTEST_SKIP() << "needs root to load BPF programs (CAP_BPF, CAP_PERFMON); skipping";
    }
  }
};

// ---- tests -------------------------------------------------------------------

TEST_F(CaptureBpfTest, ExecOfCatReportsExecveOpenatReadWriteAndExit) {
  const std::string content =
      "capture test line one\nline two is long enough to pass sixty-four bytes of data\n";
  const std::string file = WriteTempFile("cat-input.txt", content);
  auto source = Open(CaptureOptions{});
  ASSERT_NE(source, nullptr);
  const int devnull = DevNull();
  GatedChild child(
      [&] {
        execl("/bin/cat", "/bin/cat", file.c_str(), static_cast<char*>(nullptr));
        return 127;
      },
      [&] { dup2(devnull, 1); });
  close(devnull);
  const uint32_t pid = child.pid();
  CollectingSink sink = TraceUntilExit(*source, child);

  // execve: filename and argv captured at entry, reported at exit.
  auto execs = sink.Of(pid, SYS_execve);
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(execs[0].ret, 0);
  ASSERT_NE(execs[0].Blob(0), nullptr)
      << execs[0].blobs.size() << " blobs, arg0 " << execs[0].args[0] << " arg1 "
      << execs[0].args[1] << " exec stash drops " << source->Counters().exec_args_lost;
  EXPECT_EQ(execs[0].Blob(0)->kind, BlobKind::kString);
  EXPECT_EQ(execs[0].Blob(0)->data, "/bin/cat");
  ASSERT_NE(execs[0].Blob(1), nullptr);
  EXPECT_EQ(execs[0].Blob(1)->kind, BlobKind::kArgv);
  EXPECT_EQ(execs[0].Blob(1)->data, absl::StrCat("/bin/cat", std::string(1, '\0'), file));
  EXPECT_FALSE(execs[0].Blob(1)->truncated);

  // The exec record names the new image.
  const ProcessEvent* exec = sink.Process(ProcessEvent::Kind::kExec, pid);
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(exec->filename, "/bin/cat");
  EXPECT_EQ(exec->comm, "cat");

  // openat of the input file, read-only, succeeded.
  std::optional<Syscall> open_file;
  for (const auto& s : sink.Of(pid, SYS_openat)) {
    if (s.Blob(1) && s.Blob(1)->data == file) open_file = s;
  }
  ASSERT_TRUE(open_file.has_value());
  EXPECT_EQ(open_file->args[2] & O_ACCMODE, static_cast<uint64_t>(O_RDONLY));
  EXPECT_GE(open_file->ret, 0);
  const uint64_t fd = open_file->ret;

  // The read of that fd carries the first 64 bytes, marked truncated.
  std::optional<Syscall> read_data;
  for (const auto& s : sink.Of(pid, SYS_read)) {
    if (s.args[0] == fd && s.ret > 0) read_data = s;
  }
  ASSERT_TRUE(read_data.has_value());
  EXPECT_EQ(read_data->ret, static_cast<int64_t>(content.size()));
  ASSERT_NE(read_data->Blob(1), nullptr);
  EXPECT_EQ(read_data->Blob(1)->kind, BlobKind::kBytes);
  EXPECT_EQ(read_data->Blob(1)->data, content.substr(0, 64));
  EXPECT_TRUE(read_data->Blob(1)->truncated);

  // cat wrote the same bytes to stdout.
  std::optional<Syscall> write_out;
  for (const auto& s : sink.Of(pid, SYS_write)) {
    if (s.args[0] == 1) write_out = s;
  }
  ASSERT_TRUE(write_out.has_value());
  ASSERT_NE(write_out->Blob(1), nullptr);
  EXPECT_EQ(write_out->Blob(1)->data, content.substr(0, 64));

  // exit_group at entry, without a return; then the process exit record.
  auto exits = sink.Of(pid, SYS_exit_group);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_TRUE(exits[0].no_return);
  EXPECT_EQ(exits[0].args[0], 0u);
  const ProcessEvent* exit = sink.Process(ProcessEvent::Kind::kExit, pid);
  ASSERT_NE(exit, nullptr);
  EXPECT_TRUE(WIFEXITED(exit->exit_code));
  EXPECT_EQ(WEXITSTATUS(exit->exit_code), 0);
  EXPECT_EQ(exit->comm, "cat");

  // Every syscall record belongs to the child and has sane timing.
  for (const auto& s : sink.syscalls) {
    EXPECT_EQ(s.tgid, pid);
    EXPECT_EQ(s.tid, pid);
    EXPECT_GT(s.start_ns, 0u);
    if (!s.no_return) {
      EXPECT_GT(s.duration_ns, 0u) << "nr " << s.nr;
    }
  }
  EXPECT_EQ(source->Counters().events, sink.syscalls.size() + sink.processes.size());
  for (uint64_t d : source->Counters().ringbuf_drops_per_cpu) EXPECT_EQ(d, 0u);
}

// The arguments of a record are read from the saved registers at sys_exit:
// they must be the caller's, for a six-argument call, for rt_sigreturn
// (which replaces the registers, orig_ax included) and for an execve made by
// a thread other than the leader (the new image clears the registers, and
// the thread takes over the leader's id before its execve returns).
TEST_F(CaptureBpfTest, ArgumentsAreTheCallersAfterSigreturnAndAThreadsExecve) {
  auto source = Open(CaptureOptions{});
  ASSERT_NE(source, nullptr);
  const int devnull = DevNull();
  GatedChild child(
      [&] {
        void* p = mmap(nullptr, 7 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) return 1;
        signal(SIGUSR1, [](int) {});
        raise(SIGUSR1);  // the handler returns through rt_sigreturn
        std::thread([] {
          execl("/bin/true", "/bin/true", "from-a-thread", static_cast<char*>(nullptr));
        }).join();
        return 127;  // not reached: the exec replaced every thread
      },
      [&] { dup2(devnull, 1); });
  close(devnull);
  const uint32_t pid = child.pid();
  CollectingSink sink = TraceUntilExit(*source, child);

  std::optional<Syscall> map;
  for (const auto& s : sink.Of(pid, SYS_mmap)) {
    if (s.args[1] == 7 * 4096) map = s;
  }
  ASSERT_TRUE(map.has_value());
  EXPECT_EQ(map->args[0], 0u);
  EXPECT_EQ(map->args[2], static_cast<uint64_t>(PROT_READ));
  EXPECT_EQ(map->args[3], static_cast<uint64_t>(MAP_PRIVATE | MAP_ANONYMOUS));
  EXPECT_EQ(map->args[5], 0u);
  EXPECT_GT(map->ret, 0);

  EXPECT_EQ(sink.Of(pid, SYS_rt_sigreturn).size(), 1u);
  for (const auto& s : sink.syscalls) EXPECT_GE(s.nr, 0) << "a record without its number";

  auto execs = sink.Of(pid, SYS_execve);
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(execs[0].ret, 0);
  EXPECT_EQ(execs[0].tid, pid);  // reported under the id it returned with
  EXPECT_NE(execs[0].args[0], 0u) << "the caller's pointers, not the cleared registers";
  EXPECT_NE(execs[0].args[1], 0u);
  ASSERT_NE(execs[0].Blob(0), nullptr);
  EXPECT_EQ(execs[0].Blob(0)->data, "/bin/true");
  ASSERT_NE(execs[0].Blob(1), nullptr);
  EXPECT_EQ(execs[0].Blob(1)->data,
            absl::StrCat("/bin/true", std::string(1, '\0'), "from-a-thread"));
  const ProcessEvent* exit = sink.Process(ProcessEvent::Kind::kExit, pid);
  ASSERT_NE(exit, nullptr);
  EXPECT_TRUE(WIFEXITED(exit->exit_code));
  EXPECT_EQ(WEXITSTATUS(exit->exit_code), 0);
}

TEST_F(CaptureBpfTest, ErrorsPathsDataAndSockaddrs) {
  const std::string missing = "/nonexistent-capture-test/missing";
  std::string long_path = "/nonexistent-capture-test";
  while (long_path.size() < 300) long_path += "/component-of-a-long-path";
  auto source = Open(CaptureOptions{});
  ASSERT_NE(source, nullptr);
  const int devnull = DevNull();
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(9);  // discard; nothing listens on loopback here
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  GatedChild child([&] {
    syscall(SYS_openat, AT_FDCWD, missing.c_str(), O_RDONLY | O_CLOEXEC);
    syscall(SYS_openat, AT_FDCWD, long_path.c_str(), O_RDONLY);
    syscall(SYS_rename, "/nonexistent-capture-test/a", "/nonexistent-capture-test/b");
    syscall(SYS_write, devnull, "hello world", 11);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    syscall(SYS_connect, s, &addr, sizeof addr);
    char prog[] = "/nonexistent-capture-test/prog";
    char arg1[] = "--flag";
    char* exec_argv[] = {prog, arg1, nullptr};
    syscall(SYS_execve, prog, exec_argv, environ);
    return 7;
  });
  const uint32_t pid = child.pid();
  ASSERT_TRUE(source->AddTarget(pid).ok());
  child.Release();
  const int status = child.Wait();
  close(devnull);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 7);
  CollectingSink sink;
  CollectUntilExited(*source, sink, {pid});

  auto opens = sink.Of(pid, SYS_openat);
  ASSERT_EQ(opens.size(), 2u);
  EXPECT_EQ(opens[0].ret, -ENOENT);
  EXPECT_EQ(opens[0].args[2], static_cast<uint64_t>(O_RDONLY | O_CLOEXEC));
  ASSERT_NE(opens[0].Blob(1), nullptr);
  EXPECT_EQ(opens[0].Blob(1)->data, missing);
  EXPECT_FALSE(opens[0].Blob(1)->truncated);
  // Paths are capped at 256 bytes and say so.
  ASSERT_NE(opens[1].Blob(1), nullptr);
  EXPECT_EQ(opens[1].Blob(1)->data, long_path.substr(0, 256));
  EXPECT_TRUE(opens[1].Blob(1)->truncated);

  auto renames = sink.Of(pid, SYS_rename);
  ASSERT_EQ(renames.size(), 1u);
  EXPECT_EQ(renames[0].ret, -ENOENT);
  ASSERT_NE(renames[0].Blob(0), nullptr);
  ASSERT_NE(renames[0].Blob(1), nullptr);
  EXPECT_EQ(renames[0].Blob(0)->data, "/nonexistent-capture-test/a");
  EXPECT_EQ(renames[0].Blob(1)->data, "/nonexistent-capture-test/b");

  auto writes = sink.Of(pid, SYS_write);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].ret, 11);
  EXPECT_EQ(writes[0].args[2], 11u);
  ASSERT_NE(writes[0].Blob(1), nullptr);
  EXPECT_EQ(writes[0].Blob(1)->data, "hello world");
  EXPECT_FALSE(writes[0].Blob(1)->truncated);

  auto connects = sink.Of(pid, SYS_connect);
  ASSERT_EQ(connects.size(), 1u);
  EXPECT_EQ(connects[0].ret, -ECONNREFUSED);
  ASSERT_NE(connects[0].Blob(1), nullptr);
  EXPECT_EQ(connects[0].Blob(1)->kind, BlobKind::kSockaddr);
  EXPECT_EQ(connects[0].Blob(1)->data,
            std::string(reinterpret_cast<const char*>(&addr), sizeof addr));

  // A failed execve still reports filename and argv (read at sys_exit).
  auto execs = sink.Of(pid, SYS_execve);
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(execs[0].ret, -ENOENT);
  ASSERT_NE(execs[0].Blob(0), nullptr);
  EXPECT_EQ(execs[0].Blob(0)->data, "/nonexistent-capture-test/prog");
  ASSERT_NE(execs[0].Blob(1), nullptr);
  EXPECT_EQ(execs[0].Blob(1)->data,
            absl::StrCat("/nonexistent-capture-test/prog", std::string(1, '\0'), "--flag"));
  EXPECT_EQ(sink.Process(ProcessEvent::Kind::kExec, pid), nullptr);

  auto exits = sink.Of(pid, SYS_exit_group);
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].args[0], 7u);
  const ProcessEvent* exit = sink.Process(ProcessEvent::Kind::kExit, pid);
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(exit->exit_code, 7 << 8);
}

// A child that forks a grandchild; the grandchild opens a marker path.
int ForkingBody(const std::string& marker) {
  pid_t g = fork();
  if (g == 0) {
    syscall(SYS_openat, AT_FDCWD, marker.c_str(), O_RDONLY);
    _exit(3);
  }
  int status = 0;
  waitpid(g, &status, 0);
  return WEXITSTATUS(status) == 3 ? 0 : 1;
}

TEST_F(CaptureBpfTest, FollowForksTracesChildrenFromTheirFirstSyscall) {
  const std::string marker = "/nonexistent-capture-test/grandchild";
  CaptureOptions options;
  options.follow_forks = true;
  auto source = Open(options);
  ASSERT_NE(source, nullptr);
  GatedChild child([&] { return ForkingBody(marker); });
  const uint32_t pid = child.pid();
  CollectingSink sink = TraceUntilExit(*source, child);

  const ProcessEvent* fork = nullptr;
  for (const auto& p : sink.processes)
    if (p.kind == ProcessEvent::Kind::kFork && p.parent_tgid == pid) fork = &p;
  ASSERT_NE(fork, nullptr);
  const uint32_t grandchild = fork->tgid;
  EXPECT_NE(grandchild, pid);
  // The fork syscall's return value in the parent is the grandchild's pid.
  auto clones = sink.Of(pid, SYS_clone);
  ASSERT_EQ(clones.size(), 1u);
  EXPECT_EQ(clones[0].ret, static_cast<int64_t>(grandchild));

  auto opens = sink.Of(grandchild, SYS_openat);
  ASSERT_EQ(opens.size(), 1u);
  ASSERT_NE(opens[0].Blob(1), nullptr);
  EXPECT_EQ(opens[0].Blob(1)->data, marker);
  EXPECT_EQ(opens[0].ret, -ENOENT);
  const ProcessEvent* exit = sink.Process(ProcessEvent::Kind::kExit, grandchild);
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(exit->exit_code, 3 << 8);
}

TEST_F(CaptureBpfTest, WithoutFollowForksChildrenAreNotTraced) {
  const std::string marker = "/nonexistent-capture-test/grandchild";
  auto source = Open(CaptureOptions{});
  ASSERT_NE(source, nullptr);
  GatedChild child([&] { return ForkingBody(marker); });
  const uint32_t pid = child.pid();
  CollectingSink sink = TraceUntilExit(*source, child);

  ASSERT_EQ(sink.Of(pid, SYS_clone).size(), 1u);
  const uint32_t grandchild = sink.Of(pid, SYS_clone)[0].ret;
  for (const auto& s : sink.syscalls) EXPECT_EQ(s.tgid, pid);
  for (const auto& p : sink.processes) EXPECT_NE(p.tgid, grandchild);
}

TEST_F(CaptureBpfTest, SyscallFilterKeepsOnlySelectedSyscalls) {
  CaptureOptions options;
  options.syscalls = {SYS_openat, SYS_getppid};
  auto source = Open(options);
  ASSERT_NE(source, nullptr);
  GatedChild child([] {
    syscall(SYS_getpid);
    syscall(SYS_openat, AT_FDCWD, "/nonexistent-capture-test/filtered", O_RDONLY);
    syscall(SYS_getppid);
    syscall(SYS_getuid);
    return 0;
  });
  CollectingSink sink = TraceUntilExit(*source, child);

  std::vector<int> nrs;
  for (const auto& s : sink.syscalls) nrs.push_back(s.nr);
  EXPECT_THAT(nrs, ElementsAre(SYS_openat, SYS_getppid));
}

TEST_F(CaptureBpfTest, MinDurationKeepsOnlySlowSyscalls) {
  CaptureOptions options;
  options.min_duration_ns = 20'000'000;  // 20 ms
  auto source = Open(options);
  ASSERT_NE(source, nullptr);
  GatedChild child([] {
    for (int i = 0; i < 5; ++i) syscall(SYS_getpid);
    timespec t = {0, 60'000'000};  // 60 ms
    syscall(SYS_nanosleep, &t, nullptr);
    return 0;
  });
  CollectingSink sink = TraceUntilExit(*source, child);

  ASSERT_EQ(sink.syscalls.size(), 1u);
  EXPECT_EQ(sink.syscalls[0].nr, SYS_nanosleep);
  EXPECT_GT(sink.syscalls[0].duration_ns, 20'000'000u);
}

TEST_F(CaptureBpfTest, StatsModeMatchesStraceForLs) {
  const std::vector<std::string> argv = {"/bin/ls", "-la", "/etc"};
  auto ours = TracedCounts(argv);
  auto strace = StraceCounts(argv);
  EXPECT_EQ(ours, strace);
  EXPECT_THAT(ours, Contains(testing::Key(SYS_execve)));
  EXPECT_THAT(ours, Not(Contains(testing::Key(SYS_exit_group))));
}

TEST_F(CaptureBpfTest, StatsModeMatchesStraceForCat) {
  const std::string file = WriteTempFile("stats-cat.txt", std::string(100000, 'x'));
  const std::vector<std::string> argv = {"/bin/cat", file};
  auto ours = TracedCounts(argv);
  auto strace = StraceCounts(argv);
  EXPECT_EQ(ours, strace);
}

TEST_F(CaptureBpfTest, StatsModeMatchesStraceAcrossForks) {
  const std::vector<std::string> argv = {"/bin/sh", "-c",
                                         "/bin/cat /etc/hostname; /bin/ls /nonexistent || true"};
  auto ours = TracedCounts(argv);
  auto strace = StraceCounts(argv);
  EXPECT_EQ(ours, strace);
}

// ---- kernel-side targets ------------------------------------------------------

// fork + execv(path) without any AddTarget; returns the child's pid.
pid_t Spawn(const std::string& path) {
  pid_t pid = fork();
  if (pid == 0) {
    const int devnull = DevNull();
    dup2(devnull, 1);
    execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST_F(CaptureBpfTest, CommTargetCatchesTheFirstSyscallsAfterExec) {
  // The comm after exec is the file name's first 15 bytes: a symlink to
  // /bin/true with a unique name.
  const std::string comm = absl::StrCat("cbt-", getpid() % 100000, "-comm");
  ASSERT_LE(comm.size(), 15u);
  const std::string link = absl::StrCat(TempDir(), "/", comm);
  unlink(link.c_str());
  ASSERT_EQ(symlink("/bin/true", link.c_str()), 0) << std::strerror(errno);
  auto source = Open(CaptureOptions{});
  ASSERT_NE(source, nullptr);
  ASSERT_TRUE(source->AddCommTarget(comm).ok());
  EXPECT_EQ(source->AddCommTarget("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(source->AddCommTarget("sixteen-bytes-xx").code(), absl::StatusCode::kInvalidArgument);

  const pid_t other = Spawn("/bin/true");  // another comm: not traced
  const pid_t pid = Spawn(link);
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_EQ(status, 0);
  ASSERT_EQ(waitpid(other, &status, 0), other);
  CollectingSink sink;
  CollectUntilExited(*source, sink, {static_cast<uint32_t>(pid)});
  unlink(link.c_str());

  const ProcessEvent* exec = sink.Process(ProcessEvent::Kind::kExec, pid);
  ASSERT_NE(exec, nullptr);
  EXPECT_EQ(exec->comm, comm);
  EXPECT_EQ(exec->filename, link);
  // The very first syscalls after exec: the execve's own return (with the
  // file name and argv kept at exec), then the loader's first brk.
  std::vector<Syscall> mine;
  for (const auto& s : sink.syscalls)
    if (s.tgid == static_cast<uint32_t>(pid)) mine.push_back(s);
  ASSERT_GE(mine.size(), 2u);
  EXPECT_EQ(mine[0].nr, SYS_execve);
  EXPECT_EQ(mine[0].ret, 0);
  ASSERT_NE(mine[0].Blob(0), nullptr);
  EXPECT_EQ(mine[0].Blob(0)->data, link);
  ASSERT_NE(mine[0].Blob(1), nullptr);
  EXPECT_EQ(mine[0].Blob(1)->data, link);
  EXPECT_EQ(mine[1].nr, SYS_brk);
  EXPECT_EQ(mine[1].args[0], 0u);
  EXPECT_EQ(sink.Of(pid, SYS_exit_group).size(), 1u);
  for (const auto& s : sink.syscalls) EXPECT_NE(s.tgid, static_cast<uint32_t>(other));

  auto admission = source->TakeAdmission(pid);
  ASSERT_TRUE(admission.has_value());
  EXPECT_EQ(admission->reason, KernelAdmission::Reason::kComm);
  EXPECT_EQ(admission->comm, comm);
  EXPECT_FALSE(source->TakeAdmission(pid).has_value());  // handed over once
  EXPECT_FALSE(source->TakeAdmission(other).has_value());
}

// The cgroup v2 mount (unified or systemd hybrid layout).
std::string CgroupV2Root() {
  for (const char* p : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    struct statfs fs;
    if (statfs(p, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC) return p;
  }
  return "";
}

bool MoveToCgroup(const std::string& dir, pid_t pid) {
  std::ofstream procs(dir + "/cgroup.procs");
  procs << pid << std::flush;
  return procs.good();
}

TEST_F(CaptureBpfTest, CgroupTargetTracesProcessesInsideAndBelowOnly) {
  const std::string root = CgroupV2Root();
  ASSERT_FALSE(root.empty()) << "no cgroup v2 mount";
  const std::string name = absl::StrCat("/capture-bpf-test-", getpid());
  const std::string dir = root + name;
  const std::string inner = dir + "/inner";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir << ": " << std::strerror(errno);
  ASSERT_EQ(mkdir(inner.c_str(), 0755), 0) << std::strerror(errno);
  struct Cleanup {
    std::string dir, inner;
    ~Cleanup() {
      rmdir(inner.c_str());
      rmdir(dir.c_str());
    }
  } cleanup{dir, inner};

  auto source = Open(CaptureOptions{});
  ASSERT_NE(source, nullptr);
  auto id = source->AddCgroupTarget(name);
  ASSERT_TRUE(id.ok()) << id.status();
  struct stat st;
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(*id, st.st_ino);  // the cgroup id is the directory's inode number
  EXPECT_EQ(source->AddCgroupTarget("/no-such-cgroup-here").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(source->AddCgroupTarget("relative").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(source->AddCgroupTarget(name + "/../x").status().code(),
            absl::StatusCode::kInvalidArgument);

  const std::string marker = "/nonexistent-capture-test/cgroup";
  auto body = [&] {
    syscall(SYS_openat, AT_FDCWD, marker.c_str(), O_RDONLY);
    return 0;
  };
  GatedChild inside(body);
  GatedChild outside(body);
  ASSERT_TRUE(MoveToCgroup(inner, inside.pid()));  // below the target
  inside.Release();
  outside.Release();
  ASSERT_EQ(inside.Wait(), 0);
  ASSERT_EQ(outside.Wait(), 0);
  CollectingSink sink;
  CollectUntilExited(*source, sink, {static_cast<uint32_t>(inside.pid())});

  auto opens = sink.Of(inside.pid(), SYS_openat);
  ASSERT_EQ(opens.size(), 1u);
  ASSERT_NE(opens[0].Blob(1), nullptr);
  EXPECT_EQ(opens[0].Blob(1)->data, marker);
  EXPECT_EQ(sink.Of(inside.pid(), SYS_exit_group).size(), 1u);
  for (const auto& s : sink.syscalls) {
    EXPECT_NE(s.tgid, static_cast<uint32_t>(outside.pid()));
    EXPECT_NE(s.tgid, static_cast<uint32_t>(getpid()));
  }
  auto admission = source->TakeAdmission(inside.pid());
  ASSERT_TRUE(admission.has_value());
  EXPECT_EQ(admission->reason, KernelAdmission::Reason::kCgroup);
  EXPECT_EQ(admission->cgroup_id, *id);
  EXPECT_FALSE(source->TakeAdmission(outside.pid()).has_value());
}

TEST_F(CaptureBpfTest, TraceAllTracesOtherProcessesButNotTheExcludedOne) {
  const std::string marker = "/nonexistent-capture-test/trace-all";
  auto body = [&] {
    syscall(SYS_openat, AT_FDCWD, marker.c_str(), O_RDONLY);
    return 0;
  };
  GatedChild traced(body);
  GatedChild excluded(body);
  CaptureOptions options;
  options.exclude_tgid = excluded.pid();
  options.syscalls = {SYS_openat, SYS_exit_group};  // keep the machine-wide stream small
  auto source = Open(options);
  ASSERT_NE(source, nullptr);
  ASSERT_TRUE(source->SetTraceAll(true).ok());
  traced.Release();
  excluded.Release();
  ASSERT_EQ(traced.Wait(), 0);
  ASSERT_EQ(excluded.Wait(), 0);
  ASSERT_TRUE(source->SetTraceAll(false).ok());
  CollectingSink sink;
  CollectUntilExited(*source, sink, {static_cast<uint32_t>(traced.pid())});

  auto opens = sink.Of(traced.pid(), SYS_openat);
  ASSERT_EQ(opens.size(), 1u);
  ASSERT_NE(opens[0].Blob(1), nullptr);
  EXPECT_EQ(opens[0].Blob(1)->data, marker);
  auto admission = source->TakeAdmission(traced.pid());
  ASSERT_TRUE(admission.has_value());
  EXPECT_EQ(admission->reason, KernelAdmission::Reason::kTraceAll);
  for (const auto& s : sink.syscalls) EXPECT_NE(s.tgid, static_cast<uint32_t>(excluded.pid()));
  for (const auto& p : sink.processes) EXPECT_NE(p.tgid, static_cast<uint32_t>(excluded.pid()));
  EXPECT_FALSE(source->TakeAdmission(excluded.pid()).has_value());
}

// Names of the BPF programs behind the links this process holds open (the
// kernel keeps the first 15 bytes of a program's name).
std::multiset<std::string> LinkedProgramNames() {
  std::multiset<std::string> names;
  for (int fd = 0; fd < 4096; ++fd) {
    bpf_link_info link = {};
    uint32_t len = sizeof link;
    if (bpf_obj_get_info_by_fd(fd, &link, &len) != 0 || len < sizeof link.prog_id) continue;
    if (link.type != BPF_LINK_TYPE_RAW_TRACEPOINT) continue;
    int prog = bpf_prog_get_fd_by_id(link.prog_id);
    if (prog < 0) continue;
    bpf_prog_info info = {};
    uint32_t info_len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog, &info, &info_len) == 0) names.insert(info.name);
    close(prog);
  }
  return names;
}

TEST_F(CaptureBpfTest, NoSyscallsAttachesNoPerSyscallHooks) {
  CaptureOptions options;
  options.no_syscalls = true;
  auto source = Open(options);
  ASSERT_NE(source, nullptr);
  const std::multiset<std::string> linked = LinkedProgramNames();
  EXPECT_EQ(linked.count("handle_sys_ente"), 0u) << "trace=none: no sys_enter program";
  EXPECT_EQ(linked.count("handle_sys_exit"), 0u);
  EXPECT_EQ(linked.count("handle_fork"), 1u) << "process lifecycle stays attached";
  EXPECT_EQ(linked.count("handle_exit"), 1u);

  // A pid target still gets its process records.
  GatedChild child([] {
    syscall(SYS_getppid);
    return 0;
  });
  CollectingSink sink = TraceUntilExit(*source, child);
  EXPECT_TRUE(sink.syscalls.empty());
  EXPECT_FALSE(sink.processes.empty());

  // Admission at sys_enter cannot happen: refused, not silently empty.
  absl::Status all = source->SetTraceAll(true);
  EXPECT_EQ(all.code(), absl::StatusCode::kFailedPrecondition) << all;
  EXPECT_EQ(source->AddCgroupTarget("/").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(source->SetTraceAll(false).ok());

  // With syscalls selected the pair is attached, once.
  options.no_syscalls = false;
  options.syscalls = {SYS_getppid};
  auto with = Open(options);
  ASSERT_NE(with, nullptr);
  EXPECT_EQ(LinkedProgramNames().count("handle_sys_ente"), 1u);
}

TEST_F(CaptureBpfTest, WithoutRootLoadingIsPermissionDenied) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(100);
    auto source = OpenBpfEventSource(CaptureOptions{});
    _exit(source.ok() ? 101 : static_cast<int>(source.status().code()));
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), static_cast<int>(absl::StatusCode::kPermissionDenied));
}

// A burst beyond the ring buffer: a one-page ring holds a few dozen
// records; the child makes thousands of calls while nobody polls. Every call
// is either delivered or counted as lost in the per-CPU drop counters, none
// is lost silently.
TEST_F(CaptureBpfTest, BurstBeyondATinyRingBufferIsCountedAsDropped) {
  constexpr int kCalls = 20000;
  CaptureOptions options;
  options.ringbuf_bytes = 4096;  // one page
  options.syscalls = {SYS_getpid};
  auto source = Open(options);
  ASSERT_NE(source, nullptr);
  GatedChild child([] {
    for (int i = 0; i < kCalls; ++i) syscall(SYS_getpid);
    return 0;
  });
  const uint32_t pid = child.pid();
  ASSERT_TRUE(source->AddTarget(pid).ok());
  child.Release();
  ASSERT_EQ(child.Wait(), 0);  // the consumer did not poll during the burst

  CollectingSink sink;
  for (int idle = 0; idle < 3;) {
    auto n = source->Poll(sink, 2);
    ASSERT_TRUE(n.ok()) << n.status();
    idle = *n == 0 ? idle + 1 : 0;
  }
  const CaptureCounters counters = source->Counters();
  uint64_t dropped = 0;
  for (uint64_t d : counters.ringbuf_drops_per_cpu) dropped += d;
  const uint64_t delivered = sink.Of(pid, SYS_getpid).size();
  EXPECT_GT(delivered, 0u);
  EXPECT_LT(delivered, 4096u / 88);  // struct syscalls_syscall_record: 88 bytes
  EXPECT_GT(dropped, 0u);
  // The child's exit record is the only other record of the burst: it was
  // delivered, or it is one of the drops.
  const uint64_t exits = sink.Process(ProcessEvent::Kind::kExit, pid) != nullptr ? 1 : 0;
  EXPECT_EQ(delivered + dropped + exits, static_cast<uint64_t>(kCalls) + 1)
      << delivered << " delivered, " << dropped << " dropped, " << exits << " exit records";
  EXPECT_EQ(counters.missed_syscalls, 0u);
}

TEST_F(CaptureBpfTest, BadOptionsAreInvalidArgument) {
  CaptureOptions bad_ring;
  bad_ring.ringbuf_bytes = 12345;
  EXPECT_EQ(OpenBpfEventSource(bad_ring).status().code(), absl::StatusCode::kInvalidArgument);
  CaptureOptions bad_nr;
  bad_nr.syscalls = {SYS_openat, 4096};
  EXPECT_EQ(OpenBpfEventSource(bad_nr).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tracer::capture
