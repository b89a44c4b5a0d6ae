#!/usr/bin/env python3
"""The project's layering rules, checked on the Bazel build graph and on
#include lines (ARCHITECTURE.md, "Layers").

Modules are top-level folders (agent/, controlplane/ and ctl/ are one module
each). Arrows point down only:

    ctl  ->  agent (its public pipeline API)  ->  shared modules  ->  proto
    controlplane  ---------------------------->  shared modules  ->  proto

agent and controlplane are peers and use nothing of each other; nothing but
tests/, deploy/ and tools/ uses ctl/; production code never uses tests/.

Usage:
    layering.py                 query the graph with `bazel query` and scan
                                the sources; exit 1 listing every violation
    layering.py --edges FILE    check edges from a file of `"//a:b" -> "//c:d"`
                                lines (the `--output=graph` format) instead
"""
import argparse
import os
import re
import subprocess
import sys

# What each module may use (besides itself and third_party). Every set is
# closed under the relation, so checking direct edges checks all paths.
SHARED_BASE = {"proto", "common"}
ALLOWED = {
    "proto": set(),
    "common": set(),
    "version": set(),
    "third_party": set(),
    "bpf": set(),
    "syscalls": {"common"},
    "auth": SHARED_BASE,
    "storage": SHARED_BASE,
    "otlp": SHARED_BASE | {"auth", "storage", "version"},
}
SHARED = set(ALLOWED)
ALLOWED["agent"] = SHARED | {"otlp", "auth", "syscalls", "storage", "version", "bpf"}
ALLOWED["controlplane"] = SHARED | {"otlp", "auth", "syscalls", "storage", "version"}
ALLOWED["ctl"] = ALLOWED["agent"] | {"agent"}
# Build tooling, end-to-end tests and deployment sit above everything.
for top in ("tests", "deploy", "tools"):
    ALLOWED[top] = None  # anything

# Top-level folders whose BUILD files hold Bazel macros or generators only;
# any module may use them (e.g. //tools/build_defs, //tools/gen).
TOOLING = {"tools"}

LABEL = re.compile(r'^\s*"(//[^"]*)"\s*->\s*"(//[^"]*)"\s*$')


def module_of_label(label):
    """'//agent/capture:x' -> 'agent'; '//:foo' -> ''."""
    path = label[2:].split(":", 1)[0]
    return path.split("/", 1)[0]


def module_of_path(path):
    return path.split("/", 1)[0]


def allowed(src_mod, dst_mod):
    if src_mod == dst_mod or dst_mod in ("third_party", "") or dst_mod in TOOLING:
        return True
    rule = ALLOWED.get(src_mod, set())
    if rule is None:
        return True
    return dst_mod in rule


def check_edges(edges, testonly=frozenset()):
    """edges: iterable of (src_label, dst_label). Returns violation strings.
    `testonly` labels (tests and their helpers) may also use //tests."""
    bad = []
    for src, dst in edges:
        if src.startswith("//external") or dst.startswith("//external"):
            continue
        s, d = module_of_label(src), module_of_label(dst)
        if d == "tests" and s != "tests":
            if src in testonly:
                continue
            bad.append(f"{src} -> {dst}: production code depends on tests/")
            continue
        if not allowed(s, d):
            bad.append(f"{src} -> {dst}: {s}/ must not depend on {d}/")
    return sorted(set(bad))


INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def check_includes(root, modules=None):
    """Scans .h/.cc/.c files for project includes that cross a forbidden
    line. Generated and system headers (no project folder prefix) pass."""
    known = set(ALLOWED) | {"agent", "controlplane", "ctl"}
    bad = []
    for top in sorted(os.listdir(root)):
        if top.startswith((".", "bazel-")) or not os.path.isdir(os.path.join(root, top)):
            continue
        if modules is not None and top not in modules:
            continue
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if not name.endswith((".h", ".cc", ".c", ".hpp")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for inc in INCLUDE.findall(text):
                    d = module_of_path(inc)
                    if d not in known or "/" not in inc:
                        continue  # generated (tracer/v1/x.pb.h), system or local
                    s = module_of_path(rel)
                    if d == "tests" and s != "tests":
                        if "_test" in name or "/testing/" in rel or "testing" in name:
                            continue
                        bad.append(f"{rel}: includes {inc}: production code uses tests/")
                    elif not allowed(s, d):
                        bad.append(f"{rel}: includes {inc}: {s}/ must not use {d}/")
    return bad


def parse_edges(lines):
    for line in lines:
        m = LABEL.match(line)
        if m:
            yield m.group(1), m.group(2)


def query(args):
    out = subprocess.run(["bazel", "query", *args], check=True, capture_output=True, text=True)
    return out.stdout.splitlines()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--edges", help="check these edges instead of querying Bazel")
    p.add_argument("--root", default=os.getcwd(), help="source tree for the #include scan")
    a = p.parse_args()
    if a.edges:
        with open(a.edges) as f:
            edges = list(parse_edges(f))
        testonly = frozenset()
    else:
        edges = list(parse_edges(query(["--output=graph", "--nograph:factored", "deps(//...)"])))
        testonly = frozenset(query(["--output=label",
                                    "attr(testonly, 1, //...) + kind('.*_test', //...)"]))
    bad = check_edges(edges, testonly)
    if not a.edges:
        bad += check_includes(a.root)
    for b in bad:
        print("layering: " + b)
    print(f"layering: {len(edges)} dependency edges checked, {len(bad)} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
