"""Helpers of the HTTP flow end-to-end tests: loopback ports, a tshark
capture of one port as the independent witness of what went over the wire,
`tracectl run --http --output FILE` and the HTTP spans of its OTLP JSON
output, nginx with a throw-away configuration, and the OpenTelemetry
JavaScript SDK's client (tests/peers)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import e2e_util as u

PYTHON = "/usr/bin/python3"  # not a wrapper script: the traced comm is python3
SPAN_KIND_SERVER = 2
SPAN_KIND_CLIENT = 3


free_port = u.free_port


def wait_listening(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def stop(p: subprocess.Popen, sig=signal.SIGTERM, timeout=20):
    """Ends a process this test started (by its pid), then reaps it."""
    if p.poll() is None:
        try:
            os.kill(p.pid, sig)
        except ProcessLookupError:
            pass
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        return p.wait(10)


def require_tools(test: unittest.TestCase, *tools) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = f"missing Debian packages' tools: {', '.join(missing)}"
        if u.IN_CI:
            test.fail(msg)
        test.skipTest(f"SKIP: {msg} (tools/setup/install-deps.sh installs them); not in CI")


class Tshark:
    """A tshark capture of 127.0.0.1 traffic on one TCP port, into a pcap
    file; requests()/responses() decode it after stop()."""

    def __init__(self, port: int, workdir: str):
        self.port = port
        self.pcap = os.path.join(workdir, f"lo-{port}.pcap")
        self.proc = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            ["tshark", "-i", "lo", "-f", f"tcp port {self.port}", "-w", self.pcap, "-q"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # tshark says "Capturing on 'Loopback: lo'" once the capture runs.
        deadline = time.monotonic() + 20
        seen = ""
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            seen += line
            if "Capturing on" in line:
                # The message comes a moment before packets are taken.
                time.sleep(1.0)
                return self
            if not line and self.proc.poll() is not None:
                break
        raise AssertionError(f"tshark did not start: {seen}")

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc is not None:
            time.sleep(0.3)  # let the last packets reach the capture
            stop(self.proc, signal.SIGINT)
            self.proc.stderr.close()
            self.proc = None

    def _fields(self, display_filter, *fields, desegment_body=True):
        p = u.run(["tshark", "-r", self.pcap, "-o", f"http.tcp.port:{self.port}",
                   "-o", f"http.desegment_body:{'TRUE' if desegment_body else 'FALSE'}",
                   "-Y", display_filter, "-T", "fields", "-E", "separator=\t",
                   "-E", "occurrence=a", "-E", "aggregator=,",
                   *[a for f in fields for a in ("-e", f)]], timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"tshark -r: {p.stderr}")
        return [line.split("\t") for line in p.stdout.splitlines() if line.strip()]

    def exchanges(self):
        """[(method, uri, status)] per request seen on the wire, in order per
        connection; status is None when no response was seen for it.
        HTTP/1.x answers in request order, so requests and responses of a
        connection are paired in order (tshark does not link a pipelined
        request's response itself). Pipelined requests (several in one
        segment) are each listed."""
        streams = []  # connection order
        reqs = {}     # tcp.stream -> [(method, uri)]
        for row in self._fields("http.request", "tcp.stream", "http.request.method",
                                "http.request.uri"):
            stream, methods, uris = (row + ["", "", ""])[:3]
            if stream not in reqs:
                streams.append(stream)
            reqs.setdefault(stream, []).extend(zip(methods.split(","), uris.split(",")))
        # Bodies reassembled, tshark finds responses that follow a body in
        # one segment (pipelining); not reassembled, it finds the status line
        # of a body too large for its reassembly (10 MB). Both are asked.
        codes = {}  # tcp.stream -> [status]
        for desegment in (True, False):
            found = {}
            for row in self._fields("http.response", "tcp.stream", "http.response.code",
                                    desegment_body=desegment):
                if len(row) >= 2:
                    found.setdefault(row[0], []).extend(int(c) for c in row[1].split(","))
            for stream, cs in found.items():
                if len(cs) > len(codes.get(stream, [])):
                    codes[stream] = cs
        out = []
        for stream in streams:
            cs = codes.get(stream, [])
            for i, (m, uri) in enumerate(reqs[stream]):
                out.append((m, uri, cs[i] if i < len(cs) else None))
        return out


def spans_from_output(path: str):
    """The spans of a --output file (OTLP JSON lines) as dicts: the span's
    fields plus "attrs" (its attributes) and "resource" (its resource's)."""
    out = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            for rs in json.loads(line).get("resourceSpans", []):
                res = attrs(rs.get("resource", {}).get("attributes"))
                for ss in rs.get("scopeSpans", []):
                    for s in ss.get("spans", []):
                        s = dict(s)
                        s["attrs"] = attrs(s.get("attributes"))
                        s["resource"] = res
                        out.append(s)
    return out


def attrs(kvs):
    out = {}
    for kv in kvs or []:
        v = kv.get("value", {})
        if "intValue" in v:
            out[kv["key"]] = int(v["intValue"])
        elif v:
            out[kv["key"]] = next(iter(v.values()))
        else:
            out[kv["key"]] = None
    return out


def kind(s) -> int:
    k = s.get("kind", 0)
    if isinstance(k, str):
        return {"SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3}.get(k, 1)
    return k


def http_spans(spans, port=None, kind_=None):
    """HTTP spans (SERVER or CLIENT), optionally only those of `port`
    (server.port) and of one kind."""
    out = []
    for s in spans:
        k = kind(s)
        if k not in (SPAN_KIND_SERVER, SPAN_KIND_CLIENT):
            continue
        if kind_ is not None and k != kind_:
            continue
        if port is not None and s["attrs"].get("server.port") != port:
            continue
        out.append(s)
    return out


def exchange_key(s):
    """(method, path-and-query, status) of an HTTP span, comparable with
    Tshark.exchanges()."""
    a = s["attrs"]
    if kind(s) == SPAN_KIND_SERVER:
        target = a.get("url.path", "")
        if a.get("url.query"):
            target += "?" + a["url.query"]
    else:
        rest = a.get("url.full", "").split("://", 1)[-1]
        slash = rest.find("/")
        target = rest[slash:] if slash >= 0 else "/"
    return (a.get("http.request.method"), target, a.get("http.response.status_code"))


def run_traced(command, output, extra=(), timeout=180, env=None):
    """tracectl run -f --http --output OUTPUT [extra] -- command; returns the
    CompletedProcess."""
    args = [u.tracectl(), "run", "-f", "--http", "--output", output, *extra, "--", *command]
    return u.run(args, timeout=timeout, env=env)


def parent_chain_ok(span, by_id, root_trace):
    """True when `span`'s parents, followed through `by_id`, stay in
    `root_trace` and end at a span without parent (the run's root)."""
    seen = 0
    s = span
    while s.get("parentSpanId"):
        if s["traceId"] != root_trace:
            return False
        s = by_id.get(s["parentSpanId"])
        if s is None:
            return False
        seen += 1
        if seen > 1000:
            return False
    return s["traceId"] == root_trace


class Nginx:
    """nginx (daemon off, a temporary prefix and configuration) on a
    loopback port, serving `root`. Extra http-block directives in `extra`."""

    def __init__(self, root: str, port: int, workdir: str, extra: str = ""):
        self.root, self.port, self.dir, self.extra = root, port, workdir, extra
        self.proc = None

    def config(self) -> str:
        return f"""
worker_processes 1;
daemon off;
master_process on;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log info;
events {{ worker_connections 256; }}
http {{
  access_log {self.dir}/access.log;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fastcgi;
  uwsgi_temp_path {self.dir}/uwsgi;
  scgi_temp_path {self.dir}/scgi;
  keepalive_requests 1000;
  sendfile on;
  {self.extra}
  server {{
    listen 127.0.0.1:{self.port};
    root {self.root};
  }}
}}
"""

    def argv(self):
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(self.config())
        return ["/usr/sbin/nginx", "-p", self.dir, "-c", conf]

    def log(self) -> str:
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()
        except OSError:
            return ""


def peers_node_path(test: unittest.TestCase) -> str:
    """node_modules of tests/peers/install.sh with the OpenTelemetry Node.js
    SDK, or skip (outside CI) / fail (in CI)."""
    return os.path.join(u.peers_dir(test, "@opentelemetry/sdk-trace-node"), "node_modules")


def tempdir(prefix: str) -> str:
    return tempfile.mkdtemp(prefix=prefix)
