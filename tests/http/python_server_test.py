"""`tracectl run -f --http --output FILE` over a shell script that starts
`python3 -m http.server` on a loopback port and drives it with curl: every
request tshark sees on that port is exactly one SERVER span and one CLIENT
span with the same method, path and status, inside the run's trace."""

import collections
import os
import shutil
import unittest

import e2e_util as u
import http_util as h

SCRIPT = r"""
set -u
port="$1"; dir="$2"
{python} -m http.server --bind 127.0.0.1 --directory "$dir" "$port" >/dev/null 2>&1 &
srv=$!
# Wait for the listener without connecting to it.
for i in $(seq 1 300); do
  [ -n "$(ss -ltnH "sport = :$port")" ] && break
  sleep 0.05
done
base="http://127.0.0.1:$port"
curl -sS -o /dev/null "$base/"
curl -sS -o /dev/null "$base/hello.txt"
curl -sS -o /dev/null "$base/hello.txt?lang=en&x=1"
curl -sS -o /dev/null "$base/missing/page"
curl -sS -o /dev/null -I "$base/hello.txt"
curl -sS -o /dev/null -d 'a=1' "$base/form"
curl -sS -o /dev/null "$base/sub/" "$base/sub/deep.txt"
kill "$srv"
wait "$srv" 2>/dev/null
exit 0
"""


class PythonServerTest(unittest.TestCase):
    def setUp(self):
        u.require_root(self)
        h.require_tools(self, "tshark", "curl")
        self.tmp = h.tempdir("tracer-http-py-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.www = os.path.join(self.tmp, "www")
        os.makedirs(os.path.join(self.www, "sub"))
        with open(os.path.join(self.www, "hello.txt"), "w") as f:
            f.write("hello\n")
        with open(os.path.join(self.www, "sub", "deep.txt"), "w") as f:
            f.write("deep\n" * 100)
        self.script = os.path.join(self.tmp, "drive.sh")
        with open(self.script, "w") as f:
            f.write(SCRIPT.format(python=h.PYTHON))

    def test_every_request_on_the_wire_is_one_server_and_one_client_span(self):
        port = h.free_port()
        out = os.path.join(self.tmp, "spans.json")
        with h.Tshark(port, self.tmp) as cap:
            p = h.run_traced(["bash", self.script, str(port), self.www], out)
        self.assertEqual(p.returncode, 0, p.stderr)
        # Every connection was followed from its open (none re-created from
        # its data with a guessed role and no addresses).
        self.assertNotIn("without their open", p.stderr)
        wire = cap.exchanges()
        # The script's requests, as tshark decoded them (HEAD and POST too).
        self.assertEqual(len(wire), 8, wire)
        self.assertIn(("HEAD", "/hello.txt", 200), wire)
        self.assertIn(("GET", "/missing/page", 404), wire)
        self.assertIn(("POST", "/form", 501), wire)
        self.assertIn(("GET", "/hello.txt?lang=en&x=1", 200), wire)

        spans = h.spans_from_output(out)
        servers = h.http_spans(spans, port, h.SPAN_KIND_SERVER)
        clients = h.http_spans(spans, port, h.SPAN_KIND_CLIENT)
        want = collections.Counter(wire)
        self.assertEqual(collections.Counter(h.exchange_key(s) for s in servers), want)
        self.assertEqual(collections.Counter(h.exchange_key(s) for s in clients), want)

        for c in clients:
            a = c["attrs"]
            _, target, _ = h.exchange_key(c)
            self.assertEqual(a["url.full"], f"http://127.0.0.1:{port}{target}")
            self.assertEqual(a["server.port"], port)
            self.assertEqual(a["server.address"], "127.0.0.1")
            self.assertEqual(c["resource"]["process.executable.name"], "curl")
            self.assertTrue(a["user_agent.original"].startswith("curl/"))
        for s in servers:
            a = s["attrs"]
            self.assertEqual(a["server.port"], port)
            # Every accepted connection is known from its open record, so
            # both ends are on the span (a Tick between the open and the
            # first bytes used to forget the connection now and then).
            self.assertEqual(a.get("client.address"), "127.0.0.1", a)
            self.assertEqual(a.get("network.peer.address"), "127.0.0.1", a)
            self.assertIsInstance(a.get("client.port"), int, a)
            self.assertIn("python3", s["resource"]["process.executable.name"])
            self.assertNotIn("tracer.http.anomaly", a)
            # 5xx is an error on servers; 404 is not.
            code = a["http.response.status_code"]
            self.assertEqual(s.get("status", {}).get("code", 0) == 2, code >= 500, s)

        # Every HTTP span hangs off its process span, inside the run's trace.
        by_id = {s["spanId"]: s for s in spans}
        roots = [s for s in spans if not s.get("parentSpanId")]
        self.assertEqual(len(roots), 1, [r["name"] for r in roots])
        trace = roots[0]["traceId"]
        for s in servers + clients:
            self.assertTrue(h.parent_chain_ok(s, by_id, trace), s)
            parent = by_id[s["parentSpanId"]]
            self.assertEqual(parent["attrs"].get("process.pid"), s["resource"]["process.pid"])

        # The terminal summary counts them.
        self.assertIn(f"{len(servers) + len(clients)} HTTP spans ({len(servers)} server)",
                      p.stderr)

    def test_no_http_builds_no_http_spans(self):
        port = h.free_port()
        out = os.path.join(self.tmp, "spans.json")
        p = h.run_traced(["bash", self.script, str(port), self.www], out, extra=["--no-http"])
        self.assertEqual(p.returncode, 0, p.stderr)
        spans = h.spans_from_output(out)
        self.assertEqual(h.http_spans(spans), [])
        self.assertTrue(any(s["name"] == "connect" for s in spans))

    def test_trace_none_gives_http_spans_without_syscall_spans(self):
        # strace's -e trace=none: only process spans, plus HTTP with --http.
        port = h.free_port()
        out = os.path.join(self.tmp, "spans.json")
        p = h.run_traced(["bash", self.script, str(port), self.www], out,
                         extra=["-e", "trace=none"])
        self.assertEqual(p.returncode, 0, p.stderr)
        spans = h.spans_from_output(out)
        http = h.http_spans(spans, port=port)
        self.assertTrue(http, p.stderr[-2000:])
        others = [s for s in spans if s not in http]
        # What is left are the process spans: no syscall span at all.
        self.assertTrue(others)
        self.assertEqual([s["name"] for s in others if "syscall.name" in s["attrs"]], [])

    def test_tree_shows_http_lines(self):
        port = h.free_port()
        p = u.run([u.tracectl(), "run", "-f", "-e", "trace=%network", "--", "bash", self.script,
                   str(port), self.www], timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("⇄ HTTP server GET /missing/page -> 404 (", p.stderr)
        self.assertIn(f"⇄ HTTP client GET http://127.0.0.1:{port}/hello.txt -> 200 (", p.stderr)
        self.assertIn("⇄ HTTP server POST /form -> 501 (", p.stderr)


if __name__ == "__main__":
    unittest.main()
