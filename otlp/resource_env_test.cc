#include "otlp/resource_env.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::otlp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

using Env = std::map<std::string, std::string>;

std::function<std::optional<std::string>(const std::string&)> Lookup(Env env) {
  return [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ParseResourceAttributesTest, ListWithWhitespaceEmptyMembersAndPercentDecoding) {
  auto attrs = ParseResourceAttributes(
      " deployment.environment = prod ,, service.version=1.2%2C3,team=a%20b%3Dc, ");
  ASSERT_TRUE(attrs.ok()) << attrs.status();
  EXPECT_THAT(*attrs, ElementsAre(Pair("deployment.environment", "prod"),
                                  Pair("service.version", "1.2,3"), Pair("team", "a b=c")));
}

TEST(ParseResourceAttributesTest, EmptyInputAndEmptyValue) {
  auto empty = ParseResourceAttributes("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto blank = ParseResourceAttributes("k=");
  ASSERT_TRUE(blank.ok());
  EXPECT_THAT(*blank, ElementsAre(Pair("k", "")));
}

TEST(ParseResourceAttributesTest, OnlyFirstEqualsSplits) {
  auto attrs = ParseResourceAttributes("url=http://x/?a=b");
  ASSERT_TRUE(attrs.ok()) << attrs.status();
  EXPECT_THAT(*attrs, ElementsAre(Pair("url", "http://x/?a=b")));
}

TEST(ParseResourceAttributesTest, DuplicateKeyKeepsLastValueAtFirstPosition) {
  auto attrs = ParseResourceAttributes("a=1,b=2,a=3");
  ASSERT_TRUE(attrs.ok());
  EXPECT_THAT(*attrs, ElementsAre(Pair("a", "3"), Pair("b", "2")));
}

TEST(ParseResourceAttributesTest, Utf8IsDecodedAndInvalidBytesBecomeReplacementChar) {
  auto attrs = ParseResourceAttributes("city=M%C3%BCnchen,bad=x%FFy");
  ASSERT_TRUE(attrs.ok()) << attrs.status();
  EXPECT_THAT(*attrs, ElementsAre(Pair("city", "M\xC3\xBCnchen"), Pair("bad", "x\xEF\xBF\xBDy")));
}

TEST(ParseResourceAttributesTest, ErrorsNameTheBadMember) {
  struct Case {
    const char* input;
    const char* want;
  } cases[] = {
      {"a=1,novalue", "member 2 \"novalue\": expected key=value"},
      {"=x", "member 1 \"=x\": empty key"},
      {"a b=1", "key character ' '"},
      {"a=1%2", "bad percent escape"},
      {"a=%zz", "bad percent escape"},
      {"a=x;prop=1", "metadata is not supported"},
      {"a=two words", "character ' ' must be percent-encoded"},
      {"a=\"q\"", "must be percent-encoded"},
      {"a=caf\xC3\xA9", "must be percent-encoded"},
  };
  for (const Case& c : cases) {
    auto attrs = ParseResourceAttributes(c.input);
    ASSERT_FALSE(attrs.ok()) << c.input;
    EXPECT_EQ(attrs.status().code(), absl::StatusCode::kInvalidArgument) << c.input;
    EXPECT_THAT(std::string(attrs.status().message()), HasSubstr(c.want)) << c.input;
  }
}

TEST(ResourceAttributesFromEnvTest, ServiceNameTakesPrecedence) {
  EnvResource r = ResourceAttributesFromEnv(
      Lookup({{"OTEL_RESOURCE_ATTRIBUTES", "service.name=from-list,env=prod"},
              {"OTEL_SERVICE_NAME", "checkout"}}));
  EXPECT_TRUE(r.discarded.ok());
  EXPECT_THAT(r.attributes, ElementsAre(Pair("service.name", "checkout"), Pair("env", "prod")));
}

TEST(ResourceAttributesFromEnvTest, ServiceNameAloneAndEmptyValuesUnset) {
  EnvResource r = ResourceAttributesFromEnv(
      Lookup({{"OTEL_RESOURCE_ATTRIBUTES", ""}, {"OTEL_SERVICE_NAME", "api"}}));
  EXPECT_TRUE(r.discarded.ok());
  EXPECT_THAT(r.attributes, ElementsAre(Pair("service.name", "api")));

  EnvResource none = ResourceAttributesFromEnv(
      Lookup({{"OTEL_RESOURCE_ATTRIBUTES", "a=1"}, {"OTEL_SERVICE_NAME", ""}}));
  EXPECT_THAT(none.attributes, ElementsAre(Pair("a", "1")));
}

TEST(ResourceAttributesFromEnvTest, MalformedListIsDiscardedWholeAndReported) {
  EnvResource r = ResourceAttributesFromEnv(
      Lookup({{"OTEL_RESOURCE_ATTRIBUTES", "good=1,bad"}, {"OTEL_SERVICE_NAME", "api"}}));
  EXPECT_EQ(r.discarded.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.discarded.message()),
              HasSubstr("OTEL_RESOURCE_ATTRIBUTES: member 2 \"bad\""));
  // Nothing from the list survives; OTEL_SERVICE_NAME still applies.
  EXPECT_THAT(r.attributes, ElementsAre(Pair("service.name", "api")));
}

TEST(MergeResourceAttributesTest, ExistingKeysWinNewKeysAppended) {
  opentelemetry::proto::resource::v1::Resource resource;
  auto* kv = resource.add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("curl");
  auto* pid = resource.add_attributes();
  pid->set_key("process.pid");
  pid->mutable_value()->set_int_value(42);

  MergeResourceAttributes(
      {{"service.name", "env-default"}, {"deployment.environment", "prod"}, {"process.pid", "1"}},
      &resource);
  ASSERT_EQ(resource.attributes_size(), 3);
  EXPECT_EQ(resource.attributes(0).value().string_value(), "curl");
  EXPECT_EQ(resource.attributes(1).value().int_value(), 42);
  EXPECT_EQ(resource.attributes(2).key(), "deployment.environment");
  EXPECT_EQ(resource.attributes(2).value().string_value(), "prod");
}

}  // namespace
}  // namespace tracer::otlp
