"""Bazel stamping for the project's binaries.

`build_info_cc` writes a C++ source that defines the build's git revision,
tree state and commit time (read from the workspace status file that
tools/workspace_status.sh fills, see .bazelrc). Unstamped builds (--nostamp)
get "unknown" / 0, so a build outside git or without stamping never fails.
"""

def _build_info_cc_impl(ctx):
    out = ctx.actions.declare_file(ctx.attr.name + ".cc")
    args = ctx.actions.args()
    inputs = []
    if ctx.attr.stamp:
        # ctx.info_file: bazel-out/stable-status.txt (STABLE_* keys). Its
        # changes re-run this action; volatile-status.txt is not read.
        inputs.append(ctx.info_file)
        args.add("--status", ctx.info_file.path)
    args.add("--out", out.path)
    # The system python3 (PATH from the default shell environment), as the
    # project's genrules use it; a py_binary tool would need a Python
    # toolchain this offline build does not register.
    ctx.actions.run_shell(
        command = 'exec python3 "$@"',
        arguments = [ctx.file._gen.path, args],
        use_default_shell_env = True,
        inputs = inputs + [ctx.file._gen],
        outputs = [out],
        mnemonic = "BuildInfo",
        progress_message = "Stamping %s" % out.short_path,
    )
    return [DefaultInfo(files = depset([out]))]

build_info_cc = rule(
    implementation = _build_info_cc_impl,
    attrs = {
        "stamp": attr.bool(doc = "Read the workspace status (true under --stamp)."),
        "_gen": attr.label(
            default = "//version:gen_build_info.py",
            allow_single_file = True,
        ),
    },
    doc = "Generates <name>.cc defining tracer::version::internal::kBuild*.",
)
