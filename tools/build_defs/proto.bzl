"""cc_proto_library over Debian's protoc and grpc_cpp_plugin (no downloaded rules)."""

load("@rules_cc//cc:defs.bzl", "cc_library")

def cc_proto(name, src, deps = [], grpc = False, visibility = None):
    """Generates C++ (and optionally gRPC) code for one .proto file.

    Args:
      name: the cc_library to create.
      src: the .proto file, relative to this package; imports are resolved
        against this package's directory (which must be the proto root).
      deps: cc_proto targets for the imported .proto files.
      grpc: also generate *.grpc.pb.{h,cc} for the file's services.
      visibility: of the cc_library.
    """
    base = src[:-len(".proto")]
    outs = [base + ".pb.h", base + ".pb.cc"]
    pkg = native.package_name()
    cmd = "protoc --proto_path=%s --cpp_out=$(GENDIR)/%s" % (pkg, pkg)
    if grpc:
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
        cmd += " --grpc_out=$(GENDIR)/%s --plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin)" % pkg
    cmd += " $(location %s)" % src
    native.genrule(
        name = name + "_gen",
        srcs = native.glob(["**/*.proto"]),
        outs = outs,
        cmd = cmd,
        tools = [src],
    )
    cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        includes = ["."],
        deps = deps + ["//third_party:protobuf"] + (["//third_party:grpc"] if grpc else []),
        visibility = visibility,
    )
