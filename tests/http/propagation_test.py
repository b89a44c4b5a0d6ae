"""W3C trace context across the wire: a Node.js client instrumented with the
real OpenTelemetry JavaScript SDK (sdk-trace-node + instrumentation-http)
calls a python server traced by `tracectl run --http`; the kernel-side SERVER
span's trace id is the SDK's and its parent is the SDK's CLIENT span."""

import json
import os
import shutil
import signal
import subprocess
import unittest

import e2e_util as u
import http_util as h

SERVER = r"""
import http.server, os, sys
os.chdir(sys.argv[2])
class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


class PropagationTest(unittest.TestCase):
    def setUp(self):
        u.require_root(self)
        self.node_path = h.peers_node_path(self)
        self.tmp = h.tempdir("tracer-http-prop-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        with open(os.path.join(self.tmp, "index.html"), "w") as f:
            f.write("<p>hi</p>\n")
        self.client = u.runfile("tests/http/otel_client.js")

    def sdk_client(self, urls):
        env = dict(os.environ, NODE_PATH=self.node_path)
        p = u.run(["node", self.client, *urls], env=env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]

    def test_server_span_is_a_child_of_the_sdk_client_span(self):
        port = h.free_port()
        out = os.path.join(self.tmp, "spans.json")
        proc = subprocess.Popen([u.tracectl(), "run", "-f", "--http", "--output", out, "--",
                                 h.PYTHON, "-c", SERVER, str(port), self.tmp],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and h.stop(proc, signal.SIGKILL))
        h.wait_listening(port)
        base = f"http://127.0.0.1:{port}"
        sdk = self.sdk_client([f"{base}/index.html", f"{base}/missing?q=1"])
        self.assertEqual(len(sdk), 2, sdk)
        # The python server is tracectl's child: SIGTERM ends it, and the run.
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
            children = [int(c) for c in f.read().split()]
        self.assertEqual(len(children), 1, children)
        os.kill(children[0], signal.SIGTERM)
        _, err = proc.communicate(timeout=60)

        spans = h.spans_from_output(out)
        servers = h.http_spans(spans, port, h.SPAN_KIND_SERVER)
        self.assertEqual(len(servers), 2, err)
        run_trace = [s for s in spans if not s.get("parentSpanId")][0]["traceId"]
        by_path = {s["attrs"]["url.path"]: s for s in servers}
        for c in sdk:
            path = "/" + c["url"].split("/", 3)[3].split("?")[0]
            s = by_path[path]
            self.assertEqual(s["traceId"], c["trace_id"], (s, c))
            self.assertEqual(s["parentSpanId"], c["span_id"], (s, c))
            self.assertNotEqual(s["traceId"], run_trace)
            self.assertEqual(s["attrs"]["http.response.status_code"], c["status"])
            self.assertEqual(s.get("flags", 0) & 1, 1)
        self.assertEqual(by_path["/index.html"]["attrs"]["http.response.status_code"], 200)
        self.assertEqual(by_path["/missing"]["attrs"]["http.response.status_code"], 404)

    def test_sdk_client_traced_too_carries_its_own_context(self):
        """The SDK-instrumented node process itself under trace: its kernel-side
        CLIENT span and the server's SERVER span both exist; the SERVER span
        still follows the traceparent on the wire (the SDK's span)."""
        port = h.free_port()
        out = os.path.join(self.tmp, "spans.json")
        script = (f'{h.PYTHON} -c "$0" {port} {self.tmp} & srv=$!; '
                  f'for i in $(seq 1 300); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null '
                  f'&& break; sleep 0.05; done; '
                  f'node {self.client} http://127.0.0.1:{port}/index.html > {self.tmp}/sdk.json; '
                  f'rc=$?; kill $srv; wait $srv; exit $rc')
        env = dict(os.environ, NODE_PATH=self.node_path)
        p = h.run_traced(["bash", "-c", script, SERVER], out, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp, "sdk.json")) as f:
            sdk = [json.loads(line) for line in f if line.strip()]
        self.assertEqual(len(sdk), 1)
        spans = h.spans_from_output(out)
        servers = h.http_spans(spans, port, h.SPAN_KIND_SERVER)
        clients = h.http_spans(spans, port, h.SPAN_KIND_CLIENT)
        self.assertEqual(len(servers), 1)
        self.assertEqual(len(clients), 1)
        self.assertEqual(servers[0]["traceId"], sdk[0]["trace_id"])
        self.assertEqual(servers[0]["parentSpanId"], sdk[0]["span_id"])
        self.assertEqual(clients[0]["resource"]["process.executable.name"], "node")
        self.assertEqual(clients[0]["attrs"]["url.full"], f"http://127.0.0.1:{port}/index.html")


if __name__ == "__main__":
    unittest.main()
