#include "ctl/resend_command.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tracer::ctl {
namespace {

TEST(ParseResendOptionsTest, FlagsAndDirectory) {
  auto o = ParseResendOptions({"--otlp-endpoint", "http://c:4318", "--otlp-protocol", "http",
                               "--otlp-headers", "k=v", "/var/lib/tracer/runs/run-1-abc"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->dir, "/var/lib/tracer/runs/run-1-abc");
  EXPECT_EQ(o->otlp.endpoint, "http://c:4318");
  EXPECT_EQ(o->otlp.protocol, "http/protobuf");
  EXPECT_EQ(o->otlp.headers, "k=v");
  EXPECT_FALSE(o->help);
}

TEST(ParseResendOptionsTest, DirectoryAloneUsesTheEnvironment) {
  auto o = ParseResendOptions({"dir"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->dir, "dir");
  EXPECT_TRUE(o->otlp.endpoint.empty());
  EXPECT_TRUE(o->otlp.protocol.empty());
}

TEST(ParseResendOptionsTest, Help) {
  auto o = ParseResendOptions({"--help"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->help);
  EXPECT_NE(std::string(ResendUsage()).find("tracectl resend [flags] DIR"), std::string::npos);
}

TEST(ParseResendOptionsTest, Errors) {
  auto message = [](const std::vector<std::string>& args) {
    auto o = ParseResendOptions(args);
    EXPECT_FALSE(o.ok());
    return std::string(o.status().message());
  };
  EXPECT_NE(message({}).find("which directory"), std::string::npos);
  EXPECT_NE(message({"a", "b"}).find("one directory"), std::string::npos);
  EXPECT_NE(message({"--otlp-protocol", "thrift", "d"}).find("--otlp-protocol thrift"),
            std::string::npos);
  EXPECT_NE(message({"--otlp-endpoint"}).find("option --otlp-endpoint needs an argument"),
            std::string::npos);
  EXPECT_NE(message({"--bogus", "d"}).find("unknown option --bogus"), std::string::npos);
}

TEST(ResendCommandTest, ADirectoryThatIsNoLogIsRefusedAndNotCreated) {
  ResendOptions o;
  o.dir = std::string(testing::TempDir()) + "/no-such-run";
  o.otlp.endpoint = "http://127.0.0.1:1";
  auto env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  EXPECT_EQ(ResendCommand(o, env), 1);
  EXPECT_FALSE(std::filesystem::exists(o.dir));
}

}  // namespace
}  // namespace tracer::ctl
