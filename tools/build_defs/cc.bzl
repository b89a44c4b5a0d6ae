"""Project wrappers for C++ tests."""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def tracer_cc_test(name, srcs, deps = [], needs_root = False, **kwargs):
    """A GoogleTest test. `needs_root` tests (BPF, namespaces) run outside the
    sandbox, which would drop their capabilities; they skip outside CI when
    not root and say so."""
    tags = kwargs.pop("tags", [])
    if needs_root:
        tags = tags + ["local", "root"]
    cc_test(
        name = name,
        srcs = srcs,
        deps = deps + ["//third_party:gtest_main"],
        tags = tags,
        **kwargs
    )

def tracer_fuzz_target(name, srcs, deps = [], corpus = [], **kwargs):
    """A libFuzzer target defining LLVMFuzzerTestOneInput.

    Normal builds link a replay driver (//tests/fuzz:replay_main) so `bazel
    test` runs the seed corpus plus deterministic mutations of it and the
    target cannot rot. `bazel run --config=fuzz //x:y_fuzz` builds the same
    sources with clang's libFuzzer and ASan for real fuzzing.
    """
    cc_test(
        name = name,
        srcs = srcs,
        deps = deps + select({
            "//tests/fuzz:fuzzing": [],
            "//conditions:default": ["//tests/fuzz:replay_main"],
        }),
        data = corpus,
        args = ["$(location %s)" % c for c in corpus],
        tags = kwargs.pop("tags", []) + ["fuzz"],
        **kwargs
    )
