#include "controlplane/exporters/exporter_registry.h"

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/testing/temp_dir.h"

namespace tracer::controlplane {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "Bearer top-secret-token";

v1::ExporterSpec Spec(const std::string& name, const std::string& endpoint) {
  v1::ExporterSpec spec;
  spec.set_name(name);
  spec.set_endpoint(endpoint);
  auto* h = spec.add_headers();
  h->set_key("authorization");
  h->set_value(kSecret);
  return spec;
}

class ExporterRegistryTest : public ::testing::Test {
 protected:
  std::unique_ptr<ExporterRegistry> Open() {
    ExporterRegistryOptions options;
    options.state_path = path_;
    options.now_unix_nanos = [this] { return now_; };
    options.max_exporters = 3;
    auto registry = ExporterRegistry::Open(options);
    EXPECT_TRUE(registry.ok()) << registry.status();
    return registry.ok() ? std::move(*registry) : nullptr;
  }
  std::string FileContents() const {
    std::ifstream in(path_, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  storage::testing::TempDir dir_;
  const std::string path_ = dir_.path() + "/exporters";
  int64_t now_ = 1000;
};

TEST_F(ExporterRegistryTest, AddPersistsAcrossReopenWithVersions) {
  {
    auto registry = Open();
    EXPECT_EQ(registry->version(), 0u);
    auto added = registry->Add(Spec("tempo", "https://tempo:4317"), false, "CN=alice,O=tracer");
    ASSERT_TRUE(added.ok()) << added.status();
    EXPECT_EQ(added->version(), 1u);
    EXPECT_EQ(added->source(), "api");
    EXPECT_EQ(added->created_by(), "CN=alice,O=tracer");
    EXPECT_EQ(added->created_unix_nano(), 1000u);
    now_ = 2000;
    ASSERT_TRUE(registry->Add(Spec("jaeger", "jaeger:4317"), false, "bob").ok());
    EXPECT_EQ(registry->version(), 2u);
  }
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the state file holds secrets";

  auto registry = Open();
  EXPECT_EQ(registry->version(), 2u);
  auto list = registry->ListWithSecrets();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name(), "jaeger");  // sorted by name
  EXPECT_EQ(list[0].version(), 2u);
  EXPECT_EQ(list[0].created_unix_nano(), 2000u);
  EXPECT_EQ(list[1].name(), "tempo");
  EXPECT_EQ(list[1].endpoint(), "https://tempo:4317");
  EXPECT_EQ(list[1].headers(0).value(), kSecret);  // the fan-out needs it

  // Remove: new version, gone after reopen.
  now_ = 3000;
  auto removed = registry->Remove("tempo");
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(removed->version(), 3u);
  EXPECT_EQ(removed->headers(0).value(), "");
  registry = Open();
  EXPECT_EQ(registry->version(), 3u);
  ASSERT_EQ(registry->ListWithSecrets().size(), 1u);
  EXPECT_EQ(registry->ListWithSecrets()[0].name(), "jaeger");
  EXPECT_EQ(registry->Remove("tempo").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ExporterRegistryTest, SecretsNeverInRedactedResults) {
  auto registry = Open();
  auto added = registry->Add(Spec("honeycomb", "https://api.honeycomb.io:443"), false, "a");
  ASSERT_TRUE(added.ok());
  ASSERT_EQ(added->headers_size(), 1);
  EXPECT_EQ(added->headers(0).key(), "authorization");
  EXPECT_EQ(added->headers(0).value(), "");
  for (const v1::ExporterSpec& spec : registry->ListRedacted()) {
    EXPECT_THAT(spec.DebugString(), Not(HasSubstr("top-secret")));
    EXPECT_EQ(spec.headers(0).key(), "authorization");
  }
  // Persisted with the secret (it must be sent), in a 0600 file.
  EXPECT_THAT(FileContents(), HasSubstr("top-secret"));
}

TEST_F(ExporterRegistryTest, InvalidAndDuplicateChangeNothing) {
  auto registry = Open();
  ASSERT_TRUE(registry->Add(Spec("tempo", "tempo:4317"), false, "a").ok());
  const std::string before = FileContents();

  v1::ExporterSpec bad = Spec("tempo2", "");
  auto s = registry->Add(bad, false, "a");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "exporter.endpoint: is required");

  auto dup = registry->Add(Spec("tempo", "other:4317"), false, "a");
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(registry->version(), 1u);
  EXPECT_EQ(FileContents(), before);
  EXPECT_EQ(registry->ListWithSecrets()[0].endpoint(), "tempo:4317");

  // Replace keeps the created time, bumps the version.
  now_ = 5000;
  auto replaced = registry->Add(Spec("tempo", "other:4317"), true, "b");
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->version(), 2u);
  EXPECT_EQ(replaced->created_unix_nano(), 1000u);
  EXPECT_EQ(registry->ListWithSecrets()[0].endpoint(), "other:4317");

  // Server-set fields in a request are ignored.
  v1::ExporterSpec forged = Spec("forged", "x:1");
  forged.set_version(99);
  forged.set_source("config");
  forged.set_created_by("root");
  auto f = registry->Add(forged, false, "mallory");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->source(), "api");
  EXPECT_EQ(f->created_by(), "mallory");

  // Capacity (3 in this test).
  EXPECT_TRUE(registry->Add(Spec("third", "x:1"), false, "a").ok());
  EXPECT_EQ(registry->Add(Spec("fourth", "x:1"), false, "a").status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(ExporterRegistryTest, StartupExportersAreNotStoredNorRemovable) {
  {
    auto registry = Open();
    ASSERT_TRUE(registry->Add(Spec("stored", "s:4317"), false, "a").ok());
    auto added = registry->AddStartup(Spec("default", "localhost:4317"), "env");
    ASSERT_TRUE(added.ok()) << added.status();
    EXPECT_EQ(added->version(), 0u);
    EXPECT_EQ(added->source(), "env");
    EXPECT_EQ(registry->version(), 1u);  // start-up exporters are no stored change
    EXPECT_EQ(registry->ListWithSecrets().size(), 2u);

    auto removed = registry->Remove("default");
    EXPECT_EQ(removed.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(removed.status().message(), HasSubstr("start-up env"));
    EXPECT_EQ(registry->Add(Spec("default", "x:1"), true, "a").status().code(),
              absl::StatusCode::kFailedPrecondition);
    // A start-up exporter never shadows a stored one.
    EXPECT_EQ(registry->AddStartup(Spec("stored", "x:1"), "config").status().code(),
              absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(registry->AddStartup(Spec("Bad!", "x:1"), "config").status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  auto registry = Open();
  ASSERT_EQ(registry->ListWithSecrets().size(), 1u);
  EXPECT_EQ(registry->ListWithSecrets()[0].name(), "stored");
}

TEST_F(ExporterRegistryTest, MalformedFileIsDataLoss) {
  std::ofstream(path_) << "TREXPT01\x01";
  ExporterRegistryOptions options;
  options.state_path = path_;
  EXPECT_EQ(ExporterRegistry::Open(options).status().code(), absl::StatusCode::kDataLoss);
  std::string data("TREXPT01", 8);
  data.append(8, '\0');
  data.append("\xff\x00\x00\x00", 4);  // a length beyond the end
  std::ofstream(path_, std::ios::binary | std::ios::trunc) << data;
  auto opened = ExporterRegistry::Open(options);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(opened.status().message(), HasSubstr("truncated exporter"));
}

TEST_F(ExporterRegistryTest, FailedWriteChangesNothing) {
  ExporterRegistryOptions options;
  options.state_path = dir_.path() + "/no-such-dir/exporters";
  auto registry = ExporterRegistry::Open(options);
  ASSERT_TRUE(registry.ok());
  auto added = (*registry)->Add(Spec("tempo", "t:4317"), false, "a");
  EXPECT_EQ(added.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ((*registry)->version(), 0u);
  EXPECT_TRUE((*registry)->ListWithSecrets().empty());
}

}  // namespace
}  // namespace tracer::controlplane
