#include "controlplane/exporters/exporter_manager.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_wal.h"
#include "storage/testing/temp_dir.h"

namespace tracer::controlplane {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Consumers(storage::Wal* queue) {
  std::vector<std::string> names;
  for (const storage::ConsumerStats& c : queue->Stats().consumers) names.push_back(c.name);
  return names;
}

class ExporterManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::WalOptions options;
    options.data_dir = dir_.path() + "/queue";
    auto queue = storage::RocksDbWal::Open(options);
    ASSERT_TRUE(queue.ok()) << queue.status();
    queue_ = std::move(*queue);
    ca_ = dir_.path() + "/ca.pem";
    std::ofstream(ca_) << "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  }
  std::unique_ptr<ExporterRegistry> OpenRegistry() {
    ExporterRegistryOptions options;
    options.state_path = dir_.path() + "/exporters";
    auto registry = ExporterRegistry::Open(options);
    EXPECT_TRUE(registry.ok()) << registry.status();
    return std::move(*registry);
  }
  v1::ExporterSpec Spec(const std::string& name, bool with_ca = false) {
    v1::ExporterSpec spec;
    spec.set_name(name);
    spec.set_endpoint("https://backend.invalid:4317");
    if (with_ca) spec.set_certificate_file(ca_);
    return spec;
  }
  fanout::FanOutOptions FanOutOpts() {
    fanout::FanOutOptions options;
    options.dead_letter_dir = dir_.path() + "/dead_letter";
    return options;
  }

  storage::testing::TempDir dir_;
  std::unique_ptr<storage::RocksDbWal> queue_;
  std::string ca_;
};

TEST_F(ExporterManagerTest, StartRemovesStaleCursorsOnly) {
  ASSERT_TRUE(queue_->RegisterConsumer("exporter:gone", storage::StartPosition::kOldest).ok());
  auto registry = OpenRegistry();
  ASSERT_TRUE(registry->Add(Spec("kept"), false, "a").ok());
  fanout::FanOut fanout(queue_.get(), FanOutOpts());
  ExporterManager manager(registry.get(), &fanout);
  v1::ExporterSpec env = Spec("default");
  env.set_source("env");
  ASSERT_TRUE(manager.Start({env}).ok());
  EXPECT_THAT(Consumers(queue_.get()),
              ::testing::UnorderedElementsAre("exporter:default", "exporter:kept"));
  fanout.Stop(absl::ZeroDuration());
}

// A stored exporter that cannot start (its CA file is gone) keeps its
// backlog: no cursor is deleted, and the others still start.
TEST_F(ExporterManagerTest, BrokenStoredExporterKeepsEveryCursor) {
  {
    auto registry = OpenRegistry();
    ASSERT_TRUE(registry->Add(Spec("tls", /*with_ca=*/true), false, "a").ok());
    ASSERT_TRUE(registry->Add(Spec("plain"), false, "a").ok());
  }
  ASSERT_TRUE(queue_->RegisterConsumer("exporter:tls", storage::StartPosition::kOldest).ok());
  ASSERT_TRUE(queue_->RegisterConsumer("exporter:gone", storage::StartPosition::kOldest).ok());
  std::filesystem::remove(ca_);
  auto registry = OpenRegistry();
  fanout::FanOut fanout(queue_.get(), FanOutOpts());
  ExporterManager manager(registry.get(), &fanout);
  ASSERT_TRUE(manager.Start({}).ok());
  EXPECT_THAT(Consumers(queue_.get()),
              ::testing::UnorderedElementsAre("exporter:gone", "exporter:plain", "exporter:tls"));
  ASSERT_EQ(fanout.Stats().size(), 1u);
  EXPECT_EQ(fanout.Stats()[0].name, "plain");
  fanout.Stop(absl::ZeroDuration());
}

TEST_F(ExporterManagerTest, BadStartupExporterFailsStart) {
  auto registry = OpenRegistry();
  fanout::FanOut fanout(queue_.get(), FanOutOpts());
  ExporterManager manager(registry.get(), &fanout);
  v1::ExporterSpec bad = Spec("cfg", /*with_ca=*/true);
  bad.set_certificate_file(dir_.path() + "/missing.pem");
  bad.set_source("config");
  absl::Status s = manager.Start({bad});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("start-up config"));
  EXPECT_THAT(s.message(), HasSubstr("exporter.certificate_file"));
  fanout.Stop(absl::ZeroDuration());
}

TEST_F(ExporterManagerTest, AddReplaceRemoveFollowTheRegistry) {
  auto registry = OpenRegistry();
  fanout::FanOut fanout(queue_.get(), FanOutOpts());
  ExporterManager manager(registry.get(), &fanout);
  ASSERT_TRUE(manager.Start({}).ok());
  ASSERT_TRUE(manager.Add(Spec("a"), false, "x").ok());
  ASSERT_EQ(fanout.Stats().size(), 1u);
  v1::ExporterSpec moved = Spec("a");
  moved.set_endpoint("https://moved.invalid:4317");
  ASSERT_TRUE(manager.Add(moved, true, "x").ok());
  ASSERT_EQ(fanout.Stats().size(), 1u);
  EXPECT_THAT(fanout.Stats()[0].endpoint, HasSubstr("moved.invalid"));
  EXPECT_EQ(manager.Add(Spec("a"), false, "x").status().code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(manager.Remove("a").ok());
  EXPECT_TRUE(fanout.Stats().empty());
  EXPECT_TRUE(Consumers(queue_.get()).empty());
  EXPECT_EQ(manager.Remove("a").status().code(), absl::StatusCode::kNotFound);
  fanout.Stop(absl::ZeroDuration());
}

}  // namespace
}  // namespace tracer::controlplane
