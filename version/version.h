// What a binary of this project is: its semantic version (version/semver.h,
// the one place it is set) and, for stamped builds, the git revision it was
// built from (Bazel stamping: tools/workspace_status.sh, .bazelrc,
// version/build_info.bzl).
#ifndef TRACER_VERSION_VERSION_H_
#define TRACER_VERSION_VERSION_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace tracer::version {

// Build facts linked into the binary. All views point at static storage
// (valid for the life of the process); thread-safe, never fails.
struct BuildInfo {
  // Semantic version, e.g. "0.1.0" (tracer::version::kVersion).
  std::string_view version;
  // Full git commit hash of the source tree, or "unknown" for unstamped
  // builds (--nostamp) and builds outside a git checkout.
  std::string_view revision;
  // "clean", "modified" (tracked files differed from the commit), or
  // "unknown" (unstamped).
  std::string_view tree_state;
  // Committer time of `revision`, Unix seconds; 0 when unknown.
  int64_t commit_time_s = 0;
  // True when the build read the workspace status (--stamp).
  bool stamped = false;
};

// The facts of this binary's build.
const BuildInfo& Build();

// The version with its revision, e.g.
//   "0.1.0 (revision 7a90ce875a07..., modified)" or "0.1.0 (revision unknown)"
// (the form gflags::SetVersionString wants: --version prints
// "<program> version <this>").
std::string VersionWithRevision();

// One human-readable line, e.g.
//   "trace-agent 0.1.0 (revision 7a90ce875a07..., modified)"
//   "tracectl 0.1.0 (revision unknown)"
// `program` is the binary's name. The full 40-hex revision is printed.
std::string VersionLine(std::string_view program);

}  // namespace tracer::version

#endif  // TRACER_VERSION_VERSION_H_
