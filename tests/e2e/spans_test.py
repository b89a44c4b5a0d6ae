"""tracectl run's spans, read back from its OTLP JSON file output: the span
model (resource, process and syscall spans, parent links, errno status,
timestamps in the command's wall-clock window) and W3C trace context."""

import json
import os
import tempfile
import time
import unittest

import e2e_util as u

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


def attrs(kvs):
    out = {}
    for kv in kvs or []:
        v = kv.get("value", {})
        out[kv["key"]] = next(iter(v.values())) if v else None
    return out


def read_spans(path):
    """[(resource attributes, span)] from an OTLP JSON lines file."""
    spans = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            req = json.loads(line)
            for rs in req.get("resourceSpans", []):
                res = attrs(rs.get("resource", {}).get("attributes"))
                for ss in rs.get("scopeSpans", []):
                    for s in ss.get("spans", []):
                        spans.append((res, s))
    return spans


class SpansTest(unittest.TestCase):
    def setUp(self):
        u.require_root(self)
        self.tmp = tempfile.TemporaryDirectory()
        self.out = os.path.join(self.tmp.name, "spans.jsonl")

    def tearDown(self):
        self.tmp.cleanup()

    def trace(self, cmd, env_extra=None, flags=()):
        env = dict(os.environ)
        env.pop("TRACEPARENT", None)
        env.update(env_extra or {})
        t0 = time.time_ns()
        p = u.run([u.tracectl(), "run", "-f", "--output", self.out, *flags, "--"] + cmd, env=env)
        t1 = time.time_ns()
        return p, t0, t1

    def test_span_model(self):
        p, t0, t1 = self.trace(
            ["sh", "-c", "cat /etc/hostname >/dev/null; cat /nonexistent-x; exit $?"])
        self.assertEqual(p.returncode, 1, p.stderr)  # cat's exit code
        spans = read_spans(self.out)
        self.assertGreater(len(spans), 20)
        ids = {s["spanId"] for _, s in spans}
        trace_ids = {s["traceId"] for _, s in spans}
        self.assertEqual(len(trace_ids), 1)
        self.assertEqual(len(ids), len(spans), "span ids must be unique")

        procs = [(r, s) for r, s in spans if "syscall.name" not in attrs(s.get("attributes"))]
        sysc = [(r, s) for r, s in spans if "syscall.name" in attrs(s.get("attributes"))]
        # sh + two cats (forked children) = 3 process spans.
        self.assertEqual(len(procs), 3, [s["name"] for _, s in procs])
        roots = [s for _, s in procs if not s.get("parentSpanId")]
        self.assertEqual(len(roots), 1)
        root = roots[0]
        self.assertEqual(root["name"], "sh")
        for res, s in procs:
            if s is not root:
                self.assertEqual(s["parentSpanId"], root["spanId"])
                self.assertEqual(s["name"], "cat")
                self.assertEqual(res["service.name"], "cat")
            self.assertIn("process.pid", res)
            self.assertIn("host.name", res)
            self.assertIn("process.exit.code", attrs(s.get("attributes")))

        proc_ids = {s["spanId"] for _, s in procs}
        for res, s in sysc:
            a = attrs(s["attributes"])
            self.assertEqual(s["name"], a["syscall.name"])
            self.assertIn(s["parentSpanId"], proc_ids)
            for k in ("syscall.number", "syscall.args", "syscall.result",
                      "syscall.duration_us", "thread.id"):
                self.assertIn(k, a)
            start, end = int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"])
            self.assertLessEqual(t0 - 50_000_000, start)
            self.assertLessEqual(start, end)
            self.assertLessEqual(end, t1 + 50_000_000)

        opens = [s for _, s in sysc
                 if s["name"] == "openat" and "/etc/hostname" in attrs(s["attributes"])["syscall.args"]]
        self.assertEqual(len(opens), 1)
        self.assertIn('AT_FDCWD, "/etc/hostname", O_RDONLY', attrs(opens[0]["attributes"])["syscall.args"])
        missing = [s for _, s in sysc
                   if s["name"] == "openat" and "nonexistent-x" in attrs(s["attributes"])["syscall.args"]]
        self.assertEqual(len(missing), 1)
        self.assertEqual(missing[0]["status"].get("code"), 2)
        self.assertEqual(missing[0]["status"].get("message"), "ENOENT")

    def test_traceparent_joins_trace(self):
        tp = f"00-{TRACE_ID}-{PARENT_ID}-01"
        p, _, _ = self.trace(["sh", "-c", "true"], {"TRACEPARENT": tp})
        self.assertEqual(p.returncode, 0, p.stderr)
        spans = read_spans(self.out)
        self.assertTrue(spans)
        self.assertEqual({s["traceId"] for _, s in spans}, {TRACE_ID})
        roots = [s for _, s in spans if s.get("parentSpanId") == PARENT_ID]
        self.assertEqual(len(roots), 1)
        self.assertEqual(roots[0]["name"], "sh")

    def test_trace_parent_flag_wins_over_env(self):
        other = "00-11111111111111111111111111111111-2222222222222222-01"
        p, _, _ = self.trace(["true"], {"TRACEPARENT": other},
                             flags=("--trace-parent", f"00-{TRACE_ID}-{PARENT_ID}-01"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual({s["traceId"] for _, s in read_spans(self.out)}, {TRACE_ID})

    def test_unsampled_parent_exports_nothing_but_prints(self):
        tp = f"00-{TRACE_ID}-{PARENT_ID}-00"
        p, _, _ = self.trace(["cat", "/etc/hostname"], {"TRACEPARENT": tp})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(read_spans(self.out) if os.path.exists(self.out) else [], [])
        env = dict(os.environ, TRACEPARENT=tp)
        p = u.run([u.tracectl(), "run", "--", "cat", "/etc/hostname"], env=env)
        self.assertEqual(p.returncode, 0)
        self.assertIn('"/etc/hostname"', p.stderr)
        self.assertIn("not sampled", p.stderr)

    def test_malformed_traceparent_rejected(self):
        bad = {
            "version ff": f"ff-{TRACE_ID}-{PARENT_ID}-01",
            "all-zero trace id": f"00-{'0' * 32}-{PARENT_ID}-01",
            "all-zero parent id": f"00-{TRACE_ID}-{'0' * 16}-01",
            "short trace id": f"00-{TRACE_ID[:-2]}-{PARENT_ID}-01",
            "non-hex": f"00-{TRACE_ID[:-1]}g-{PARENT_ID}-01",
        }
        for what, tp in bad.items():
            with self.subTest(what):
                p = u.run([u.tracectl(), "run", "--trace-parent", tp, "--", "true"])
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("invalid trace parent", p.stderr)


if __name__ == "__main__":
    unittest.main()
