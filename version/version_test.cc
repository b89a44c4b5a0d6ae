#include "version/version.h"

#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "version/semver.h"

namespace tracer::version {
namespace {

// Under --stamp (.bazelrc) the test links the same stamped build_info as
// the binaries; under --nostamp, the unstamped one. Both shapes are checked.
TEST(VersionTest, BuildFactsHaveTheirShape) {
  const BuildInfo& b = Build();
  EXPECT_EQ(b.version, version::kVersion);
  const std::string revision(b.revision);
  if (!b.stamped || revision == "unknown") {
    // Unstamped, or stamped outside a git checkout.
    EXPECT_EQ(revision, "unknown");
    EXPECT_EQ(b.commit_time_s, 0);
    EXPECT_EQ(VersionLine("tracectl"),
              std::string("tracectl ") + version::kVersion + " (revision unknown)");
  } else {
    EXPECT_TRUE(std::regex_match(revision, std::regex("[0-9a-f]{40}"))) << revision;
    EXPECT_TRUE(b.tree_state == "clean" || b.tree_state == "modified") << b.tree_state;
    EXPECT_GT(b.commit_time_s, 1500000000);  // after 2017
    EXPECT_EQ(VersionLine("trace-agent"), std::string("trace-agent ") + version::kVersion +
                                              " (revision " + revision + ", " +
                                              std::string(b.tree_state) + ")");
  }
}

TEST(VersionTest, SemanticVersionIsSemver) {
  EXPECT_TRUE(std::regex_match(std::string(version::kVersion),
                               std::regex(R"(\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?)")));
}

}  // namespace
}  // namespace tracer::version
