// Checks the class membership table against the installed strace: strace
// traces a helper that issues every syscall once (each refused by seccomp
// before it runs) with -e trace=%CLASS, and the syscalls it prints must be
// exactly the class's members.
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "syscalls/syscall_classes.h"
#include "syscalls/syscall_table.h"

namespace tracer::syscalls {
namespace {

std::string FindStrace() {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/local/bin"}) {
    std::string p = absl::StrCat(dir, "/strace");
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

// Names strace printed with `-e trace=<expr>`.
std::set<std::string> StraceSees(const std::string& strace, const std::string& expr) {
  std::string out =
      absl::StrCat(getenv("TEST_TMPDIR") ? getenv("TEST_TMPDIR") : "/tmp", "/strace_classes.out");
  std::string cmd = absl::StrCat(strace, " -qq -o ", out, " -e trace=", expr,
                                 " syscalls/testing_call_every_syscall");
  int rc = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << cmd;
  std::set<std::string> names;
  std::ifstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    size_t paren = line.find('(');
    if (paren == std::string::npos || line.rfind("---", 0) == 0 || line.rfind("+++", 0) == 0)
      continue;
    names.insert(line.substr(0, paren));
  }
  return names;
}

class StraceClassesTest : public testing::TestWithParam<const char*> {};

TEST_P(StraceClassesTest, MembershipMatchesStrace) {
  std::string strace = FindStrace();
  if (strace.empty()) {
    if (getenv("CI") != nullptr) FAIL() << "strace is a test dependency and must be installed";
    GTEST_SKIP() << "SKIP: strace not installed";
  }
  std::string cls = GetParam();
  std::set<std::string> seen = StraceSees(strace, "%" + cls);
  ASSERT_FALSE(seen.empty()) << "strace printed nothing for %" << cls;
  auto members = SyscallsInClass("%" + cls);
  ASSERT_TRUE(members.ok()) << members.status();
  std::set<std::string> want;
  for (int nr : *members) want.insert(std::string(SyscallName(nr)));
  // The helper cannot call these two and keep going.
  for (const char* skip : {"exit", "exit_group"}) {
    want.erase(skip);
    seen.erase(skip);
  }
  std::set<std::string> missing, extra;
  for (const auto& n : seen)
    if (!want.count(n)) missing.insert(n);
  for (const auto& n : want)
    if (!seen.count(n)) extra.insert(n);
  EXPECT_TRUE(missing.empty()) << "%" << cls
                               << ": strace has, table lacks: " << testing::PrintToString(missing);
  EXPECT_TRUE(extra.empty()) << "%" << cls
                             << ": table has, strace lacks: " << testing::PrintToString(extra);
}

INSTANTIATE_TEST_SUITE_P(AllClasses, StraceClassesTest,
                         testing::Values("file", "desc", "network", "process", "signal", "ipc",
                                         "memory", "creds", "clock", "pure", "stat", "lstat",
                                         "fstat", "%stat", "statfs", "fstatfs", "%statfs"),
                         [](const testing::TestParamInfo<const char*>& info) {
                           std::string n = info.param;
                           if (n[0] == '%') n = "all_" + n.substr(1);
                           return n;
                         });

}  // namespace
}  // namespace tracer::syscalls
