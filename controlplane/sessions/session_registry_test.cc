#include "controlplane/sessions/session_registry.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/time/time.h"
#include "controlplane/sessions/node_selector.h"
#include "gtest/gtest.h"
#include "storage/testing/temp_dir.h"

namespace tracer::controlplane {
namespace {

v1::Session AllNodes(const char* comm) {
  v1::Session s;
  s.mutable_nodes()->set_all(true);
  s.mutable_target()->set_comm(comm);
  return s;
}

v1::Hello MakeHello(const char* node, const char* host) {
  v1::Hello h;
  h.set_node_id(node);
  h.set_hostname(host);
  return h;
}

class SessionRegistryTest : public ::testing::Test {
 protected:
  std::unique_ptr<SessionRegistry> OpenRegistry() {
    SessionRegistryOptions options;
    options.state_path = dir_.path() + "/sessions";
    options.max_active_sessions = 3;
    options.now_unix_nanos = [this] { return now_.load(); };
    auto registry = SessionRegistry::Open(options);
    EXPECT_TRUE(registry.ok()) << registry.status();
    return registry.ok() ? std::move(*registry) : nullptr;
  }
  storage::testing::TempDir dir_;
  std::atomic<int64_t> now_{1'000'000'000'000};
};

TEST_F(SessionRegistryTest, StartAssignsIdStateTimeAndVersion) {
  auto registry = OpenRegistry();
  EXPECT_EQ(registry->version(), 0u);
  v1::Session request = AllNodes("curl");
  request.set_id("chosen-by-client");
  request.set_state(v1::Session::EXPIRED);
  auto a = registry->Start(request, "CN=alice");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_NE(a->id(), "chosen-by-client");
  EXPECT_EQ(a->id().size(), 18u);
  EXPECT_EQ(a->state(), v1::Session::ACTIVE);
  EXPECT_EQ(a->created_unix_nano(), static_cast<uint64_t>(now_.load()));
  EXPECT_EQ(a->created_by(), "CN=alice");
  EXPECT_EQ(a->version(), 1u);
  auto b = registry->Start(AllNodes("wget"), "");
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->id(), b->id());
  EXPECT_EQ(registry->version(), 2u);
  EXPECT_EQ(registry->List(false).size(), 2u);
}

TEST_F(SessionRegistryTest, InvalidOrRefusedStartChangesNothing) {
  auto registry = OpenRegistry();
  ASSERT_TRUE(registry->Start(AllNodes("a"), "").ok());
  const std::string path = dir_.path() + "/sessions";
  auto file_bytes = [&] {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string before = file_bytes();
  auto bad = registry->Start(AllNodes("a-very-long-command-name"), "");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registry->version(), 1u);
  EXPECT_EQ(registry->List(true).size(), 1u);
  EXPECT_EQ(file_bytes(), before);

  ASSERT_TRUE(registry->Start(AllNodes("b"), "").ok());
  ASSERT_TRUE(registry->Start(AllNodes("c"), "").ok());
  auto full = registry->Start(AllNodes("d"), "");
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(registry->version(), 3u);
  EXPECT_EQ(registry->List(true).size(), 3u);
}

TEST_F(SessionRegistryTest, StopBumpsVersionAndIsIdempotent) {
  auto registry = OpenRegistry();
  auto a = registry->Start(AllNodes("a"), "");
  ASSERT_TRUE(a.ok());
  now_ += 5;
  auto stopped = registry->Stop(a->id());
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->state(), v1::Session::STOPPED);
  EXPECT_EQ(stopped->stopped_unix_nano(), static_cast<uint64_t>(now_.load()));
  EXPECT_EQ(stopped->version(), 2u);
  EXPECT_EQ(registry->version(), 2u);
  auto again = registry->Stop(a->id());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(registry->version(), 2u);
  EXPECT_EQ(registry->Stop("s-nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(registry->Stop("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry->List(false).empty());
  EXPECT_EQ(registry->List(true).size(), 1u);
}

TEST_F(SessionRegistryTest, DurationLimitExpiresSession) {
  auto registry = OpenRegistry();
  v1::Session request = AllNodes("a");
  request.mutable_limits()->set_duration_seconds(10);
  auto a = registry->Start(request, "");
  auto forever = registry->Start(AllNodes("b"), "");
  ASSERT_TRUE(a.ok() && forever.ok());
  now_ += 9'999'999'999;
  EXPECT_EQ(*registry->ExpireDue(), 0);
  EXPECT_EQ(registry->version(), 2u);
  now_ += 1;
  EXPECT_EQ(*registry->ExpireDue(), 1);
  EXPECT_EQ(registry->version(), 3u);
  EXPECT_EQ(registry->Get(a->id())->state(), v1::Session::EXPIRED);
  EXPECT_EQ(registry->Get(forever->id())->state(), v1::Session::ACTIVE);
}

TEST_F(SessionRegistryTest, RestartKeepsSessionsAndVersion) {
  std::string active_id;
  {
    auto registry = OpenRegistry();
    active_id = registry->Start(AllNodes("a"), "")->id();
    auto b = registry->Start(AllNodes("b"), "");
    ASSERT_TRUE(registry->Stop(b->id()).ok());
  }
  auto registry = OpenRegistry();
  EXPECT_EQ(registry->version(), 3u);
  ASSERT_EQ(registry->List(false).size(), 1u);
  EXPECT_EQ(registry->List(false)[0].id(), active_id);
  EXPECT_EQ(registry->List(true).size(), 2u);
  EXPECT_EQ(registry->Start(AllNodes("c"), "")->version(), 4u);
}

TEST_F(SessionRegistryTest, CorruptStateFileIsDataLoss) {
  { std::ofstream(dir_.path() + "/sessions") << "garbage!garbage!"; }
  SessionRegistryOptions options;
  options.state_path = dir_.path() + "/sessions";
  EXPECT_EQ(SessionRegistry::Open(options).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SessionRegistryTest, PolicyForSelectsByAllNamesAndLabels) {
  auto registry = OpenRegistry();
  auto all = registry->Start(AllNodes("a"), "");
  v1::Session by_name = AllNodes("b");
  by_name.mutable_nodes()->set_all(false);
  by_name.mutable_nodes()->add_names("host-2");
  by_name.mutable_nodes()->add_names("node-3");
  auto named = registry->Start(by_name, "");
  v1::Session by_label = AllNodes("c");
  by_label.mutable_nodes()->set_all(false);
  (*by_label.mutable_nodes()->mutable_labels())["zone"] = "a";
  (*by_label.mutable_nodes()->mutable_labels())["tier"] = "web";
  auto labelled = registry->Start(by_label, "");
  ASSERT_TRUE(all.ok() && named.ok() && labelled.ok());

  auto ids = [&](const v1::Hello& hello) {
    std::vector<std::string> out;
    v1::Policy policy = registry->PolicyFor(hello);
    EXPECT_EQ(policy.version(), registry->version());
    for (const auto& s : policy.sessions()) out.push_back(s.id());
    return out;
  };
  v1::Hello n1 = MakeHello("node-1", "host-1");
  EXPECT_EQ(ids(n1), std::vector<std::string>{all->id()});
  EXPECT_EQ(ids(MakeHello("node-2", "host-2")), (std::vector<std::string>{all->id(), named->id()}));
  EXPECT_EQ(ids(MakeHello("node-3", "host-x")), (std::vector<std::string>{all->id(), named->id()}));
  (*n1.mutable_labels())["zone"] = "a";
  EXPECT_EQ(ids(n1), std::vector<std::string>{all->id()});  // subset missing
  (*n1.mutable_labels())["tier"] = "web";
  (*n1.mutable_labels())["extra"] = "x";
  EXPECT_EQ(ids(n1), (std::vector<std::string>{all->id(), labelled->id()}));
  (*n1.mutable_labels())["tier"] = "db";
  EXPECT_EQ(ids(n1), std::vector<std::string>{all->id()});

  ASSERT_TRUE(registry->Stop(all->id()).ok());
  EXPECT_TRUE(ids(MakeHello("node-1", "host-1")).empty());
}

TEST_F(SessionRegistryTest, WaitForVersionAboveWakesOnChange) {
  auto registry = OpenRegistry();
  EXPECT_FALSE(registry->WaitForVersionAbove(0, absl::Milliseconds(10)));
  std::thread starter([&] {
    absl::SleepFor(absl::Milliseconds(50));
    ASSERT_TRUE(registry->Start(AllNodes("a"), "").ok());
  });
  EXPECT_TRUE(registry->WaitForVersionAbove(0, absl::Seconds(10)));
  starter.join();
}

}  // namespace
}  // namespace tracer::controlplane
