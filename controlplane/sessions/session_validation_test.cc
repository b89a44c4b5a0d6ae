#include "controlplane/sessions/session_validation.h"

#include <cmath>
#include <functional>
#include <string>

#include "gtest/gtest.h"

namespace tracer::controlplane {
namespace {

v1::Session ValidSession() {
  v1::Session s;
  s.set_name("web");
  s.mutable_nodes()->set_all(true);
  s.mutable_target()->set_comm("nginx");
  s.mutable_capture()->add_syscall_classes("file");
  s.mutable_capture()->add_syscalls("openat");
  s.mutable_sampling()->set_sampler(v1::Sampling::TRACE_ID_RATIO);
  s.mutable_sampling()->set_ratio(0.25);
  s.mutable_limits()->set_duration_seconds(600);
  return s;
}

TEST(SessionValidationTest, AcceptsValidSessions) {
  EXPECT_TRUE(ValidateSession(ValidSession()).ok());
  v1::Session s = ValidSession();
  s.mutable_nodes()->Clear();
  (*s.mutable_nodes()->mutable_labels())["zone"] = "a";
  s.mutable_target()->set_cgroup_path("/system.slice/nginx.service");
  s.mutable_capture()->add_syscall_classes("%network");
  EXPECT_TRUE(ValidateSession(s).ok()) << ValidateSession(s);
  s.mutable_target()->set_pid(1);
  s.mutable_sampling()->set_ratio(1.0);
  EXPECT_TRUE(ValidateSession(s).ok());
}

struct Case {
  const char* name;
  std::function<void(v1::Session*)> mutate;
  const char* message_prefix;
};

class RejectionTest : public ::testing::TestWithParam<Case> {};

TEST_P(RejectionTest, NamesTheField) {
  v1::Session s = ValidSession();
  GetParam().mutate(&s);
  absl::Status status = ValidateSession(s);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(std::string(status.message()).rfind(GetParam().message_prefix, 0), 0u)
      << status.message();
}

INSTANTIATE_TEST_SUITE_P(
    Fields, RejectionTest,
    ::testing::Values(
        Case{"LongComm", [](v1::Session* s) { s->mutable_target()->set_comm("0123456789abcdef"); },
             "session.target.comm: longer than 15 bytes"},
        Case{"CommWithSlash", [](v1::Session* s) { s->mutable_target()->set_comm("/bin/sh"); },
             "session.target.comm:"},
        Case{"NoTarget", [](v1::Session* s) { s->clear_target(); }, "session.target:"},
        Case{"EmptyTargetKind", [](v1::Session* s) { s->mutable_target()->clear_kind(); },
             "session.target: exactly one"},
        Case{"ZeroPid", [](v1::Session* s) { s->mutable_target()->set_pid(0); },
             "session.target.pid:"},
        Case{"RelativeCgroup", [](v1::Session* s) { s->mutable_target()->set_cgroup_path("a/b"); },
             "session.target.cgroup_path: must be absolute"},
        Case{"DotDotCgroup",
             [](v1::Session* s) { s->mutable_target()->set_cgroup_path("/a/../b"); },
             "session.target.cgroup_path:"},
        Case{"AllProcessesFalse",
             [](v1::Session* s) { s->mutable_target()->set_all_processes(false); },
             "session.target.all_processes:"},
        Case{"LongName", [](v1::Session* s) { s->set_name(std::string(129, 'x')); },
             "session.name: longer than 128 bytes"},
        Case{"NoSelector", [](v1::Session* s) { s->clear_nodes(); }, "session.nodes:"},
        Case{"TwoSelectors", [](v1::Session* s) { s->mutable_nodes()->add_names("n1"); },
             "session.nodes: exactly one"},
        Case{"EmptyName",
             [](v1::Session* s) {
               s->mutable_nodes()->set_all(false);
               s->mutable_nodes()->add_names("n1");
               s->mutable_nodes()->add_names("");
             },
             "session.nodes.names[1]: is empty"},
        Case{"TooManyNames",
             [](v1::Session* s) {
               s->mutable_nodes()->set_all(false);
               for (int i = 0; i < 257; ++i) s->mutable_nodes()->add_names("n");
             },
             "session.nodes.names: more than 256"},
        Case{"TooManyLabels",
             [](v1::Session* s) {
               s->mutable_nodes()->set_all(false);
               for (int i = 0; i < 33; ++i) {
                 (*s->mutable_nodes()->mutable_labels())[std::to_string(i)] = "v";
               }
             },
             "session.nodes.labels: more than 32"},
        Case{"UnknownClass",
             [](v1::Session* s) { s->mutable_capture()->add_syscall_classes("disk"); },
             "session.capture.syscall_classes[1]: unknown syscall class \"disk\""},
        Case{"UnknownSyscall",
             [](v1::Session* s) { s->mutable_capture()->add_syscalls("open_sesame"); },
             "session.capture.syscalls[1]: unknown syscall \"open_sesame\""},
        Case{"TooManySyscalls",
             [](v1::Session* s) {
               for (int i = 0; i < 512; ++i) s->mutable_capture()->add_syscalls("read");
             },
             "session.capture.syscalls: more than 512"},
        Case{"HugeMinDuration",
             [](v1::Session* s) {
               s->mutable_capture()->set_min_duration_us(kMaxMinDurationUs + 1);
             },
             "session.capture.min_duration_us:"},
        Case{"RatioAboveOne", [](v1::Session* s) { s->mutable_sampling()->set_ratio(1.5); },
             "session.sampling.ratio: must be in [0, 1]"},
        Case{"RatioNegative", [](v1::Session* s) { s->mutable_sampling()->set_ratio(-0.1); },
             "session.sampling.ratio:"},
        Case{"RatioNaN", [](v1::Session* s) { s->mutable_sampling()->set_ratio(std::nan("")); },
             "session.sampling.ratio:"},
        Case{"UnknownSampler",
             [](v1::Session* s) {
               s->mutable_sampling()->set_sampler(static_cast<v1::Sampling::Sampler>(42));
             },
             "session.sampling.sampler: unknown sampler 42"},
        Case{"LongDuration",
             [](v1::Session* s) {
               s->mutable_limits()->set_duration_seconds(kMaxSessionDurationSeconds + 1);
             },
             "session.limits.duration_seconds:"},
        Case{"HugeMaxSpans",
             [](v1::Session* s) { s->mutable_limits()->set_max_spans(kMaxSessionSpans + 1); },
             "session.limits.max_spans:"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace tracer::controlplane
