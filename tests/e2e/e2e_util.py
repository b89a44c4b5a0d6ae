"""Helpers shared by the end-to-end tests: locating binaries, skipping rules,
running commands with time limits, parsing strace-style summary tables."""

import os
import re
import shutil
import socket
import subprocess
import unittest

IN_CI = bool(os.environ.get("CI"))


def require_root(test: unittest.TestCase) -> None:
    """BPF needs root. Outside CI a non-root run skips and says so; in CI
    (which runs as root) a missing privilege is a failure."""
    if os.geteuid() != 0:
        if IN_CI:
            test.fail("end-to-end BPF tests need root, and CI runs as root")
        test.skipTest("SKIP: needs root for BPF (run `sudo make test`); not in CI")


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peers_dir(test: unittest.TestCase, package: str = "") -> str:
    """TRACER_PEERS_DIR (tests/peers/install.sh) with its node_modules (and
    node_modules/`package` when given) and node on PATH; otherwise the test
    skips, saying why, outside CI and fails in CI."""
    peers = os.environ.get("TRACER_PEERS_DIR", "")
    nm = os.path.join(peers, "node_modules")
    why = None
    if not peers or not os.path.isdir(os.path.join(nm, package)):
        why = (f"TRACER_PEERS_DIR={peers!r} has no node_modules/{package} "
               "(run tests/peers/install.sh)")
    elif not shutil.which("node"):
        why = "node is not installed (Debian package nodejs)"
    if why:
        if IN_CI:
            test.fail(why)
        test.skipTest("SKIP: " + why)
    return peers


def runfile(rel: str) -> str:
    """Path of a data dependency (Bazel runfiles) such as ctl/tracectl."""
    for base in (os.environ.get("TEST_SRCDIR", ""), os.getcwd()):
        for cand in (os.path.join(base, "tracer", rel), os.path.join(base, rel)):
            if os.path.exists(cand):
                return os.path.abspath(cand)
    raise FileNotFoundError(rel)


def tracectl() -> str:
    return runfile("ctl/tracectl")


def run(args, timeout=120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)


_ROW = re.compile(
    r"^\s*(?P<pct>[\d.]+)\s+(?P<secs>[\d.]+)\s+(?P<usecs>\d+)\s+(?P<calls>\d+)\s+"
    r"(?:(?P<errors>\d+)\s+)?(?P<name>[a-z_0-9?]+)\s*$")


def parse_summary(text: str) -> dict:
    """Parses an `strace -c` style table into {syscall: (calls, errors)}.
    The 'total' row is kept under the key 'total'."""
    out = {}
    in_table = False
    for line in text.splitlines():
        if line.startswith("% time"):
            in_table = True
            out = {}
            continue
        if not in_table or line.startswith("------"):
            continue
        m = _ROW.match(line)
        if not m:
            continue
        out[m.group("name")] = (int(m.group("calls")), int(m.group("errors") or 0))
    return out
