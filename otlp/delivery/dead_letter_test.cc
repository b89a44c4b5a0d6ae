#include "otlp/delivery/dead_letter.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "otlp/otlp_json.h"
#include "otlp/test_requests.h"
#include "storage/testing/temp_dir.h"

namespace tracer::otlp::delivery {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(DeadLetterTest, AppendsOneDecodableLinePerRequestAndOneErrorLine) {
  storage::testing::TempDir dir;
  DeadLetterFile file(dir.path() + "/dl/sub", "tempo");
  auto rich = otlp::testing::MakeRichRequest();
  auto small = otlp::testing::MakeSyscallRequest(3, 9);
  DeadLetterInfo info{
      absl::FromUnixSeconds(1700000000), "http_400", "bad \"span\"\n\xff", 5, 10, 12};
  ASSERT_TRUE(file.Write(rich, info).ok());
  ASSERT_TRUE(file.Write(small, info).ok());
  EXPECT_EQ(file.requests_path(), dir.path() + "/dl/sub/tempo.jsonl");

  std::vector<std::string> lines = ReadLines(file.requests_path());
  ASSERT_EQ(lines.size(), 2u);
  auto first = otlp::FromOtlpJson(lines[0]);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->SerializeAsString(), rich.SerializeAsString());
  auto second = otlp::FromOtlpJson(lines[1]);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->SerializeAsString(), small.SerializeAsString());

  std::vector<std::string> errors = ReadLines(file.errors_path());
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0],
            "{\"time\":\"2023-11-14T22:13:20.000000Z\",\"reason\":\"http_400\","
            "\"message\":\"bad \\\"span\\\"\\n\xEF\xBF\xBD\",\"spans\":5,"
            "\"first_seq\":10,\"last_seq\":12}");
}

TEST(DeadLetterTest, ErrorOnlyLineForUndecodableRecords) {
  storage::testing::TempDir dir;
  DeadLetterFile file(dir.path(), "b");
  ASSERT_TRUE(file.WriteErrorOnly({absl::FromUnixSeconds(0), "bad_record", "x", 2, 7, 7}).ok());
  EXPECT_EQ(ReadLines(file.errors_path()).size(), 1u);
  EXPECT_TRUE(ReadLines(file.requests_path()).empty());
}

TEST(DeadLetterTest, UncreatableDirectoryIsAnError) {
  storage::testing::TempDir dir;
  std::ofstream(dir.path() + "/file") << "x";
  DeadLetterFile file(dir.path() + "/file/sub", "b");
  absl::Status s = file.Write(otlp::testing::MakeSyscallRequest(1), {});
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("dead letter"));
}

}  // namespace
}  // namespace tracer::otlp::delivery
