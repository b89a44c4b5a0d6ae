"""nginx (started by the test on a loopback port, daemon off, its worker
followed with -f) under `tracectl run --http`, driven by untraced clients:
keep-alive, a 10 MB body, HEAD, 404, pipelining, a chunked (gzip) response,
a client that disconnects mid-response. tshark on lo is the witness: every
request on the wire is exactly one SERVER span with the same method, path
and status."""

import collections
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import unittest

import e2e_util as u
import http_util as h

TEN_MB = 10 * 1024 * 1024


def recv_until_closed_or(sock, n_bytes, timeout=20.0):
    sock.settimeout(timeout)
    data = b""
    while len(data) < n_bytes:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class NginxTest(unittest.TestCase):
    def setUp(self):
        u.require_root(self)
        h.require_tools(self, "tshark", "curl", "/usr/sbin/nginx")
        self.tmp = h.tempdir("tracer-http-nginx-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        os.chmod(self.tmp, 0o755)  # nginx's worker runs as an unprivileged user
        self.www = os.path.join(self.tmp, "www")
        os.makedirs(self.www)
        with open(os.path.join(self.www, "small.txt"), "w") as f:
            f.write("small\n")
        with open(os.path.join(self.www, "a.txt"), "w") as f:
            f.write("a\n")
        with open(os.path.join(self.www, "b.txt"), "w") as f:
            f.write("b\n")
        # Compressible, so gzip answers with a chunked body.
        with open(os.path.join(self.www, "text.txt"), "w") as f:
            f.write("the quick brown fox jumps over the lazy dog\n" * 4000)
        with open(os.path.join(self.www, "big.bin"), "wb") as f:
            f.write(os.urandom(TEN_MB))

    def start_traced_nginx(self, port, out):
        ng = h.Nginx(self.www, port, self.tmp,
                     extra="gzip on; gzip_types text/plain; gzip_min_length 100;")
        argv = [u.tracectl(), "run", "-f", "--http", "--output", out, "--", *ng.argv()]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and h.stop(proc, signal.SIGKILL))
        try:
            h.wait_listening(port)
        except AssertionError:
            h.stop(proc, signal.SIGKILL)
            raise AssertionError(f"nginx did not start: {proc.stderr.read()} {ng.log()}")
        return ng, proc

    def stop_traced_nginx(self, ng, proc):
        # nginx's master is tracectl's child; SIGQUIT is its graceful stop.
        with open(os.path.join(self.tmp, "nginx.pid")) as f:
            master = int(f.read().strip())
        os.kill(master, signal.SIGQUIT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            h.stop(proc, signal.SIGKILL)
            raise
        return proc.returncode, err

    def test_nginx_exchanges_match_the_wire(self):
        port = h.free_port()
        out = os.path.join(self.tmp, "spans.json")
        base = f"http://127.0.0.1:{port}"
        with h.Tshark(port, self.tmp) as cap:
            ng, proc = self.start_traced_nginx(port, out)
            # Keep-alive: three requests on one connection (curl reuses it).
            p = u.run(["curl", "-sS", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
                       "-w", "%{num_connects}\n", f"{base}/a.txt", f"{base}/b.txt",
                       f"{base}/small.txt"])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.split(), ["1", "0", "0"], "curl did not reuse")
            # 10 MB body (nginx sends it with sendfile: counted, not copied).
            p = u.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{size_download}",
                       f"{base}/big.bin"])
            self.assertEqual(p.stdout, str(TEN_MB))
            # HEAD and 404.
            self.assertEqual(u.run(["curl", "-sS", "-I", "-o", "/dev/null", "-w", "%{http_code}",
                                    f"{base}/small.txt"]).stdout, "200")
            self.assertEqual(u.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                    f"{base}/nope.html"]).stdout, "404")
            # Chunked: gzip of a text file, body length unknown up front.
            p = u.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "-H",
                       "Accept-Encoding: gzip", f"{base}/text.txt"])
            self.assertIn("transfer-encoding: chunked", p.stdout.lower())
            # Pipelining: two requests written at once, two responses read.
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
                          b"GET /b.txt?pipelined=1 HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
                got = recv_until_closed_or(s, 1 << 20)
            self.assertEqual(got.count(b"HTTP/1.1 200 OK"), 2, got)
            # A client that disconnects mid-response: reads 64 KiB of 10 MB,
            # then resets the connection.
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"GET /big.bin?cut=1 HTTP/1.1\r\nHost: x\r\n\r\n")
                got = recv_until_closed_or(s, 65536)
                self.assertGreaterEqual(len(got), 1)
                # SO_LINGER {on, 0 s}: close() sends a reset.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # Still serving after that.
            self.assertEqual(u.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                    f"{base}/small.txt?after=1"]).stdout, "200")
            time.sleep(0.5)
            rc, err = self.stop_traced_nginx(ng, proc)
        self.assertEqual(rc, 0, err)

        wire = cap.exchanges()
        spans = h.spans_from_output(out)
        servers = h.http_spans(spans, port, h.SPAN_KIND_SERVER)
        self.assertEqual(len(wire), 11, wire)
        # The cut exchange is compared by method and path: whether its status
        # line reached the wire before the reset is timing.
        cut = [s for s in servers if s["attrs"].get("url.query") == "cut=1"]
        self.assertEqual(len(cut), 1, [h.exchange_key(s) for s in servers])
        whole_wire = [w for w in wire if w[1] != "/big.bin?cut=1"]
        whole_spans = [s for s in servers if s not in cut]
        self.assertEqual(collections.Counter(h.exchange_key(s) for s in whole_spans),
                         collections.Counter(whole_wire))
        self.assertEqual(h.http_spans(spans, port, h.SPAN_KIND_CLIENT), [])  # curl untraced

        by_path = {h.exchange_key(s)[1]: s for s in whole_spans}
        big = by_path["/big.bin"]["attrs"]
        self.assertEqual(big["http.response.status_code"], 200)
        self.assertEqual(big["http.response.body.size"], TEN_MB)
        self.assertNotIn("tracer.http.anomaly", big)
        head = [s for s in whole_spans if s["attrs"]["http.request.method"] == "HEAD"]
        self.assertEqual(len(head), 1)
        self.assertNotIn("http.response.body.size", {k: v for k, v in head[0]["attrs"].items()
                                                     if v not in (0, None)})
        self.assertEqual(by_path["/nope.html"]["attrs"]["http.response.status_code"], 404)
        text = by_path["/text.txt"]["attrs"]
        self.assertEqual(text["http.response.status_code"], 200)
        self.assertNotIn("tracer.http.anomaly", text)
        self.assertGreater(text.get("http.response.body.size", 0), 0)
        for path in ("/a.txt", "/b.txt?pipelined=1", "/small.txt?after=1"):
            self.assertNotIn("tracer.http.anomaly", by_path[path]["attrs"], path)

        # The reset one is there once, clearly marked.
        c = cut[0]
        self.assertEqual(c["attrs"]["http.request.method"], "GET")
        self.assertEqual(c["attrs"]["url.path"], "/big.bin")
        self.assertIn("tracer.http.anomaly", c["attrs"], c["attrs"])
        self.assertEqual(c.get("status", {}).get("code"), 2, c)

        # Spans sit under nginx's worker process span, in the run's trace.
        by_id = {s["spanId"]: s for s in spans}
        trace = [s for s in spans if not s.get("parentSpanId")][0]["traceId"]
        for s in servers:
            self.assertTrue(h.parent_chain_ok(s, by_id, trace))
            self.assertEqual(s["resource"]["process.executable.name"], "nginx")

    def test_non_http_server_on_the_port_makes_no_spans(self):
        port = h.free_port()
        out = os.path.join(self.tmp, "spans.json")
        server = f"""
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", {port}))
s.listen()
for _ in range(3):
    c, _ = s.accept()
    try:
        c.sendall(b"SSH-2.0-NotHttp_1.0\\r\\n")
        data = c.recv(4096)
        c.sendall(bytes(range(256)) * 8 + data[::-1])
    except OSError:
        pass  # the readiness probe's connection, closed at once
    c.close()
"""
        with h.Tshark(port, self.tmp) as cap:
            proc = subprocess.Popen([u.tracectl(), "run", "-f", "--http", "--output", out, "--",
                                     h.PYTHON, "-c", server],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            self.addCleanup(lambda: proc.poll() is None and h.stop(proc, signal.SIGKILL))
            h.wait_listening(port)  # the first of the three connections
            for payload in (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),
                            b"HELLO THERE / NOT-HTTP\r\n\r\n"):
                with socket.create_connection(("127.0.0.1", port)) as s:
                    s.recv(100)
                    s.sendall(payload)
                    recv_until_closed_or(s, 1 << 20)
            _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(cap.exchanges(), [])
        spans = h.spans_from_output(out)
        self.assertEqual(h.http_spans(spans), [])
        # The connections were traced (accept4/sendto spans) and the run ended
        # normally.
        self.assertTrue(any(s["name"] in ("accept", "accept4") for s in spans))
        self.assertIn("0 HTTP spans", err)


if __name__ == "__main__":
    unittest.main()
