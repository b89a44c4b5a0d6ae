"""BPF programs: compile *.bpf.c with clang (CO-RE) and generate libbpf skeletons."""

load("@rules_cc//cc:defs.bzl", "cc_library")

def vmlinux_h(name):
    """vmlinux.h dumped from the running kernel's BTF (CO-RE relocates the rest)."""
    native.genrule(
        name = name,
        outs = ["vmlinux.h"],
        cmd = "bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@",
        tags = ["no-cache"],
    )

def bpf_program(name, src, hdrs = [], vmlinux = ":vmlinux", visibility = None):
    """Compiles one BPF program and wraps its skeleton in a cc_library.

    Creates `<name>_bpf_o` (the object, `<name>.bpf.o`) and `<name>` (a
    cc_library exposing `<name>.skel.h` plus `hdrs`, the header shared between
    kernel and user space).
    """
    obj = name + ".bpf.o"
    native.genrule(
        name = name + "_bpf_o",
        srcs = [src] + hdrs + [vmlinux],
        outs = [obj],
        cmd = ("clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wno-unused-function " +
               "-I$$(dirname $(location %s)) -I$$(dirname $(location %s)) " +
               "-idirafter /usr/include/x86_64-linux-gnu " +
               "-c $(location %s) -o $@ && llvm-strip -g $@") % (vmlinux, src, src),
    )
    native.genrule(
        name = name + "_skel",
        srcs = [obj],
        outs = [name + ".skel.h"],
        cmd = "bpftool gen skeleton $(location %s) name %s > $@" % (obj, name),
    )
    cc_library(
        name = name,
        hdrs = [name + ".skel.h"] + hdrs,
        deps = ["//third_party:libbpf"],
        visibility = visibility,
    )
