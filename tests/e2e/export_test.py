"""tracectl run exporting over OTLP/gRPC and OTLP/HTTP to a receiver built
from OpenTelemetry's own JavaScript packages and the official OTLP .proto
files (tests/peers), which decodes what we send with code we did not write.
Checks trace id, parent links, attributes and timestamps of the decoded
spans, that they equal what tracectl wrote to its own --output file, and that
a backend that is down gives a clear error and exit 69, not a hang."""

import json
import os
import subprocess
import tempfile
import time
import unittest

import e2e_util as u
from spans_test import attrs, read_spans

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"


class Receiver:
    def __init__(self, peers, workdir):
        self.out = os.path.join(workdir, "received.jsonl")
        self.log = os.path.join(workdir, "attempts.jsonl")
        ready = os.path.join(workdir, "ready.json")
        self.proc = subprocess.Popen(
            [u.runfile("tests/peers/otlp_receiver.sh"), peers, "--host", "127.0.0.1",
             "--grpc-port", "0", "--http-port", "0", "--out", self.out, "--log", self.log,
             "--ready-file", ready],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            if os.path.exists(ready) and os.path.getsize(ready) > 0:
                ports = json.load(open(ready))
                self.grpc, self.http = ports["grpc"], ports["http"]
                return
            if self.proc.poll() is not None:
                raise RuntimeError("receiver died: " + self.proc.stderr.read())
            time.sleep(0.05)
        raise RuntimeError("receiver not ready in 30 s")

    def spans(self):
        return read_spans(self.out) if os.path.exists(self.out) else []

    def attempts(self):
        if not os.path.exists(self.log):
            return []
        return [json.loads(l) for l in open(self.log) if l.strip()]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class ExportTest(unittest.TestCase):
    def setUp(self):
        u.require_root(self)
        peers = u.peers_dir(self)
        self.tmp = tempfile.TemporaryDirectory()
        self.rx = Receiver(peers, self.tmp.name)
        self.file = os.path.join(self.tmp.name, "own.jsonl")

    def tearDown(self):
        self.rx.stop()
        self.tmp.cleanup()

    def run_traced(self, flags, env_extra=None, cmd=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("OTEL_") and k not in ("TRACEPARENT", "TRACESTATE")}
        env.update(env_extra or {})
        cmd = cmd or ["sh", "-c", "cat /etc/hostname >/dev/null; ls /nonexistent-dir; exit 0"]
        t0 = time.time_ns()
        p = u.run([u.tracectl(), "run", "-f", "-q", *flags, "--"] + cmd, env=env, timeout=120)
        return p, t0, time.time_ns()

    def check_decoded(self, t0, t1, trace_id=None, parent=None):
        got = self.rx.spans()
        own = read_spans(self.file)
        self.assertGreater(len(got), 10)
        # What the receiver decoded with the official protos equals what we
        # wrote ourselves: same ids, names, parents, attributes, times, status.
        def key(rs):
            res, s = rs
            return (s["spanId"], s["traceId"], s.get("parentSpanId", ""), s["name"], s.get("kind"),
                    s["startTimeUnixNano"], s["endTimeUnixNano"],
                    json.dumps(attrs(s.get("attributes")), sort_keys=True),
                    json.dumps(s.get("status", {}), sort_keys=True),
                    res.get("service.name"), res.get("process.pid"))
        self.assertEqual(sorted(map(key, got)), sorted(map(key, own)))

        traces = {s["traceId"] for _, s in got}
        self.assertEqual(len(traces), 1)
        if trace_id:
            self.assertEqual(traces, {trace_id})
        ids = {s["spanId"] for _, s in got}
        roots = [s for _, s in got if s.get("parentSpanId", "") in ("", parent)]
        self.assertEqual(len(roots), 1, "exactly one root process span")
        if parent:
            self.assertEqual(roots[0].get("parentSpanId"), parent)
        for _, s in got:
            if s is not roots[0]:
                self.assertIn(s["parentSpanId"], ids, "every parent link resolves")
            self.assertLessEqual(t0 - 50_000_000, int(s["startTimeUnixNano"]))
            self.assertLessEqual(int(s["endTimeUnixNano"]), t1 + 50_000_000)
        failed = [s for _, s in got if s["name"] in ("openat", "newfstatat", "statx", "stat", "lstat")
                  and "nonexistent-dir" in attrs(s["attributes"]).get("syscall.args", "")]
        self.assertTrue(failed)
        self.assertEqual(failed[0]["status"], {"code": 2, "message": "ENOENT"})

    def test_grpc(self):
        p, t0, t1 = self.run_traced(["--otlp-endpoint", f"http://127.0.0.1:{self.rx.grpc}",
                                     "--output", self.file])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_decoded(t0, t1)
        self.assertTrue(all(a.get("transport") == "grpc" for a in self.rx.attempts()))

    def test_http_protobuf_with_headers(self):
        p, t0, t1 = self.run_traced(["--otlp-protocol", "http", "--otlp-endpoint",
                                     f"http://127.0.0.1:{self.rx.http}", "--output", self.file,
                                     "--otlp-headers", "x-api-key=s3cret"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_decoded(t0, t1)
        attempts = self.rx.attempts()
        self.assertTrue(attempts)
        for a in attempts:
            self.assertEqual(a["headers"].get("content-type"), "application/x-protobuf")
            self.assertEqual(a["headers"].get("x-api-key"), "s3cret")

    def test_environment_variables_and_traceparent(self):
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{self.rx.http}",
               "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
               "OTEL_SERVICE_NAME": "checkout",
               "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "16",
               "TRACEPARENT": f"00-{TRACE_ID}-{PARENT_ID}-01"}
        p, t0, t1 = self.run_traced(["--output", self.file], env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.check_decoded(t0, t1, TRACE_ID, PARENT_ID)
        self.assertEqual({r["service.name"] for r, _ in self.rx.spans()}, {"checkout"})
        attempts = self.rx.attempts()
        self.assertGreater(len(attempts), 2)

    def test_unsampled_parent_exports_nothing(self):
        env = {"TRACEPARENT": f"00-{TRACE_ID}-{PARENT_ID}-00"}
        p, _, _ = self.run_traced(["--otlp-endpoint", f"http://127.0.0.1:{self.rx.grpc}"], env)
        self.assertEqual(p.returncode, 0, p.stderr)
        time.sleep(0.3)
        self.assertEqual(self.rx.spans(), [])
        self.assertEqual(self.rx.attempts(), [])

    def test_backend_down_is_a_clear_error_not_a_hang(self):
        self.rx.stop()
        for proto, port in (("grpc", self.rx.grpc), ("http", self.rx.http)):
            with self.subTest(proto):
                t = time.time()
                p, _, _ = self.run_traced(["--otlp-protocol", proto, "--otlp-endpoint",
                                           f"http://127.0.0.1:{port}"], cmd=["true"])
                self.assertEqual(p.returncode, 69, p.stderr)
                self.assertIn("export failed", p.stderr)
                self.assertIn(str(port), p.stderr)
                self.assertLess(time.time() - t, 30)

    def test_command_exit_code_wins_over_export_failure(self):
        self.rx.stop()
        p, _, _ = self.run_traced(["--otlp-endpoint", f"http://127.0.0.1:{self.rx.grpc}"],
                                  cmd=["sh", "-c", "exit 3"])
        self.assertEqual(p.returncode, 3)


if __name__ == "__main__":
    unittest.main()
