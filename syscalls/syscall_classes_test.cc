#include "syscalls/syscall_classes.h"

#include <sys/syscall.h>

#include <algorithm>

#include "gtest/gtest.h"
#include "syscalls/syscall_table.h"

namespace tracer::syscalls {
namespace {

bool Has(const std::vector<int>& v, int nr) { return std::find(v.begin(), v.end(), nr) != v.end(); }

TEST(SyscallsInClass, DocumentedExamples) {
  auto file = SyscallsInClass("file");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_TRUE(Has(*file, SYS_openat));
  EXPECT_TRUE(Has(*file, SYS_execve));
  EXPECT_TRUE(Has(*file, SYS_newfstatat));
  EXPECT_FALSE(Has(*file, SYS_read));  // takes a descriptor, not a name
  EXPECT_FALSE(Has(*file, SYS_fstat));

  auto net = SyscallsInClass("%network");
  ASSERT_TRUE(net.ok());
  EXPECT_TRUE(Has(*net, SYS_connect));
  EXPECT_TRUE(Has(*net, SYS_sendfile));
  EXPECT_FALSE(Has(*net, SYS_read));
  EXPECT_EQ(*SyscallsInClass("net"), *net);

  auto proc = SyscallsInClass("process");
  ASSERT_TRUE(proc.ok());
  for (int nr : {SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_execve, SYS_exit_group, SYS_wait4,
                 SYS_kill})
    EXPECT_TRUE(Has(*proc, nr)) << SyscallName(nr);
  EXPECT_FALSE(Has(*proc, SYS_getpid));

  auto mem = SyscallsInClass("memory");
  ASSERT_TRUE(mem.ok());
  EXPECT_TRUE(Has(*mem, SYS_mmap));
  EXPECT_TRUE(Has(*mem, SYS_brk));
  EXPECT_FALSE(Has(*mem, SYS_read));

  EXPECT_TRUE(Has(*SyscallsInClass("desc"), SYS_close));
  EXPECT_TRUE(Has(*SyscallsInClass("signal"), SYS_rt_sigaction));
  EXPECT_TRUE(Has(*SyscallsInClass("ipc"), SYS_semop));
  EXPECT_TRUE(Has(*SyscallsInClass("%%stat"), SYS_statx));
  EXPECT_TRUE(Has(*SyscallsInClass("pure"), SYS_getpid));
}

TEST(SyscallsInClass, SortedUniqueAndKnown) {
  for (std::string_view cls : SyscallClassNames()) {
    auto v = SyscallsInClass(cls);
    ASSERT_TRUE(v.ok()) << cls;
    EXPECT_FALSE(v->empty()) << cls;
    EXPECT_TRUE(std::is_sorted(v->begin(), v->end())) << cls;
    EXPECT_EQ(std::adjacent_find(v->begin(), v->end()), v->end()) << cls;
    for (int nr : *v)
      EXPECT_TRUE(SyscallArgCount(nr) || SyscallName(nr).substr(0, 8) != "syscall_");
  }
}

TEST(SyscallsInClass, UnknownClassNamesIt) {
  auto v = SyscallsInClass("bogus");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("'bogus'"), std::string::npos) << v.status();
  EXPECT_NE(v.status().message().find("%file"), std::string::npos) << v.status();
  EXPECT_FALSE(SyscallsInClass("").ok());
  EXPECT_FALSE(SyscallsInClass("%").ok());
  EXPECT_FALSE(SyscallsInClass("FILE").ok());
}

TEST(ParseTraceExpression, Names) {
  auto v = ParseTraceExpression("openat,close,read");
  ASSERT_TRUE(v.ok()) << v.status();
  std::vector<int> want = {SYS_read, SYS_close, SYS_openat};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*v, want);
  EXPECT_EQ(*ParseTraceExpression("close,close"), std::vector<int>{SYS_close});
}

TEST(ParseTraceExpression, ClassesWithAndWithoutPercent) {
  EXPECT_EQ(*ParseTraceExpression("%file"), *SyscallsInClass("file"));
  EXPECT_EQ(*ParseTraceExpression("file"), *SyscallsInClass("file"));
  EXPECT_EQ(*ParseTraceExpression("network"), *SyscallsInClass("network"));
  EXPECT_EQ(*ParseTraceExpression("%net"), *SyscallsInClass("network"));
  auto mixed = ParseTraceExpression("%network,openat");
  ASSERT_TRUE(mixed.ok());
  EXPECT_TRUE(Has(*mixed, SYS_openat));
  EXPECT_TRUE(Has(*mixed, SYS_connect));
  EXPECT_EQ(mixed->size(), SyscallsInClass("network")->size() + 1);
  // Newer classes exist only with '%', as in strace.
  EXPECT_FALSE(ParseTraceExpression("creds").ok());
  EXPECT_TRUE(ParseTraceExpression("%creds").ok());
}

TEST(ParseTraceExpression, NegationIsComplement) {
  auto v = ParseTraceExpression("!read,write");
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(Has(*v, SYS_read));
  EXPECT_FALSE(Has(*v, SYS_write));
  EXPECT_TRUE(Has(*v, SYS_openat));
  EXPECT_EQ(v->size(), AllSyscallNumbers().size() - 2);
  EXPECT_TRUE(ParseTraceExpression("!all")->empty());
  EXPECT_EQ(*ParseTraceExpression("!none"), AllSyscallNumbers());
}

TEST(ParseTraceExpression, AllNoneOptionalAndRegex) {
  EXPECT_EQ(*ParseTraceExpression("all"), AllSyscallNumbers());
  EXPECT_TRUE(ParseTraceExpression("none")->empty());
  EXPECT_EQ(*ParseTraceExpression("?no_such_call,close"), std::vector<int>{SYS_close});
  auto re = ParseTraceExpression("/^open");
  ASSERT_TRUE(re.ok()) << re.status();
  for (int nr : *re) EXPECT_EQ(SyscallName(nr).substr(0, 4), "open");
  EXPECT_TRUE(Has(*re, SYS_open));
  EXPECT_TRUE(Has(*re, SYS_openat));
  EXPECT_TRUE(Has(*re, SYS_openat2));
  EXPECT_FALSE(Has(*re, SYS_fanotify_init));
  auto stat = ParseTraceExpression("/stat$");
  ASSERT_TRUE(stat.ok());
  EXPECT_TRUE(Has(*stat, SYS_stat));
  EXPECT_TRUE(Has(*stat, SYS_fstat));
  EXPECT_FALSE(Has(*stat, SYS_newfstatat));
  EXPECT_FALSE(Has(*stat, SYS_statx));
}

TEST(ParseTraceExpression, ErrorsNameTheCulprit) {
  auto v = ParseTraceExpression("openat,opnat");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(v.status().message().find("'opnat'"), std::string::npos) << v.status();

  auto c = ParseTraceExpression("%bogus");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("bogus"), std::string::npos) << c.status();

  auto r = ParseTraceExpression("/(unclosed");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("(unclosed"), std::string::npos) << r.status();

  EXPECT_FALSE(ParseTraceExpression("").ok());
  EXPECT_FALSE(ParseTraceExpression("!").ok());
  EXPECT_FALSE(ParseTraceExpression("read,,write").ok());
  EXPECT_FALSE(ParseTraceExpression("read,").ok());
  EXPECT_FALSE(ParseTraceExpression("?").ok() && !ParseTraceExpression("?")->empty());
  EXPECT_FALSE(ParseTraceExpression("Read").ok());
  EXPECT_FALSE(ParseTraceExpression(" read").ok());
}

}  // namespace
}  // namespace tracer::syscalls
