#include "version/version.h"

#include "version/semver.h"

namespace tracer::version {
namespace internal {
// Defined in the generated build_info.cc (//version:build_info_cc).
extern const char kBuildRevision[];
extern const char kBuildTreeState[];
extern const int64_t kBuildCommitTimeS;
extern const bool kBuildStamped;
}  // namespace internal

const BuildInfo& Build() {
  static const BuildInfo info = [] {
    BuildInfo b;
    b.version = version::kVersion;
    b.revision = internal::kBuildRevision;
    b.tree_state = internal::kBuildTreeState;
    b.commit_time_s = internal::kBuildCommitTimeS;
    b.stamped = internal::kBuildStamped;
    return b;
  }();
  return info;
}

std::string VersionWithRevision() {
  const BuildInfo& b = Build();
  // Debian's absl predates std::string_view in StrCat, so plain appends.
  std::string line(b.version);
  line.append(" (revision ").append(b.revision);
  // The tree state says nothing for an unknown revision.
  if (b.revision != "unknown") line.append(", ").append(b.tree_state);
  line.append(")");
  return line;
}

std::string VersionLine(std::string_view program) {
  return std::string(program) + " " + VersionWithRevision();
}

}  // namespace tracer::version
