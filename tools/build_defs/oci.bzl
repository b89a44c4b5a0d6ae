"""OCI images of the project's binaries, assembled without any download.

`oci_image` runs deploy/oci_image.py: the binary, the dynamic loader and
exactly the shared libraries the binary loads (resolved from the build
machine's Debian libraries), /etc/passwd and /etc/group (root, nonroot =
65532), the CA bundle, labels and an entrypoint, written as an OCI image
layout archive (image-spec v1.0 image-layout.md) with a reproducible digest.

Outputs:
  <name>.tar      the OCI layout as a tar (`skopeo copy oci-archive:<name>.tar:<ref> ...`,
                  or untar and `umoci unpack --image DIR:<ref> BUNDLE`)
  <name>.digest   the manifest digest, "sha256:<hex>\\n"
<ref> is the index's org.opencontainers.image.ref.name: the version.
"""

def _oci_image_impl(ctx):
    tar = ctx.actions.declare_file(ctx.attr.name + ".tar")
    digest = ctx.actions.declare_file(ctx.attr.name + ".digest")
    binary = ctx.file.binary
    args = ctx.actions.args()
    args.add("--out", tar.path)
    args.add("--digest_out", digest.path)
    args.add("--binary", "%s:%s" % (binary.path, ctx.attr.binary_path))
    args.add("--title", ctx.attr.title or ctx.attr.name)
    args.add("--version_header", ctx.file.version_header.path)
    if ctx.attr.version:
        args.add("--version", ctx.attr.version)
    if ctx.attr.source:
        args.add("--source", ctx.attr.source)
    args.add("--user", ctx.attr.user)
    args.add("--entrypoint", json.encode([ctx.attr.binary_path] + ctx.attr.args))
    for e in ctx.attr.env:
        args.add("--env", e)
    for k, v in sorted(ctx.attr.labels.items()):
        args.add("--label", "%s=%s" % (k, v))
    for path, owner in sorted(ctx.attr.dirs.items()):
        args.add("--dir", "%s:%s" % (path, owner))
    for path in ctx.attr.host_files:
        args.add("--file", "%s:%s" % (path, path))
    inputs = [binary, ctx.file._tool, ctx.file.version_header]
    if ctx.attr.stamp:
        inputs.append(ctx.info_file)
        args.add("--status", ctx.info_file.path)
    ctx.actions.run_shell(
        command = 'exec python3 "$@"',
        arguments = [ctx.file._tool.path, args],
        inputs = inputs,
        outputs = [tar, digest],
        use_default_shell_env = True,
        mnemonic = "OciImage",
        progress_message = "Assembling OCI image %s" % tar.short_path,
    )
    return [DefaultInfo(
        files = depset([tar, digest]),
        runfiles = ctx.runfiles(files = [tar, digest]),
    )]

oci_image = rule(
    implementation = _oci_image_impl,
    attrs = {
        "binary": attr.label(
            mandatory = True,
            allow_single_file = True,
            cfg = "target",
            doc = "A dynamically linked cc_binary.",
        ),
        "binary_path": attr.string(mandatory = True, doc = "Where it goes, e.g. /usr/bin/x."),
        "title": attr.string(doc = "org.opencontainers.image.title (default: name)."),
        "args": attr.string_list(doc = "Default flags, appended to the entrypoint."),
        "user": attr.string(default = "0:0", doc = "UID:GID the container runs as."),
        "env": attr.string_list(doc = "K=V environment entries besides PATH."),
        "labels": attr.string_dict(doc = "Extra labels (the OCI ones are set)."),
        "dirs": attr.string_dict(doc = "Empty directories: path -> 'UID:GID:OCTAL_MODE'."),
        "host_files": attr.string_list(
            doc = "Absolute build-machine files copied to the same path (CA bundle).",
        ),
        "version": attr.string(doc = "Overrides the version read from version_header."),
        "version_header": attr.label(
            default = "//version:semver.h",
            allow_single_file = True,
        ),
        "source": attr.string(doc = "org.opencontainers.image.source (default: git remote)."),
        "stamp": attr.bool(doc = "Read the workspace status: revision, commit time."),
        "_tool": attr.label(default = "//deploy:oci_image.py", allow_single_file = True),
    },
    doc = "An OCI image layout archive of one binary. See the file comment.",
)
