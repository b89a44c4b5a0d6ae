"""tracectl run against an OTLP backend that is down keeps the run's
write-ahead log, says where it is and which `tracectl resend` command sends
it, and exits 69; once the backend is up, that command delivers every span
exactly once (checked against the run's own --output file) and removes the
log's directory. Both OTLP/gRPC and OTLP/HTTP, with the receiver built from
OpenTelemetry's JavaScript packages (tests/peers)."""

import glob
import os
import re
import shlex
import tempfile
import unittest
from collections import Counter

import e2e_util as u
import receiver_util as rx
from spans_test import read_spans

RESEND = re.compile(r"^\s*(tracectl resend .+)$", re.M)
KEPT = re.compile(r"the spans are kept in (\S+) ")


class ResendTest(unittest.TestCase):
    def setUp(self):
        u.require_root(self)
        self.peers = rx.peers_dir(self)
        self.tmp = tempfile.TemporaryDirectory()
        self.receiver = rx.Receiver(self.peers, self.tmp.name, "backend")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("OTEL_") and k not in ("TRACEPARENT", "TRACESTATE")}
        # Gives up on the down backend after 2 s + 6 s without progress.
        self.env["OTEL_EXPORTER_OTLP_TIMEOUT"] = "2000"

    def tearDown(self):
        self.receiver.stop()
        self.tmp.cleanup()

    def check_round_trip(self, protocol, endpoint):
        name = protocol.replace("/", "-")
        data_dir = os.path.join(self.tmp.name, f"runs-{name}")
        own = os.path.join(self.tmp.name, f"own-{name}.jsonl")
        # The backend is down for the whole run.
        p = u.run([u.tracectl(), "run", "-f", "-q", "--data-dir", data_dir,
                   "--otlp-protocol", protocol, "--otlp-endpoint", endpoint, "--output", own,
                   "--", "sh", "-c", "cat /etc/hostname >/dev/null; ls / >/dev/null; exit 0"],
                  env=self.env, timeout=120)
        self.assertEqual(p.returncode, 69, p.stderr)
        self.assertIn("export failed", p.stderr)
        kept = KEPT.search(p.stderr)
        self.assertIsNotNone(kept, p.stderr)
        wal_dir = kept.group(1)
        self.assertEqual(glob.glob(os.path.join(data_dir, "run-*")), [wal_dir])
        self.assertTrue(os.path.isdir(wal_dir))
        command = RESEND.search(p.stderr)
        self.assertIsNotNone(command, p.stderr)
        argv = shlex.split(command.group(1))
        self.assertEqual(argv[:2], ["tracectl", "resend"])
        self.assertEqual(argv[-1], wal_dir)
        self.assertEqual(self.receiver.span_ids(), [])

        sent = [s["spanId"] for _, s in read_spans(own)]
        self.assertGreater(len(sent), 10)

        # The backend is back: the printed command sends the log.
        self.receiver.start()
        r = u.run([u.tracectl(), *argv[1:]], env=self.env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{len(sent)} spans sent in", r.stderr)
        self.assertIn("every span delivered", r.stderr)
        self.assertFalse(os.path.exists(wal_dir))
        received = self.receiver.span_ids()
        self.assertEqual(Counter(received), Counter(sent))  # every span, exactly once
        self.assertEqual(len(received), len(set(received)))

        # Nothing left to send: the directory is gone, resend says so.
        again = u.run([u.tracectl(), *argv[1:]], env=self.env, timeout=60)
        self.assertEqual(again.returncode, 1, again.stderr)
        self.assertIn("not the write-ahead log", again.stderr)
        self.receiver.stop()

    def test_grpc(self):
        self.check_round_trip("grpc", self.receiver.grpc_endpoint)

    def test_http_protobuf(self):
        self.check_round_trip("http/protobuf", self.receiver.http_endpoint + "/v1/traces")


if __name__ == "__main__":
    unittest.main()
