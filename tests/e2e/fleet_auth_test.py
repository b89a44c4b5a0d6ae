"""Who may talk to the control plane, and what it does with bad requests: no
certificate, a certificate from another CA and a viewer starting a session
are refused; invalid policies (unknown syscall class, a comm over 15 bytes,
...), oversized and malformed requests get a clear error naming the field and
change nothing; the control plane and the agent keep serving afterwards."""

import os
import shutil
import unittest

import e2e_util as u
import fleet_util as fu


class FleetAuthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fleet = None
        if os.geteuid() != 0:
            return
        cls.fleet = fu.Fleet(nodes=("node-a",)).__enter__()
        try:
            cls.fleet.start_controlplane()
            cls.fleet.start_agent("node-a")
            cls.fleet.wait_connected(["node-a"])
        except BaseException:
            cls.fleet.close()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.fleet:
            cls.fleet.close()

    def setUp(self):
        u.require_root(self)
        self.f = self.fleet

    def tearDown(self):
        # Nothing above changed the sessions, and both daemons still serve.
        listed = self.f.tracectl("session", "list", "--all", user="viewer")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual(listed.stdout.splitlines()[1:], [], listed.stdout)
        status = self.f.tracectl("status", user="viewer")
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertTrue(self.f.agents()["node-a"]["connected"], status.stdout)

    def start(self, *args, user="operator", certs=None):
        return self.f.tracectl("session", "start", "--comm", "nothing-e2e", *args,
                               user=user, certs=certs)

    # ----- authentication and roles ----------------------------------------

    def test_no_certificate(self):
        # tracectl itself will not dial without certificates (exit 2, usage).
        p = u.run([u.tracectl(), "status", "--server", self.f.cp_addr])
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("no certificates", p.stderr)
        # A TLS client that trusts the server but has no certificate of its
        # own is refused in the handshake (TLS 1.3 "certificate required").
        # A gRPC call over HTTP/2 with curl (a client we did not write), the
        # server trusted: answered with a viewer certificate, refused without.
        body = os.path.join(self.f.tmp, "empty-grpc-frame")
        with open(body, "wb") as out:
            out.write(b"\0\0\0\0\0")  # uncompressed, 0 bytes: GetStatusRequest{}
        curl = ["curl", "-sS", "--http2", "--cacert", os.path.join(self.f.pki, "ca.pem"),
                "-H", "content-type: application/grpc", "-H", "te: trailers",
                "--data-binary", "@" + body, "-o", os.devnull, "-w", "%{http_code}",
                f"https://{self.f.cp_addr}/tracer.v1.ControlService/GetStatus"]
        viewer = os.path.join(self.f.pki, "viewer")
        p = u.run(curl + ["--cert", viewer + ".pem", "--key", viewer + ".key"], timeout=30)
        self.assertEqual((p.returncode, p.stdout), (0, "200"), p.stderr)
        p = u.run(curl, timeout=30)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertNotEqual(p.stdout, "200", p.stderr)

    def test_certificate_from_another_ca(self):
        other = os.path.join(self.f.tmp, "other-ca")
        self.assertEqual(self.f.certs("init", pki=other).returncode, 0)
        self.assertEqual(self.f.certs("issue", "--kind", "user", "--name", "admin",
                                      "--role", "admin", pki=other).returncode, 0)
        # Trust the real server, present the foreign admin certificate.
        shutil.copy(os.path.join(self.f.pki, "ca.pem"), os.path.join(other, "ca.pem"))
        p = self.f.tracectl("status", user="admin", certs=other)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("tracectl status: UNAVAILABLE", p.stderr)
        p = self.start(user="admin", certs=other)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("UNAVAILABLE", p.stderr)

    def test_viewer_cannot_start_or_stop_sessions(self):
        p = self.start(user="viewer")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("tracectl session start: PERMISSION_DENIED", p.stderr)
        p = self.f.tracectl("session", "stop", "s-0123456789abcdef", user="viewer")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("PERMISSION_DENIED", p.stderr)
        # An agent certificate is not a user either.
        os.symlink(os.path.join(self.f.pki, "node-a.pem"),
                   os.path.join(self.f.pki, "agent-as-user.pem"))
        os.symlink(os.path.join(self.f.pki, "node-a.key"),
                   os.path.join(self.f.pki, "agent-as-user.key"))
        p = self.f.tracectl("session", "list", user="agent-as-user")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("PERMISSION_DENIED", p.stderr)
        self.assertIn("StartSession", self.f.log("controlplane"))  # refusals are logged

    # ----- bad input ---------------------------------------------------------

    def test_tracectl_refuses_invalid_policy(self):
        p = self.f.tracectl("session", "start", "--comm", "a-comm-of-16-byt", user="operator")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--comm", p.stderr)
        p = self.start("--syscall-class", "nosuchclass")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--syscall-class", p.stderr)

    def test_controlplane_refuses_invalid_policy(self):
        # Straight to the RPC, past tracectl's own checks.
        cases = {
            'nodes { all: true } target { comm: "a-comm-of-16-byt" }':
                "session.target.comm: longer than 15 bytes",
            'nodes { all: true } target { comm: "x" } capture { syscall_classes: "nosuch" }':
                'session.capture.syscall_classes[0]: unknown syscall class "nosuch"',
            'nodes { all: true } target { comm: "x" } capture { syscalls: "openat" '
            'syscalls: "nosuchcall" }':
                'session.capture.syscalls[1]: unknown syscall "nosuchcall"',
            'nodes { all: true }': "session.target",
            'target { comm: "x" }': "session.nodes",
            'nodes { all: true } target { pid: 0 }': "session.target",
            'nodes { all: true } target { comm: "x" } sampling { sampler: TRACE_ID_RATIO '
            'ratio: 1.5 }': "session.sampling.ratio",
            'name: "%s" nodes { all: true } target { comm: "x" }' % ("n" * 200):
                "session.name: longer than 128 bytes",
        }
        for session, message in cases.items():
            with self.subTest(session=session[:60]):
                p = self.f.probe("--mode", "start_session", "--session", session,
                                 user="operator")
                self.assertEqual(p.returncode, 3, p.stdout + p.stderr)  # INVALID_ARGUMENT
                self.assertIn("INVALID_ARGUMENT: " + message, p.stdout)

    def test_oversized_and_malformed_requests(self):
        start = "/tracer.v1.ControlService/StartSession"
        # Over the control plane's receive limit (16 MiB + envelope).
        p = self.f.probe("--mode", "raw", "--method", start, "--fill_bytes", str(20 << 20),
                         user="operator")
        self.assertEqual(p.returncode, 8, p.stdout + p.stderr)  # RESOURCE_EXHAUSTED
        # Not a protobuf at all.
        p = self.f.probe("--mode", "raw", "--method", start, "--hex", "ffffffffff",
                         user="operator")
        self.assertNotEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"^(INTERNAL|INVALID_ARGUMENT): ")
        # A trace id of the wrong length: tracectl refuses it (usage, 2),
        # and so does the control plane.
        p = self.f.tracectl("traces", "show", "abcd", user="viewer")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("expected 32 hex digits", p.stderr)
        p = self.f.probe("--mode", "raw", "--method", "/tracer.v1.ControlService/GetTrace",
                         "--hex", "0a02abcd", user="viewer")  # trace_id: 2 bytes
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("INVALID_ARGUMENT: trace_id: must be 16 bytes, got 2", p.stdout)
        # An unknown method.
        p = self.f.probe("--mode", "raw", "--method", "/tracer.v1.ControlService/Nope",
                         "--hex", "", user="viewer")
        self.assertEqual(p.returncode, 12, p.stdout + p.stderr)  # UNIMPLEMENTED


if __name__ == "__main__":
    unittest.main()
