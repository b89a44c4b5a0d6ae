#include "ctl/certs_command.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Error(const std::vector<std::string>& args) {
  auto o = ParseCertsOptions(args);
  EXPECT_FALSE(o.ok());
  return std::string(o.status().message());
}

TEST(CertsOptionsTest, ParsesInitAndIssue) {
  auto init = ParseCertsOptions({"init", "--dir", "pki", "--force"});
  ASSERT_TRUE(init.ok()) << init.status();
  EXPECT_EQ(init->action, CertsOptions::Action::kInit);
  EXPECT_EQ(init->dir, "pki");
  EXPECT_TRUE(init->force);

  auto server = ParseCertsOptions({"issue", "--dir=pki", "--kind", "server", "--name", "cp",
                                   "--san", "localhost,127.0.0.1", "--san", "::1"});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(server->issue.kind, auth::CertKind::kServer);
  EXPECT_THAT(server->issue.sans, ElementsAre("localhost", "127.0.0.1", "::1"));

  auto user = ParseCertsOptions({"issue", "--dir", "pki", "--kind", "user", "--name", "al",
                                 "--role", "admin", "--days", "30"});
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->issue.role, auth::Role::kAdmin);
  EXPECT_EQ(user->issue.validity_days, 30);
}

TEST(CertsOptionsTest, ClearErrors) {
  EXPECT_THAT(Error({}), HasSubstr("missing action"));
  EXPECT_THAT(Error({"renew", "--dir", "x"}), HasSubstr("unknown action 'renew'"));
  EXPECT_THAT(Error({"init"}), HasSubstr("--dir DIR is required"));
  EXPECT_THAT(Error({"init", "--dir"}), HasSubstr("needs an argument"));
  EXPECT_THAT(Error({"init", "--dir", "x", "--bogus"}), HasSubstr("unknown option --bogus"));
  EXPECT_THAT(Error({"issue", "--dir", "x", "--name", "a"}), HasSubstr("--kind"));
  EXPECT_THAT(Error({"issue", "--dir", "x", "--kind", "robot", "--name", "a"}),
              HasSubstr("--kind robot"));
  EXPECT_THAT(Error({"issue", "--dir", "x", "--kind", "user", "--name", "a"}),
              HasSubstr("--role viewer|operator|admin is required"));
  EXPECT_THAT(Error({"issue", "--dir", "x", "--kind", "user", "--name", "a", "--role", "root"}),
              HasSubstr("--role root"));
  EXPECT_THAT(Error({"issue", "--dir", "x", "--kind", "agent", "--name", "a", "--role", "admin"}),
              HasSubstr("only users have a role"));
  EXPECT_THAT(Error({"issue", "--dir", "x", "--kind", "server", "--name", "cp"}),
              HasSubstr("--san is required"));
  EXPECT_THAT(Error({"issue", "--dir", "x", "--kind", "agent", "--name", "a", "--san", "h"}),
              HasSubstr("only server certificates"));
  EXPECT_THAT(Error({"issue", "--dir", "x", "--kind", "agent", "--name", "a", "--days", "0"}),
              HasSubstr("--days 0"));
}

TEST(CertsOptionsTest, Help) {
  auto h = ParseCertsOptions({"issue", "--help"});
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->help);
}

}  // namespace
}  // namespace tracer::ctl
