#include "agent/spans/span_builder.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/spans/proc_info.h"
#include "agent/strace/format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "otlp/otlp_json.h"

namespace tracer::spans {
namespace {

using capture::Blob;
using capture::BlobKind;
using capture::ProcessEvent;
using capture::SyscallEvent;
using opentelemetry::proto::common::v1::AnyValue;
using opentelemetry::proto::common::v1::KeyValue;
using opentelemetry::proto::trace::v1::Span;
using opentelemetry::proto::trace::v1::Status;
using ::testing::HasSubstr;

constexpr int64_t kOffset = 1'700'000'000'000'000'000;  // Unix ns at monotonic 0
constexpr int kOpenat = 257;
constexpr int kRead = 0;
constexpr int kExecve = 59;
constexpr int kExitGroup = 231;

class CollectingSink : public BatchSink {
 public:
  void OnBatch(std::shared_ptr<const SpanBatch> batch) override { batches.push_back(batch); }
  std::vector<std::shared_ptr<const SpanBatch>> batches;
};

// A span with the resource it was reported under.
struct Seen {
  std::map<std::string, AnyValue> resource;
  Span span;
};

std::map<std::string, AnyValue> AttrMap(const google::protobuf::RepeatedPtrField<KeyValue>& attrs) {
  std::map<std::string, AnyValue> out;
  for (const KeyValue& kv : attrs) {
    EXPECT_FALSE(out.count(kv.key())) << "duplicate attribute " << kv.key();
    out[kv.key()] = kv.value();
  }
  return out;
}

std::vector<Seen> AllSpans(const CollectingSink& sink) {
  std::vector<Seen> out;
  for (const auto& b : sink.batches) {
    for (const auto& rs : b->request().resource_spans()) {
      auto res = AttrMap(rs.resource().attributes());
      for (const auto& ss : rs.scope_spans()) {
        for (const Span& s : ss.spans()) out.push_back({res, s});
      }
    }
  }
  return out;
}

std::string Bytes(const SpanId& id) { return std::string(id.begin(), id.end()); }
std::string Bytes(const TraceId& id) { return std::string(id.begin(), id.end()); }

bool IsProcessSpan(const Span& s) { return !AttrMap(s.attributes()).count("syscall.name"); }

// The process span of `pid` (exactly one expected).
Seen ProcessSpan(const std::vector<Seen>& spans, int64_t pid) {
  std::vector<Seen> found;
  for (const Seen& s : spans) {
    if (IsProcessSpan(s.span) && AttrMap(s.span.attributes())["process.pid"].int_value() == pid) {
      found.push_back(s);
    }
  }
  EXPECT_EQ(found.size(), 1u) << "process spans of pid " << pid;
  return found.empty() ? Seen{} : found[0];
}

std::vector<Seen> SyscallSpans(const std::vector<Seen>& spans) {
  std::vector<Seen> out;
  for (const Seen& s : spans) {
    if (!IsProcessSpan(s.span)) out.push_back(s);
  }
  return out;
}

SpanBuilderOptions TestOptions() {
  SpanBuilderOptions o;
  o.host_name = "node-a";
  o.clock = common::ClockOffset::FromOffset(kOffset);
  o.read_proc = false;  // synthetic pids
  return o;
}

SyscallEvent Syscall(uint32_t tgid, int nr, int64_t ret, uint64_t start_ns,
                     uint64_t duration_ns = 1000) {
  SyscallEvent e;
  e.tgid = tgid;
  e.tid = tgid;
  e.nr = nr;
  e.ret = ret;
  e.start_ns = start_ns;
  e.duration_ns = duration_ns;
  return e;
}

ProcessEvent Fork(uint32_t parent, uint32_t child, uint64_t ts) {
  ProcessEvent e;
  e.kind = ProcessEvent::Kind::kFork;
  e.tgid = child;
  e.parent_tgid = parent;
  e.ts_ns = ts;
  return e;
}

ProcessEvent Exec(uint32_t tgid, std::string filename, uint64_t ts) {
  ProcessEvent e;
  e.kind = ProcessEvent::Kind::kExec;
  e.tgid = tgid;
  e.filename = std::move(filename);
  e.ts_ns = ts;
  return e;
}

ProcessEvent Exit(uint32_t tgid, int32_t wait_status, uint64_t ts) {
  ProcessEvent e;
  e.kind = ProcessEvent::Kind::kExit;
  e.tgid = tgid;
  e.exit_code = wait_status;
  e.ts_ns = ts;
  return e;
}

TEST(SpanBuilderTest, ForkTreeLinksProcessAndSyscallSpans) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Exec(100, "/bin/sh", 1100));
  b.OnSyscall(Syscall(100, kRead, 5, 1200));
  b.OnProcess(Fork(100, 101, 1300));
  b.OnProcess(Fork(101, 102, 1400));  // a grandchild
  b.OnSyscall(Syscall(101, kRead, 0, 1500));
  b.OnSyscall(Syscall(102, kRead, 0, 1600));
  b.OnProcess(Exit(102, 0, 1700));
  b.OnProcess(Exit(101, 0, 1800));
  b.OnProcess(Exit(100, 0, 1900));
  b.Finish(2000);

  auto spans = AllSpans(sink);
  ASSERT_EQ(spans.size(), 6u);
  std::set<std::string> ids;
  for (const Seen& s : spans) {
    EXPECT_EQ(s.span.trace_id(), Bytes(b.trace_id()));
    EXPECT_EQ(s.span.span_id().size(), 8u);
    EXPECT_EQ(s.span.kind(), Span::SPAN_KIND_INTERNAL);
    EXPECT_EQ(s.span.flags(), kTraceFlagSampled);
    ids.insert(s.span.span_id());
  }
  EXPECT_EQ(ids.size(), spans.size()) << "span ids must be unique";

  Seen root = ProcessSpan(spans, 100), child = ProcessSpan(spans, 101),
       grandchild = ProcessSpan(spans, 102);
  EXPECT_EQ(root.span.parent_span_id(), "");  // no parent context: a root span
  EXPECT_EQ(root.span.name(), "sh");
  EXPECT_EQ(child.span.parent_span_id(), root.span.span_id());
  EXPECT_EQ(grandchild.span.parent_span_id(), child.span.span_id());
  EXPECT_EQ(root.span.span_id(), Bytes(*b.ProcessSpanId(100)));
  EXPECT_EQ(child.span.span_id(), Bytes(*b.ProcessSpanId(101)));
  EXPECT_FALSE(b.ProcessSpanId(999).has_value());

  for (const Seen& s : SyscallSpans(spans)) {
    const int64_t tid = AttrMap(s.span.attributes())["thread.id"].int_value();
    EXPECT_EQ(s.span.parent_span_id(), Bytes(*b.ProcessSpanId(static_cast<uint32_t>(tid))));
    EXPECT_EQ(s.resource.at("process.pid").int_value(), tid);
  }
  EXPECT_EQ(b.counters().process_spans, 3u);
  EXPECT_EQ(b.counters().syscall_spans, 3u);
  EXPECT_EQ(b.counters().processes_discovered_late, 0u);
}

TEST(SpanBuilderTest, ParentContextMakesRootProcessItsChild) {
  auto parent = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                                 "rojo=00f067aa0ba902b7");
  ASSERT_TRUE(parent.ok());
  SpanBuilderOptions o = TestOptions();
  o.parent = *parent;
  CollectingSink sink;
  SpanBuilder b(o, &sink);
  EXPECT_EQ(b.trace_id(), parent->trace_id);
  b.AddRootProcess(100, 1000);
  b.OnSyscall(Syscall(100, kRead, 1, 1100));
  b.Finish(2000);
  auto spans = AllSpans(sink);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(ProcessSpan(spans, 100).span.parent_span_id(), Bytes(parent->parent_span_id));
  for (const Seen& s : spans) {
    EXPECT_EQ(s.span.trace_id(), Bytes(parent->trace_id));
    EXPECT_EQ(s.span.trace_state(), "rojo=00f067aa0ba902b7");
    EXPECT_EQ(s.span.flags(), kTraceFlagSampled);
  }
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_TRUE(sink.batches[0]->sampled);
}

TEST(SpanBuilderTest, UnsampledParentStillBuildsSpansMarkedUnsampled) {
  auto parent = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(parent.ok());
  SpanBuilderOptions o = TestOptions();
  o.parent = *parent;
  CollectingSink sink;
  SpanBuilder b(o, &sink);
  b.AddRootProcess(100, 1000);
  b.OnSyscall(Syscall(100, kRead, 1, 1100));
  b.Finish(2000);
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_FALSE(sink.batches[0]->sampled);
  EXPECT_EQ(sink.batches[0]->span_count(), 2u);
  for (const Seen& s : AllSpans(sink)) EXPECT_EQ(s.span.flags(), 0u);
}

TEST(SpanBuilderTest, ResourceAttributesFollowSemanticConventions) {
  SpanBuilderOptions o = TestOptions();
  o.resource_attributes = {{"tracer.session.id", "s-42"}, {"host.name", "override-host"}};
  CollectingSink sink;
  SpanBuilder b(o, &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Fork(100, 101, 1100));
  b.OnProcess(Exec(101, "/usr/bin/cat", 1200));
  SyscallEvent exec = Syscall(101, kExecve, 0, 1150, 60);
  const char argv[] = "cat\0/etc/hostname\0";
  exec.blobs.push_back(Blob{1, BlobKind::kArgv, false, std::string_view(argv, sizeof argv - 1)});
  b.OnSyscall(exec);
  b.OnProcess(Exit(101, 0, 1300));
  b.Finish(2000);

  Seen cat = ProcessSpan(AllSpans(sink), 101);
  EXPECT_EQ(cat.span.name(), "cat");
  const auto& r = cat.resource;
  EXPECT_EQ(r.at("service.name").string_value(), "cat");
  EXPECT_EQ(r.at("host.name").string_value(), "override-host");
  EXPECT_EQ(r.at("os.type").string_value(), "linux");
  EXPECT_EQ(r.at("process.pid").int_value(), 101);
  EXPECT_EQ(r.at("process.parent_pid").int_value(), 100);
  EXPECT_EQ(r.at("process.executable.path").string_value(), "/usr/bin/cat");
  EXPECT_EQ(r.at("process.executable.name").string_value(), "cat");
  EXPECT_EQ(r.at("process.command_line").string_value(), "cat /etc/hostname");
  EXPECT_EQ(r.at("telemetry.sdk.name").string_value(), "tracer");
  EXPECT_EQ(r.at("telemetry.sdk.language").string_value(), "cpp");
  EXPECT_EQ(r.at("telemetry.sdk.version").string_value(), kScopeVersion);
  EXPECT_EQ(r.at("tracer.session.id").string_value(), "s-42");

  // One ResourceSpans per process, each with the one scope.
  ASSERT_EQ(sink.batches.size(), 1u);
  const auto& req = sink.batches[0]->request();
  ASSERT_EQ(req.resource_spans_size(), 2);
  for (const auto& rs : req.resource_spans()) {
    ASSERT_EQ(rs.scope_spans_size(), 1);
    EXPECT_EQ(rs.scope_spans(0).scope().name(), "tracer.syscalls");
    EXPECT_EQ(rs.scope_spans(0).scope().version(), kScopeVersion);
  }
}

TEST(SpanBuilderTest, ServiceNameOverrideAppliesToEveryProcess) {
  SpanBuilderOptions o = TestOptions();
  o.service_name = "checkout";
  CollectingSink sink;
  SpanBuilder b(o, &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Exec(100, "/bin/sh", 1100));
  b.OnProcess(Fork(100, 101, 1200));
  b.OnProcess(Exec(101, "/bin/ls", 1300));
  b.Finish(2000);
  auto spans = AllSpans(sink);
  EXPECT_EQ(ProcessSpan(spans, 100).resource.at("service.name").string_value(), "checkout");
  EXPECT_EQ(ProcessSpan(spans, 101).resource.at("service.name").string_value(), "checkout");
  EXPECT_EQ(ProcessSpan(spans, 101).span.name(), "ls");
}

TEST(SpanBuilderTest, CommandLineFallsBackToExecFilename) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Exec(100, "/usr/bin/true", 1100));
  b.Finish(2000);
  EXPECT_EQ(ProcessSpan(AllSpans(sink), 100).resource.at("process.command_line").string_value(),
            "/usr/bin/true");
}

TEST(SpanBuilderTest, RootProcessDescribedFromProc) {
  SpanBuilderOptions o = TestOptions();
  o.read_proc = true;
  CollectingSink sink;
  SpanBuilder b(o, &sink);
  const uint32_t self = static_cast<uint32_t>(getpid());
  b.AddRootProcess(self, 1000);
  b.Finish(2000);
  auto r = ProcessSpan(AllSpans(sink), self).resource;
  char exe[4096] = {};
  ASSERT_GT(readlink("/proc/self/exe", exe, sizeof exe - 1), 0);
  EXPECT_EQ(r.at("process.executable.path").string_value(), exe);
  EXPECT_EQ(r.at("process.executable.name").string_value(), "span_builder_test");
  EXPECT_EQ(r.at("service.name").string_value(), "span_builder_test");
  EXPECT_EQ(r.at("process.parent_pid").int_value(), getppid());
  EXPECT_THAT(r.at("process.command_line").string_value(), HasSubstr("span_builder_test"));
}

TEST(SpanBuilderTest, FailedSyscallGetsErrorStatusWithErrnoName) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  SyscallEvent bad = Syscall(100, kOpenat, -2, 1100);
  const char path[] = "/nonexistent";
  bad.args[0] = static_cast<uint64_t>(-100);  // AT_FDCWD
  bad.blobs.push_back(Blob{1, BlobKind::kString, false, std::string_view(path, sizeof path - 1)});
  b.OnSyscall(bad);
  b.OnSyscall(Syscall(100, kOpenat, 3, 1200));
  b.OnSyscall(Syscall(100, kOpenat, -13, 1300));
  b.Finish(2000);
  auto sys = SyscallSpans(AllSpans(sink));
  ASSERT_EQ(sys.size(), 3u);
  EXPECT_EQ(sys[0].span.name(), "openat");
  EXPECT_EQ(sys[0].span.status().code(), Status::STATUS_CODE_ERROR);
  EXPECT_EQ(sys[0].span.status().message(), "ENOENT");
  auto a = AttrMap(sys[0].span.attributes());
  EXPECT_EQ(a["syscall.name"].string_value(), "openat");
  EXPECT_EQ(a["syscall.number"].int_value(), kOpenat);
  EXPECT_EQ(a["syscall.args"].string_value(), strace::FormatArgs(bad));
  EXPECT_THAT(a["syscall.args"].string_value(), HasSubstr("/nonexistent"));
  EXPECT_EQ(a["syscall.result"].string_value(), strace::FormatResult(bad));
  EXPECT_EQ(sys[1].span.status().code(), Status::STATUS_CODE_UNSET);
  EXPECT_EQ(sys[1].span.status().message(), "");
  EXPECT_EQ(sys[2].span.status().message(), "EACCES");
}

TEST(SpanBuilderTest, TimestampsConvertedToUnixNanoseconds) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 5'000'000);
  b.OnSyscall(Syscall(100, kRead, 10, 7'000'000, 2'500));
  SyscallEvent exit = Syscall(100, kExitGroup, 0, 8'000'000, 0);
  exit.no_return = true;
  b.OnSyscall(exit);
  b.OnProcess(Exit(100, 0, 9'000'000));
  auto spans = AllSpans(sink);
  EXPECT_TRUE(spans.empty()) << "nothing flushed before the batch is full";
  b.Flush();
  spans = AllSpans(sink);
  auto sys = SyscallSpans(spans);
  ASSERT_EQ(sys.size(), 2u);
  EXPECT_EQ(sys[0].span.start_time_unix_nano(), kOffset + 7'000'000);
  EXPECT_EQ(sys[0].span.end_time_unix_nano(), kOffset + 7'002'500);
  EXPECT_DOUBLE_EQ(AttrMap(sys[0].span.attributes())["syscall.duration_us"].double_value(), 2.5);
  EXPECT_EQ(sys[1].span.name(), "exit_group");
  EXPECT_EQ(sys[1].span.start_time_unix_nano(), kOffset + 8'000'000);
  EXPECT_EQ(sys[1].span.end_time_unix_nano(), sys[1].span.start_time_unix_nano());
  EXPECT_EQ(sys[1].span.status().code(), Status::STATUS_CODE_UNSET);
  Seen p = ProcessSpan(spans, 100);
  EXPECT_EQ(p.span.start_time_unix_nano(), kOffset + 5'000'000);
  EXPECT_EQ(p.span.end_time_unix_nano(), kOffset + 9'000'000);
}

TEST(SpanBuilderTest, BatchesAreHandedOverAtMaxSize) {
  SpanBuilderOptions o = TestOptions();
  o.max_batch_spans = 10;
  CollectingSink sink;
  SpanBuilder b(o, &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Fork(100, 101, 1050));
  for (int i = 0; i < 25; ++i) b.OnSyscall(Syscall(i % 2 ? 100 : 101, kRead, 1, 1100 + i));
  ASSERT_EQ(sink.batches.size(), 2u);
  b.Flush();
  ASSERT_EQ(sink.batches.size(), 3u);
  b.Flush();  // empty: nothing handed over
  ASSERT_EQ(sink.batches.size(), 3u);
  b.Finish(5000);  // two open process spans
  ASSERT_EQ(sink.batches.size(), 4u);
  const size_t expected[] = {10, 10, 5, 2};
  for (size_t i = 0; i < 4; ++i) {
    size_t counted = 0;
    for (const auto& rs : sink.batches[i]->request().resource_spans()) {
      for (const auto& ss : rs.scope_spans()) counted += ss.spans_size();
    }
    EXPECT_EQ(sink.batches[i]->span_count(), expected[i]) << i;
    EXPECT_EQ(counted, expected[i]) << i;
    // Each batch names its processes' resources.
    for (const auto& rs : sink.batches[i]->request().resource_spans()) {
      EXPECT_TRUE(AttrMap(rs.resource().attributes()).count("process.pid"));
    }
  }
  EXPECT_EQ(sink.batches[0]->request().resource_spans_size(), 2);
  EXPECT_EQ(b.counters().batches, 4u);
}

TEST(SpanBuilderTest, EachBatchCarriesTheProcessCurrentResource) {
  SpanBuilderOptions o = TestOptions();
  o.max_batch_spans = 2;
  CollectingSink sink;
  SpanBuilder b(o, &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Exec(100, "/bin/sh", 1010));
  b.OnSyscall(Syscall(100, kRead, 1, 1100));
  b.OnSyscall(Syscall(100, kRead, 1, 1200));  // batch 1 full: sh
  b.OnProcess(Exec(100, "/bin/cat", 1300));
  b.OnSyscall(Syscall(100, kRead, 1, 1400));
  b.OnSyscall(Syscall(100, kRead, 1, 1500));  // batch 2 full: cat
  ASSERT_EQ(sink.batches.size(), 2u);
  auto service = [](const SpanBatch& batch) {
    return AttrMap(batch.request().resource_spans(0).resource().attributes())
        .at("service.name")
        .string_value();
  };
  EXPECT_EQ(service(*sink.batches[0]), "sh");
  EXPECT_EQ(service(*sink.batches[1]), "cat");
}

TEST(SpanBuilderTest, ProcessSpanEndsAtExitWithExitCode) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Fork(100, 101, 1100));
  b.OnProcess(Exit(101, 3 << 8, 1500));  // exit(3)
  b.OnProcess(Exit(100, 0, 1600));
  b.Finish(9000);
  auto spans = AllSpans(sink);
  Seen failed = ProcessSpan(spans, 101), ok = ProcessSpan(spans, 100);
  EXPECT_EQ(AttrMap(failed.span.attributes())["process.exit.code"].int_value(), 3);
  EXPECT_EQ(failed.span.status().code(), Status::STATUS_CODE_ERROR);
  EXPECT_EQ(failed.span.status().message(), "exit code 3");
  EXPECT_EQ(failed.span.end_time_unix_nano(), kOffset + 1500);
  EXPECT_EQ(AttrMap(ok.span.attributes())["process.exit.code"].int_value(), 0);
  EXPECT_EQ(ok.span.status().code(), Status::STATUS_CODE_UNSET);
  EXPECT_EQ(ok.span.end_time_unix_nano(), kOffset + 1600);
}

TEST(SpanBuilderTest, DeathBySignalIsErrorWithSignalName) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Fork(100, 101, 1100));
  b.OnProcess(Exit(101, SIGKILL, 1500));
  b.OnProcess(Exit(100, SIGSEGV | 0x80, 1600));  // core dumped
  b.Finish(9000);
  auto spans = AllSpans(sink);
  Seen killed = ProcessSpan(spans, 101), segv = ProcessSpan(spans, 100);
  EXPECT_EQ(AttrMap(killed.span.attributes())["process.exit.code"].int_value(), 137);
  EXPECT_EQ(killed.span.status().code(), Status::STATUS_CODE_ERROR);
  EXPECT_EQ(killed.span.status().message(), "SIGKILL");
  EXPECT_EQ(AttrMap(segv.span.attributes())["process.exit.code"].int_value(), 139);
  EXPECT_EQ(segv.span.status().message(), "SIGSEGV");
}

TEST(SpanBuilderTest, FinishEndsOpenProcessesWithoutExitCode) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  b.Finish(4242);
  Seen p = ProcessSpan(AllSpans(sink), 100);
  EXPECT_EQ(p.span.end_time_unix_nano(), kOffset + 4242);
  EXPECT_FALSE(AttrMap(p.span.attributes()).count("process.exit.code"));
  EXPECT_EQ(p.span.status().code(), Status::STATUS_CODE_UNSET);
}

TEST(SpanBuilderTest, UnknownProcessIsDiscoveredFromItsFirstSyscall) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.OnSyscall(Syscall(555, kRead, 1, 3000));
  b.Finish(4000);
  auto spans = AllSpans(sink);
  Seen p = ProcessSpan(spans, 555);
  EXPECT_EQ(p.span.start_time_unix_nano(), kOffset + 3000);
  EXPECT_EQ(SyscallSpans(spans)[0].span.parent_span_id(), p.span.span_id());
  EXPECT_EQ(b.counters().processes_discovered_late, 1u);
}

TEST(SpanBuilderTest, SyscallAfterExitRecordStaysWithItsProcess) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Exit(100, 0, 2000));
  b.OnSyscall(Syscall(100, kRead, 1, 1900));  // delivered late from another CPU
  b.Finish(3000);
  auto spans = AllSpans(sink);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(SyscallSpans(spans)[0].span.parent_span_id(), ProcessSpan(spans, 100).span.span_id());
  EXPECT_EQ(b.counters().processes_discovered_late, 0u);
}

TEST(SpanBuilderTest, PidReuseStartsANewProcessSpan) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Fork(100, 101, 1100));
  b.OnProcess(Exit(101, 0, 1200));
  b.OnProcess(Fork(100, 101, 1300));  // same pid, new process
  b.OnProcess(Exec(101, "/bin/ls", 1350));
  b.OnProcess(Exit(101, 0, 1400));
  b.Finish(2000);
  auto spans = AllSpans(sink);
  std::set<std::string> ids;
  int count = 0;
  for (const Seen& s : spans) {
    if (IsProcessSpan(s.span) && AttrMap(s.span.attributes())["process.pid"].int_value() == 101) {
      ++count;
      ids.insert(s.span.span_id());
    }
  }
  EXPECT_EQ(count, 2);
  EXPECT_EQ(ids.size(), 2u);
}

TEST(SpanBuilderTest, NullSinkDropsBatches) {
  SpanBuilder b(TestOptions(), nullptr);
  b.AddRootProcess(100, 1000);
  b.OnSyscall(Syscall(100, kRead, 1, 1100));
  b.Finish(2000);
  EXPECT_EQ(b.counters().batches, 1u);
  EXPECT_EQ(b.counters().syscall_spans, 1u);
}

TEST(SpanBuilderTest, NewTraceIdPerBuilderWithoutParent) {
  SpanBuilder a(TestOptions(), nullptr), b(TestOptions(), nullptr);
  EXPECT_FALSE(IsZero(a.trace_id()));
  EXPECT_NE(a.trace_id(), b.trace_id());
}

// Real wait statuses from real children.
int WaitStatusOf(void (*child)()) {
  pid_t pid = fork();
  if (pid == 0) {
    child();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

Span ExternalSpan(const SpanBuilder& b, const std::string& name, uint32_t flags,
                  uint64_t start_mono) {
  Span s;
  s.set_name(name);
  s.set_kind(Span::SPAN_KIND_SERVER);
  s.set_trace_id(Bytes(b.trace_id()));
  s.set_span_id(std::string("\x01\x02\x03\x04\x05\x06\x07") + name.substr(0, 1));
  s.set_flags(flags);
  s.set_start_time_unix_nano(static_cast<uint64_t>(kOffset) + start_mono);
  s.set_end_time_unix_nano(static_cast<uint64_t>(kOffset) + start_mono + 500);
  return s;
}

TEST(SpanBuilderTest, AddedSpanLandsInItsProcessResourceAndBatch) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Exec(100, "/usr/sbin/nginx", 1100));
  b.OnSyscall(Syscall(100, kRead, 5, 1200));
  b.AddSpan(100, ExternalSpan(b, "GET", kTraceFlagSampled, 1300));
  b.AddSpan(200, ExternalSpan(b, "POST", kTraceFlagSampled, 1400));  // unknown: discovered
  b.Finish(2000);

  auto spans = AllSpans(sink);
  std::vector<Seen> added;
  for (const Seen& s : spans) {
    if (s.span.kind() == Span::SPAN_KIND_SERVER) added.push_back(s);
  }
  ASSERT_EQ(added.size(), 2u);
  EXPECT_EQ(added[0].span.name(), "GET");
  EXPECT_EQ(added[0].resource.at("process.pid").int_value(), 100);
  EXPECT_EQ(added[0].resource.at("service.name").string_value(), "nginx");
  EXPECT_EQ(added[0].span.start_time_unix_nano(), static_cast<uint64_t>(kOffset) + 1300);
  EXPECT_EQ(added[1].span.name(), "POST");
  EXPECT_EQ(added[1].resource.at("process.pid").int_value(), 200);
  // The discovered process's span starts at the added span's start.
  Seen discovered = ProcessSpan(spans, 200);
  EXPECT_EQ(discovered.span.start_time_unix_nano(), static_cast<uint64_t>(kOffset) + 1400);
  EXPECT_EQ(b.counters().added_spans, 2u);
  EXPECT_EQ(b.counters().processes_discovered_late, 1u);
  // Both the syscall/process spans of pid 100 and its added span share one
  // ResourceSpans in the single batch.
  ASSERT_EQ(sink.batches.size(), 1u);
  int pid100_resources = 0;
  for (const auto& rs : sink.batches[0]->request().resource_spans()) {
    if (AttrMap(rs.resource().attributes())["process.pid"].int_value() == 100) ++pid100_resources;
  }
  EXPECT_EQ(pid100_resources, 1);
  EXPECT_EQ(sink.batches[0]->span_count(), spans.size());
}

TEST(SpanBuilderTest, AddedSpansCountTowardsBatchSize) {
  SpanBuilderOptions o = TestOptions();
  o.max_batch_spans = 2;
  CollectingSink sink;
  SpanBuilder b(o, &sink);
  b.AddRootProcess(100, 1000);
  b.AddSpan(100, ExternalSpan(b, "A", kTraceFlagSampled, 1100));
  EXPECT_TRUE(sink.batches.empty());
  b.AddSpan(100, ExternalSpan(b, "B", kTraceFlagSampled, 1200));
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_EQ(sink.batches[0]->span_count(), 2u);
}

TEST(SpanBuilderTest, SpansOnAnyArenaOrTheHeapJoinTheBatch) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  google::protobuf::Arena* arena = b.span_arena();
  Span* built = google::protobuf::Arena::CreateMessage<Span>(arena);
  *built = ExternalSpan(b, "GET", kTraceFlagSampled, 1100);
  const std::string want_get = built->SerializeAsString();
  b.AddSpan(100, built);
  // A sampled-off span on the arena is dropped and left to the arena.
  Span* unsampled = google::protobuf::Arena::CreateMessage<Span>(b.span_arena());
  *unsampled = ExternalSpan(b, "HEAD", /*flags=*/0, 1150);
  b.AddSpan(100, unsampled);
  // A heap span is taken over (and deleted), one on another arena left there.
  Span* heap = new Span(ExternalSpan(b, "PUT", kTraceFlagSampled, 1200));
  const std::string want_put = heap->SerializeAsString();
  b.AddSpan(100, heap);
  google::protobuf::Arena other;
  Span* foreign = google::protobuf::Arena::CreateMessage<Span>(&other);
  *foreign = ExternalSpan(b, "POST", kTraceFlagSampled, 1300);
  b.AddSpan(100, foreign);
  EXPECT_EQ(foreign->name(), "POST") << "left on its arena";
  b.Flush();
  ASSERT_EQ(sink.batches.size(), 1u);
  const SpanBatch& batch = *sink.batches[0];
  std::vector<const Span*> server;
  for (const auto& rs : batch.request().resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      for (const Span& s : ss.spans()) {
        if (s.kind() == Span::SPAN_KIND_SERVER) server.push_back(&s);
      }
    }
  }
  ASSERT_EQ(server.size(), 3u);
  // Every field survives the conversion into the batch's records.
  EXPECT_EQ(server[0]->SerializeAsString(), want_get);
  EXPECT_EQ(server[1]->SerializeAsString(), want_put);
  EXPECT_EQ(server[2]->name(), "POST");
  EXPECT_EQ(b.counters().added_spans, 3u);
  EXPECT_EQ(b.counters().added_spans_unsampled, 1u);
}

TEST(SpanBuilderTest, UnsampledAddedSpanIsDroppedFromSampledBatches) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  b.AddSpan(100, ExternalSpan(b, "GET", /*flags=*/0, 1100));
  b.Finish(2000);
  for (const Seen& s : AllSpans(sink)) EXPECT_NE(s.span.kind(), Span::SPAN_KIND_SERVER);
  EXPECT_EQ(b.counters().added_spans, 0u);
  EXPECT_EQ(b.counters().added_spans_unsampled, 1u);
}

TEST(SpanBuilderTest, UnsampledBuilderKeepsUnsampledAddedSpans) {
  auto parent = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(parent.ok());
  SpanBuilderOptions o = TestOptions();
  o.parent = *parent;
  CollectingSink sink;
  SpanBuilder b(o, &sink);
  b.AddRootProcess(100, 1000);
  b.AddSpan(100, ExternalSpan(b, "GET", /*flags=*/0, 1100));
  b.Finish(2000);
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_FALSE(sink.batches[0]->sampled);
  EXPECT_EQ(b.counters().added_spans, 1u);
  EXPECT_EQ(sink.batches[0]->span_count(), 2u);
}

// Every attribute type HTTP spans use (header values are string arrays),
// an event, a status, a trace state and a parent survive the conversion; a
// value records cannot hold is left out and counted.
TEST(SpanBuilderTest, AddedMessageSpanKeepsEveryFieldItCanHold) {
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  Span in = ExternalSpan(b, "GET", kTraceFlagSampled, 1100);
  in.set_parent_span_id("\x09\x08\x07\x06\x05\x04\x03\x02");
  in.set_trace_state("vendor=1,other=\"x\"");
  auto add = [&in](const std::string& key) {
    KeyValue* kv = in.add_attributes();
    kv->set_key(key);
    return kv->mutable_value();
  };
  add("s")->set_string_value("text \xff not UTF-8 \"quoted\"\n");
  add("i")->set_int_value(-42);
  add("d")->set_double_value(0.25);
  add("b")->set_bool_value(true);
  add("x")->set_bytes_value(std::string("\0\x01\xff", 3));
  auto* headers = add("http.request.header.accept")->mutable_array_value();
  headers->add_values()->set_string_value("text/html");
  headers->add_values()->set_string_value("");
  add("http.response.header.empty")->mutable_array_value();
  add("kv")->mutable_kvlist_value();  // not a record value: left out
  Span::Event* ev = in.add_events();
  ev->set_name("exception");
  ev->set_time_unix_nano(static_cast<uint64_t>(kOffset) + 1150);
  KeyValue* ek = ev->add_attributes();
  ek->set_key("exception.message");
  ek->mutable_value()->set_string_value("boom");
  in.mutable_status()->set_code(Status::STATUS_CODE_ERROR);
  in.mutable_status()->set_message("500 Internal Server Error");

  Span want = in;
  want.mutable_attributes()->RemoveLast();
  want.set_dropped_attributes_count(1);
  b.AddSpan(100, in);
  b.Flush();
  ASSERT_EQ(sink.batches.size(), 1u);
  const Span& got = sink.batches[0]->request().resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(got.SerializeAsString(), want.SerializeAsString()) << got.DebugString();
}

// A record's strings and arrays are copied: the caller's may go away.
TEST(SpanBuilderTest, AddedRecordIsCopiedIntoTheBatch) {
  namespace wire = otlp::wire;
  CollectingSink sink;
  SpanBuilder b(TestOptions(), &sink);
  b.AddRootProcess(100, 1000);
  {
    std::string name = "POST";
    std::string key = "http.request.header.x-id";
    std::vector<std::string_view> values = {"a", "bb"};
    std::string path = "/items/7";
    std::vector<wire::Attribute> attrs = {wire::Attribute::String("url.path", path),
                                          wire::Attribute::StringArray(key, values)};
    wire::SpanRecord r;
    r.trace_id[0] = 1;
    r.span_id[0] = 2;
    r.flags = kTraceFlagSampled;
    r.name = name;
    r.kind = wire::SpanKind::kServer;
    r.start_time_unix_nano = static_cast<uint64_t>(kOffset) + 1200;
    r.end_time_unix_nano = static_cast<uint64_t>(kOffset) + 1300;
    r.attributes = attrs;
    b.AddSpan(100, r);
    name.assign(name.size(), '#');
    key.assign(key.size(), '#');
    values = {"zz", "zz"};
    path.assign(path.size(), '#');
    attrs.clear();
    r.flags = 0;  // unsampled: refused by a sampled builder
    b.AddSpan(100, r);
  }
  b.Flush();
  ASSERT_EQ(sink.batches.size(), 1u);
  EXPECT_EQ(sink.batches[0]->span_count(), 1u);
  const Span& got = sink.batches[0]->request().resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(got.name(), "POST");
  EXPECT_EQ(got.kind(), Span::SPAN_KIND_SERVER);
  ASSERT_EQ(got.attributes_size(), 2);
  EXPECT_EQ(got.attributes(0).value().string_value(), "/items/7");
  EXPECT_EQ(got.attributes(1).key(), "http.request.header.x-id");
  ASSERT_EQ(got.attributes(1).value().array_value().values_size(), 2);
  EXPECT_EQ(got.attributes(1).value().array_value().values(1).string_value(), "bb");
  EXPECT_EQ(b.counters().added_spans, 1u);
  EXPECT_EQ(b.counters().added_spans_unsampled, 1u);
}

// The batch's wire forms are the encodings of its message form: protobuf
// bytes equal the message's serialization, JSON equals otlp_json's, for a
// batch of several processes (spans interleaved) with every span kind.
TEST(SpanBuilderTest, EncodedFormsEqualTheMessageForm) {
  CollectingSink sink;
  SpanBuilderOptions o = TestOptions();
  o.resource_attributes = {{"tracer.session.id", "s-1"}, {"host.name", "replaced"}};
  SpanBuilder b(o, &sink);
  b.AddRootProcess(100, 1000);
  b.OnProcess(Exec(100, "/bin/sh", 1010));
  b.OnSyscall(Syscall(100, kRead, 5, 1100));
  b.OnProcess(Fork(100, 101, 1200));
  b.OnSyscall(Syscall(101, kOpenat, -2, 1300));
  b.OnSyscall(Syscall(100, kRead, 0, 1400));
  b.AddSpan(101, ExternalSpan(b, "GET", kTraceFlagSampled, 1450));
  b.OnProcess(Exit(101, 9, 1500));  // SIGKILL
  b.OnSyscall(Syscall(100, kExitGroup, 0, 1600));
  b.Finish(2000);
  ASSERT_EQ(sink.batches.size(), 1u);
  const SpanBatch& batch = *sink.batches[0];
  EXPECT_EQ(batch.request().resource_spans_size(), 2);
  EXPECT_EQ(batch.span_count(), 7u);
  std::string want;
  ASSERT_TRUE(batch.request().SerializeToString(&want));
  EXPECT_EQ(batch.protobuf(), want);
  std::string want_json, got_json;
  otlp::AppendOtlpJson(batch.request(), &want_json);
  batch.AppendJson(&got_json);
  EXPECT_EQ(got_json, want_json);
  // Spans stay grouped by process, in the order each was added.
  const auto& first = batch.request().resource_spans(0).scope_spans(0).spans();
  ASSERT_EQ(first.size(), 4);
  EXPECT_EQ(first[0].name(), "read");
  EXPECT_EQ(first[1].name(), "read");
  EXPECT_EQ(first[2].name(), "exit_group");
  EXPECT_EQ(first[3].name(), "sh");
}

TEST(ExitCodeFromWaitStatusTest, NormalExit) {
  std::string sig = "stale";
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitStatusOf([] { _exit(7); }), &sig), 7);
  EXPECT_EQ(sig, "");
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitStatusOf([] { _exit(0); }), nullptr), 0);
}

TEST(ExitCodeFromWaitStatusTest, KilledBySignalUsesShellConvention) {
  std::string sig;
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitStatusOf([] { raise(SIGKILL); }), &sig), 137);
  EXPECT_EQ(sig, "SIGKILL");
  EXPECT_EQ(ExitCodeFromWaitStatus(WaitStatusOf([] { raise(SIGTERM); }), &sig), 143);
  EXPECT_EQ(sig, "SIGTERM");
}

}  // namespace
}  // namespace tracer::spans
