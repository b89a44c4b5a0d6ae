#include "otlp/file_exporter.h"

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "otlp/otlp_json.h"
#include "otlp/test_requests.h"

namespace tracer::otlp {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(FileExporter, WritesOneDecodableLinePerRequestAndFlushesOnShutdown) {
  const std::string path = TempPath("spans.jsonl");
  auto ex = FileExporter::Create(path);
  ASSERT_TRUE(ex.ok()) << ex.status();
  auto a = testing::MakeRichRequest();
  auto b = testing::MakeSyscallRequest(3);
  ASSERT_TRUE((*ex)->Export(a).ok());
  ASSERT_TRUE((*ex)->Export(b).ok());
  EXPECT_EQ(ReadAll(path), "");  // still buffered
  ASSERT_TRUE((*ex)->Shutdown().ok());
  std::string text = ReadAll(path);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  auto da = FromOtlpJson(lines[0]);
  auto db = FromOtlpJson(lines[1]);
  ASSERT_TRUE(da.ok() && db.ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(a, *da));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(b, *db));
  EXPECT_EQ((*ex)->Export(a).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*ex)->Shutdown().ok());  // idempotent
}

TEST(FileExporter, ConcurrentWritersNeverInterleaveLines) {
  const std::string path = TempPath("concurrent.jsonl");
  auto ex = FileExporter::Create(path);
  ASSERT_TRUE(ex.ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto req = testing::MakeSyscallRequest(50, t + 1);
      for (int i = 0; i < 50; ++i) ASSERT_TRUE((*ex)->Export(req).ok());
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE((*ex)->Shutdown().ok());
  std::vector<std::string> lines = absl::StrSplit(ReadAll(path), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 200u);
  for (const auto& line : lines) ASSERT_TRUE(FromOtlpJson(line).ok());
}

TEST(FileExporter, AppendKeepsExistingLines) {
  const std::string path = TempPath("append.jsonl");
  for (int i = 0; i < 2; ++i) {
    auto ex = FileExporter::Create(path, /*append=*/i > 0);
    ASSERT_TRUE(ex.ok());
    ASSERT_TRUE((*ex)->Export(testing::MakeSyscallRequest(1)).ok());
  }  // destructor flushes
  std::vector<std::string> lines = absl::StrSplit(ReadAll(path), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 2u);
}

TEST(FileExporter, Errors) {
  auto ex = FileExporter::Create("/nonexistent-dir/x.jsonl");
  EXPECT_EQ(ex.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ex.status().message(), HasSubstr("cannot open \"/nonexistent-dir/x.jsonl\""));
  // A full device reports the write error no later than Shutdown.
  auto full = FileExporter::Create("/dev/full");
  ASSERT_TRUE(full.ok());
  auto big = testing::MakeSyscallRequest(20000);  // > 1 MiB of JSON
  auto r = (*full)->Export(big);
  absl::Status s = r.ok() ? (*full)->Shutdown() : r.status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_THAT(s.message(), HasSubstr("No space left on device"));
}

}  // namespace
}  // namespace tracer::otlp
