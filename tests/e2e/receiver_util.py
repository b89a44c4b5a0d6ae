"""The Node.js OTLP receiver (tests/peers/otlp_receiver.js) as a backend that
the outage tests start, stop, kill and restart by pid on fixed loopback ports.

A Receiver owns two ports picked once (gRPC and HTTP on 127.0.0.1), an --out
file and a --log file in its own directory. Every (re)start appends to the
same files, so after a restart the files hold everything every incarnation
accepted: --out one OTLP/JSON line per accepted request (decoded with the
official OTLP protos by protobufjs / grpc-js, ids in hex), --log one line per
attempt (accepted or failed on purpose).

The receiver is found through TRACER_PEERS_DIR (tests/peers/install.sh);
`peers_dir(test)` skips outside CI when it is missing and fails in CI.
"""

import json
import os
import signal
import subprocess
import threading
import time

import e2e_util as u


peers_dir = u.peers_dir
free_port = u.free_port


def spans_of_request(req: dict):
    """[(resource attributes, span)] of one OTLP/JSON ExportTraceServiceRequest."""
    out = []
    for rs in req.get("resourceSpans", []):
        res = {}
        for kv in rs.get("resource", {}).get("attributes", []) or []:
            v = kv.get("value", {})
            res[kv["key"]] = next(iter(v.values())) if v else None
        for ss in rs.get("scopeSpans", []):
            for s in ss.get("spans", []):
                out.append((res, s))
    return out


def read_requests(path: str):
    """Every OTLP/JSON request line of `path` (missing file: none), in order,
    as a list of span-id lists."""
    if not os.path.exists(path):
        return []
    reqs = []
    with open(path) as f:
        for line in f:
            if line.strip():
                reqs.append([s["spanId"] for _, s in spans_of_request(json.loads(line))])
    return reqs


class Receiver:
    """One OTLP receiver on fixed ports. Not thread-safe; one test drives it."""

    def __init__(self, peers: str, workdir: str, name: str):
        self.peers = peers
        self.name = name
        self.dir = os.path.join(workdir, f"receiver-{name}")
        os.makedirs(self.dir, exist_ok=True)
        self.out = os.path.join(self.dir, "received.jsonl")
        self.log = os.path.join(self.dir, "attempts.jsonl")
        self.stderr = os.path.join(self.dir, "stderr.log")
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.proc = None
        self.starts = 0

    @property
    def grpc_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"

    @property
    def http_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, *extra, timeout=30):
        """Starts (or restarts) the receiver on this object's ports with
        `extra` arguments (--fail-grpc, --fail-http, --delay-ms, ...) and
        waits until both servers listen. Raises when it dies or is not ready
        in `timeout` seconds."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError(f"receiver {self.name} already runs (pid {self.proc.pid})")
        ready = os.path.join(self.dir, "ready.json")
        if os.path.exists(ready):
            os.unlink(ready)
        argv = [u.runfile("tests/peers/otlp_receiver.sh"), self.peers,
                "--host", "127.0.0.1", "--grpc-port", str(self.grpc_port),
                "--http-port", str(self.http_port), "--out", self.out, "--log", self.log,
                "--ready-file", ready, *extra]
        with open(self.stderr, "a") as err:
            err.write(f"---- start {' '.join(argv)}\n")
            err.flush()
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(ready) and os.path.getsize(ready) > 0:
                with open(ready) as f:
                    ports = json.load(f)
                if ports.get("grpc") != self.grpc_port or ports.get("http") != self.http_port:
                    raise RuntimeError(f"receiver {self.name} listens on {ports}")
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"receiver {self.name} exited {self.proc.returncode}: "
                                   + self.stderr_text()[-2000:])
            time.sleep(0.05)
        raise RuntimeError(f"receiver {self.name} not ready in {timeout} s")

    def stop(self, sig=signal.SIGTERM):
        """Sends `sig` to this receiver's pid (SIGTERM: a clean exit; SIGKILL:
        a crash) and reaps it. Returns the exit status, None if not running."""
        p, self.proc = self.proc, None
        if p is None:
            return None
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
        try:
            return p.wait(10)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            return p.wait(10)

    def kill(self):
        """kill -9 by pid."""
        return self.stop(signal.SIGKILL)

    def stderr_text(self) -> str:
        try:
            with open(self.stderr) as f:
                return f.read()
        except OSError:
            return ""

    def requests(self):
        """Accepted requests in arrival order, each a list of span ids (hex)."""
        return read_requests(self.out)

    def span_ids(self):
        """Every span id of every accepted request, duplicates included."""
        return [sid for req in self.requests() for sid in req]

    def spans(self):
        """[(resource attributes, span)] of every accepted request."""
        if not os.path.exists(self.out):
            return []
        out = []
        with open(self.out) as f:
            for line in f:
                if line.strip():
                    out.extend(spans_of_request(json.loads(line)))
        return out

    def attempts(self):
        """Every attempt line of --log (dicts with transport, answer, ...)."""
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.strip()]


class AttemptClock:
    """Notes when each new line of a receiver's --log appears (monotonic
    seconds), polling every `every` seconds in a thread, so a test can
    measure the spacing between attempts (e.g. a retry after Retry-After)."""

    def __init__(self, receiver: Receiver, every=0.02):
        self.receiver = receiver
        self.every = every
        self.seen = []  # (monotonic time, attempt dict)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            attempts = self.receiver.attempts()
            now = time.monotonic()
            for a in attempts[len(self.seen):]:
                self.seen.append((now, a))
            self._stop.wait(self.every)

    def close(self):
        self._stop.set()
        self._thread.join()
