"""HTTP capture through the daemons: a control plane and one agent
(tests/e2e/fleet_util), `tracectl session start --comm <server> --http`,
curl requests to a python http.server with that comm: the embedded store
holds one SERVER span per request tshark saw, with the same method, path and
status, under the session's resource."""

import collections
import json
import os
import shutil
import subprocess
import unittest

import e2e_util as u
import fleet_util
import http_util as h


def stored_http_spans(fleet):
    """SERVER/CLIENT spans in the control plane's store, as dicts with
    "attrs", "resource" and hex ids."""
    p = fleet.probe("--mode", "dump", user="viewer")
    if p.returncode != 0:
        raise AssertionError(f"control_probe dump: {p.stdout} {p.stderr}")
    out = []
    for line in p.stdout.splitlines():
        for rs in json.loads(line).get("resourceSpans", []):
            res = h.attrs(rs.get("resource", {}).get("attributes"))
            for ss in rs.get("scopeSpans", []):
                for s in ss.get("spans", []):
                    s = dict(s)
                    s["attrs"] = h.attrs(s.get("attributes"))
                    s["resource"] = res
                    for k in ("traceId", "spanId", "parentSpanId"):
                        s[k] = fleet_util.b64hex(s.get(k, ""))
                    out.append(s)
    return h.http_spans(out)


class SessionTest(unittest.TestCase):
    def setUp(self):
        u.require_root(self)
        h.require_tools(self, "tshark", "curl")

    def test_session_with_http_stores_server_spans(self):
        with fleet_util.Fleet(nodes=("node-a",)) as fleet:
            fleet.start_controlplane()
            fleet.start_agent("node-a")
            fleet.wait_connected(["node-a"])

            www = os.path.join(fleet.tmp, "www")
            os.makedirs(www)
            with open(os.path.join(www, "hello.txt"), "w") as f:
                f.write("hello\n")
            # The server's comm is this symlink's name (the kernel matches it
            # at exec).
            comm = f"hs{fleet.tag}"[:15]
            exe = os.path.join(fleet.tmp, comm)
            os.symlink(h.PYTHON, exe)

            sid = fleet.start_session("--comm", comm, "--http", "--syscall-class", "network",
                                      "--name", "http-e2e")
            fleet.wait_applied(sid, ["node-a"])
            shown = fleet.tracectl("session", "show", sid, user="viewer")
            self.assertEqual(shown.returncode, 0, shown.stderr)

            port = h.free_port()
            srv = subprocess.Popen([exe, "-m", "http.server", "--bind", "127.0.0.1",
                                    "--directory", www, str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.addCleanup(lambda: srv.poll() is None and h.stop(srv))
            h.wait_listening(port)
            base = f"http://127.0.0.1:{port}"
            with h.Tshark(port, fleet.tmp) as cap:
                for args in (["-o", "/dev/null", f"{base}/hello.txt"],
                             ["-o", "/dev/null", f"{base}/hello.txt?v=2"],
                             ["-o", "/dev/null", f"{base}/no/such/page"],
                             ["-I", "-o", "/dev/null", f"{base}/hello.txt"],
                             ["-o", "/dev/null", "-d", "x=1", f"{base}/submit"]):
                    p = u.run(["curl", "-sS", *args])
                    self.assertEqual(p.returncode, 0, p.stderr)
            wire = cap.exchanges()
            self.assertEqual(len(wire), 5, wire)
            self.assertIn(("GET", "/no/such/page", 404), wire)
            self.assertIn(("POST", "/submit", 501), wire)

            def on_port(spans):
                return [s for s in spans if s["attrs"].get("server.port") == port]

            fleet.wait_for(lambda: len(on_port(stored_http_spans(fleet))) >= len(wire), 60,
                           "the session's HTTP spans in the store")
            spans = on_port(stored_http_spans(fleet))
            self.assertTrue(all(h.kind(s) == h.SPAN_KIND_SERVER for s in spans), spans)
            self.assertEqual(collections.Counter(h.exchange_key(s) for s in spans),
                             collections.Counter(wire))
            for s in spans:
                self.assertEqual(s["resource"].get("tracer.session.id"), sid)
                self.assertEqual(s["resource"].get("host.name"), "node-a")
                self.assertEqual(s["resource"].get("process.pid"), srv.pid)
                self.assertEqual(len(s["traceId"]), 32)
                self.assertEqual(len(s["parentSpanId"]), 16)  # its process span

            h.stop(srv)
            stop = fleet.tracectl("session", "stop", sid, user="operator")
            self.assertEqual(stop.returncode, 0, stop.stderr)
            # The agent kept running through all of it.
            self.assertIsNone(fleet.procs["node-a"].poll(), fleet.log("node-a"))


if __name__ == "__main__":
    unittest.main()
