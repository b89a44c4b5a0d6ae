#!/usr/bin/env bash
# Bazel workspace status (--workspace_status_command, see .bazelrc): prints
# "KEY value" lines that stamped targets read (//version:build_info, the
# image labels in tools/build_defs/oci.bzl). STABLE_ keys are part of the
# action keys of stamped targets: a new commit relinks the stamped binaries.
#
#   STABLE_GIT_COMMIT        full commit hash of HEAD, or "unknown"
#   STABLE_GIT_TREE_STATE    "clean", "modified" (tracked files differ from
#                            HEAD) or "unknown"
#   STABLE_GIT_COMMIT_TIME   committer time of HEAD, Unix seconds, or 0
#   STABLE_GIT_REMOTE_URL    the "origin" remote without any user:password@
#                            part (image source label); empty without one
#
# Never fails: outside a git checkout (a source tarball) every value is the
# "unknown"/0 default, and the build goes on unstamped.
cd "$(dirname "$0")/.." 2>/dev/null || true

commit=unknown
state=unknown
time=0
remote=
if rev="$(git rev-parse --verify -q HEAD 2>/dev/null)" && [[ -n "$rev" ]]; then
  commit="$rev"
  time="$(git show -s --format=%ct HEAD 2>/dev/null || echo 0)"
  if git diff-index --quiet HEAD -- 2>/dev/null; then
    state=clean
  else
    state=modified
  fi
  remote="$(git remote get-url origin 2>/dev/null | sed -E 's#^([a-z+]+://)[^/@]*@#\1#' || true)"
fi
echo "STABLE_GIT_COMMIT ${commit}"
echo "STABLE_GIT_TREE_STATE ${state}"
echo "STABLE_GIT_COMMIT_TIME ${time}"
echo "STABLE_GIT_REMOTE_URL ${remote}"
exit 0
