"""tracectl's command line as a user meets it: attach with -p, Ctrl-C
detaching, the root check, usage errors, a command that cannot be found."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import e2e_util as u
from spans_test import attrs, read_spans

# Opens a marker file every 50 ms until killed.
LOOP = r"""
import sys, time
while True:
    with open(sys.argv[1]) as f:
        f.read()
    time.sleep(0.05)
"""


class CliTest(unittest.TestCase):
    def setUp(self):
        u.require_root(self)
        self.tmp = tempfile.TemporaryDirectory()
        self.marker = os.path.join(self.tmp.name, "attach-marker")
        with open(self.marker, "w") as f:
            f.write("x")

    def tearDown(self):
        self.tmp.cleanup()

    def start_loop(self):
        p = subprocess.Popen([sys.executable, "-c", LOOP, self.marker])
        self.addCleanup(lambda: (p.kill(), p.wait()))
        time.sleep(0.3)
        return p

    def wait_attached(self, tc, pid):
        """Reads tracectl's stderr up to strace's "Process N attached" line
        (loading the BPF programs takes a second or more on a busy machine);
        returns what it read."""
        seen = ""
        want = f"tracectl: Process {pid} attached"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = tc.stderr.readline()
            if not line:
                break
            seen += line
            if want in line:
                return seen
        self.fail(f"no {want!r} line: {seen}")

    def test_attach_until_the_process_exits(self):
        target = self.start_loop()
        out = os.path.join(self.tmp.name, "spans.jsonl")
        tc = subprocess.Popen([u.tracectl(), "run", "-p", str(target.pid), "--output", out],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        head = self.wait_attached(tc, target.pid)
        time.sleep(1.0)
        target.kill()
        target.wait()
        _, err = tc.communicate(timeout=30)
        err = head + err
        self.assertEqual(tc.returncode, 0, err)
        spans = read_spans(out)
        opens = [s for _, s in spans if s["name"] == "openat"
                 and self.marker in attrs(s["attributes"]).get("syscall.args", "")]
        self.assertGreaterEqual(len(opens), 5, "the attached process's openat calls are traced")
        self.assertEqual({r["process.pid"] for r, _ in spans}, {str(target.pid)})

    def test_ctrl_c_detaches_and_leaves_the_process_running(self):
        target = self.start_loop()
        tc = subprocess.Popen([u.tracectl(), "run", "-p", str(target.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        head = self.wait_attached(tc, target.pid)
        time.sleep(0.8)
        tc.send_signal(signal.SIGINT)
        _, err = tc.communicate(timeout=30)
        err = head + err
        self.assertEqual(tc.returncode, 0, err)
        self.assertIn(f"tracectl: Process {target.pid} detached", err)
        self.assertIn(self.marker, err, "the tree shows the attached process's syscalls")
        self.assertIsNone(target.poll(), "detaching must not kill the traced process")

    def test_attach_to_missing_pid(self):
        p = u.run([u.tracectl(), "run", "-p", "999999999"])
        self.assertNotEqual(p.returncode, 0)
        p = u.run([u.tracectl(), "run", "-p", "4194303"])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("no such process", p.stderr)

    def test_not_root_is_refused_clearly(self):
        p = u.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                   u.tracectl(), "run", "--", "true"])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("must run as root", p.stderr)

    def test_usage_errors_exit_2(self):
        for args in (["run"], ["run", "-e", "trace=nosuchcall", "--", "true"],
                     ["run", "--syscall-class", "bogus", "--", "true"], ["frobnicate"]):
            with self.subTest(args):
                p = u.run([u.tracectl()] + args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertTrue(p.stderr.strip())

    def test_help(self):
        p = u.run([u.tracectl(), "run", "--help"])
        self.assertEqual(p.returncode, 0)
        for flag in ("-f", "-p", "-e trace=", "--stats", "--output", "--otlp-endpoint",
                     "--trace-parent", "OTEL_EXPORTER_OTLP_ENDPOINT"):
            self.assertIn(flag, p.stdout)

    def test_ring_buffer_overflow_is_counted_and_reported(self):
        # One page holds a few dozen records; dd makes 400000 calls.
        out = os.path.join(self.tmp.name, "burst.jsonl")
        p = u.run([u.tracectl(), "run", "--ring-buffer-size", "4096", "--output", out, "--",
                   "dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=200000"])
        self.assertEqual(p.returncode, 0, p.stderr)  # the command's exit status
        m = re.search(r"^tracectl: (\d+) syscalls, .*; (\d+) events LOST: ring buffer full "
                      r"\(cpu\d+: \d+", p.stderr, re.MULTILINE)
        self.assertIsNotNone(m, p.stderr)
        syscalls, lost = int(m.group(1)), int(m.group(2))
        self.assertGreater(lost, 0)
        rw = sum(1 for _, s in read_spans(out) if s["name"] in ("read", "write"))
        # Every call of the burst is a span or counted as lost (the rest of
        # the lost records are dd's other calls and process records).
        self.assertGreaterEqual(rw + lost, 400000, p.stderr)
        self.assertLess(rw, 400000)
        self.assertLessEqual(rw, syscalls)
        for bad in ("3000", "12K", "2G", "x"):
            with self.subTest(bad):
                p = u.run([u.tracectl(), "run", "--ring-buffer-size", bad, "--", "true"])
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("--ring-buffer-size " + bad, p.stderr)

    def test_command_not_found_is_127(self):
        p = u.run([u.tracectl(), "run", "--", "no-such-command-anywhere"])
        self.assertEqual(p.returncode, 127)
        self.assertIn("no-such-command-anywhere", p.stderr)

    def test_syscall_selection_and_duration_filter(self):
        p = u.run([u.tracectl(), "run", "-e", "trace=openat", "--", "cat", "/etc/hostname"])
        self.assertEqual(p.returncode, 0, p.stderr)
        calls = [l for l in p.stderr.splitlines() if l.lstrip("│ ").startswith(("read(", "openat("))]
        self.assertTrue(calls)
        self.assertTrue(all("openat(" in l for l in calls), calls)
        p = u.run([u.tracectl(), "run", "--filter-duration-gt", "100000", "--",
                   "python3", "-c", "import time; time.sleep(0.3)"])
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = [l for l in p.stderr.splitlines() if " = " in l and "<" in l]
        self.assertTrue(lines, p.stderr[-2000:])
        for l in lines:
            self.assertGreater(float(l.rsplit("<", 1)[1].rstrip(">")), 0.1, l)


if __name__ == "__main__":
    unittest.main()
