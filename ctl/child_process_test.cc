#include "ctl/child_process.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace tracer::ctl {
namespace {

TEST(ResolveExecutable, FindsOnPath) {
  auto p = ResolveExecutable("sh");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(access(p->c_str(), X_OK), 0);
  EXPECT_EQ((*p)[0], '/');
}

TEST(ResolveExecutable, MissingIsNotFound) {
  auto p = ResolveExecutable("definitely-not-a-command-xyz");
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ResolveExecutable("/nonexistent/bin").status().code(), absl::StatusCode::kNotFound);
  char path[] = "/tmp/notexecXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_EQ(chmod(path, 0644), 0);
  EXPECT_EQ(ResolveExecutable(path).status().code(), absl::StatusCode::kPermissionDenied);
  unlink(path);
}

TEST(GatedChild, HeldUntilReleasedThenRuns) {
  char dir[] = "/tmp/gatedXXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string marker = std::string(dir) + "/ran";
  auto c = GatedChild::Spawn({"sh", "-c", "touch " + marker + "; exit 5"});
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->WaitUntilGated(5000).ok());
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "child ran before Release()";
  int status = 0;
  EXPECT_FALSE(*c->TryWait(&status));
  ASSERT_TRUE(c->Release().ok());
  auto st = c->Wait();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(ExitCodeFromWaitStatus(*st), 5);
  EXPECT_EQ(access(marker.c_str(), F_OK), 0);
  unlink(marker.c_str());
  rmdir(dir);
}

TEST(GatedChild, DestructorKillsUnreleasedChild) {
  pid_t pid;
  {
    auto c = GatedChild::Spawn({"sleep", "100"});
    ASSERT_TRUE(c.ok());
    pid = c->pid();
  }
  EXPECT_NE(kill(pid, 0), 0);
}

TEST(ExitCode, SignalIs128PlusSignal) {
  EXPECT_EQ(ExitCodeFromWaitStatus(9), 128 + 9);  // killed by SIGKILL
  EXPECT_EQ(ExitCodeFromWaitStatus(3 << 8), 3);
}

}  // namespace
}  // namespace tracer::ctl
