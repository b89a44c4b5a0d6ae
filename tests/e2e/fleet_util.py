"""A small fleet on one machine for the end-to-end tests of trace-agent and
trace-controlplane: a certificate directory from `tracectl certs`, one control
plane with mutual TLS, and agents that each live in their own network
namespace (`ip netns`) joined by a veth pair to a bridge in the root
namespace, where the control plane listens.

Names are unique per run (the test's pid), so parallel runs do not clash, and
everything is torn down at the start (in case an earlier run with the same
pid died) and at the end. Addresses come from 10.200.X.0/24 with an X no
other interface on the machine uses; traffic stays between the namespaces
this module made.

The agents share one kernel and one pid namespace (only the network and UTS
namespaces differ), so an agent sees every process on the machine: a session
targeting a comm traces the matching processes of every "node" on every
agent. Each agent's host name (its spans' host.name) is its node id, so
spans are counted per node by that attribute.
"""

import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import e2e_util as u

WORKLOAD = r"""
import os, sys
# Commands on stdin, one per line: "BATCH COUNT [SECONDS]". Each marker is an
# openat of a path that does not exist, named after node, batch and index,
# spread evenly over SECONDS (0: as fast as possible). Answers "done BATCH".
node, root = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    parts = line.split()
    if not parts:
        continue
    batch, count = parts[0], int(parts[1])
    secs = float(parts[2]) if len(parts) > 2 else 0.0
    import time
    t0 = time.monotonic()
    for i in range(count):
        try:
            os.open("%s/%s/%s/%d" % (root, node, batch, i), os.O_RDONLY)
        except OSError:
            pass
        if secs:
            wait = t0 + secs * (i + 1) / count - time.monotonic()
            if wait > 0:
                time.sleep(wait)
    print("done", batch, flush=True)
"""

MARKER_ROOT = "/nonexistent-tracer-e2e"


def binary(rel: str) -> str:
    return u.runfile(rel)


def _sh(*args, check=True):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


def attrs(kvs):
    out = {}
    for kv in kvs or []:
        v = kv.get("value", {})
        out[kv["key"]] = next(iter(v.values())) if v else None
    return out


def b64hex(s: str) -> str:
    return base64.b64decode(s).hex() if s else ""


class Fleet:
    """One control plane and N agent nodes. Use as a context manager."""

    def __init__(self, nodes=("node-a", "node-b"), tag=None):
        self.tag = tag or str(os.getpid())
        self.node_ids = list(nodes)
        self.tmp = tempfile.mkdtemp(prefix=f"tracer-fleet-{self.tag}-")
        self.pki = os.path.join(self.tmp, "pki")
        self.bridge = f"tb{self.tag}"[:15]
        self.netns = {n: f"tracer-e2e-{self.tag}-{i}" for i, n in enumerate(self.node_ids)}
        self.veth = {n: f"tv{self.tag}{i}"[:13] for i, n in enumerate(self.node_ids)}
        self.procs = {}      # name -> Popen (control plane, agents, workloads)
        self.logs = {}       # name -> log path
        self.subnet = None
        self.cp_addr = None  # "10.200.X.1:PORT"
        self.comm = f"e2ewl{self.tag}"[:15]

    # ----- lifecycle -------------------------------------------------------

    def __enter__(self):
        try:
            self.teardown_network()
            self.setup_network()
            self.issue_certs()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        for name in list(self.procs):
            self.kill(name, signal.SIGKILL)
        self.teardown_network()
        if os.environ.get("KEEP_FLEET_DIR"):
            print("fleet directory kept:", self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def pick_subnet(self) -> str:
        used = _sh("ip", "-4", "-o", "addr").stdout
        candidates = list(range(1, 255))
        random.shuffle(candidates)
        for x in candidates:
            if f" 10.200.{x}." not in used:
                return f"10.200.{x}"
        raise RuntimeError("no free 10.200.X.0/24")

    def setup_network(self):
        self.subnet = self.pick_subnet()
        _sh("ip", "link", "add", self.bridge, "type", "bridge")
        _sh("ip", "addr", "add", f"{self.subnet}.1/24", "dev", self.bridge)
        _sh("ip", "link", "set", self.bridge, "up")
        for i, n in enumerate(self.node_ids):
            ns, v = self.netns[n], self.veth[n]
            _sh("ip", "netns", "add", ns)
            _sh("ip", "link", "add", v, "type", "veth", "peer", "name", v + "p")
            _sh("ip", "link", "set", v, "master", self.bridge)
            _sh("ip", "link", "set", v, "up")
            _sh("ip", "link", "set", v + "p", "netns", ns)
            _sh("ip", "-n", ns, "addr", "add", f"{self.subnet}.{10 + i}/24", "dev", v + "p")
            _sh("ip", "-n", ns, "link", "set", v + "p", "up")
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
        with socket.socket() as s:
            s.bind((f"{self.subnet}.1", 0))
            self.cp_addr = f"{self.subnet}.1:{s.getsockname()[1]}"

    def teardown_network(self):
        for n in self.node_ids:
            _sh("ip", "netns", "del", self.netns[n], check=False)
            _sh("ip", "link", "del", self.veth[n], check=False)
        _sh("ip", "link", "del", self.bridge, check=False)

    def node_addr(self, node: str) -> str:
        return f"{self.subnet}.{10 + self.node_ids.index(node)}"

    # ----- certificates ----------------------------------------------------

    def certs(self, *args, pki=None):
        return u.run([u.tracectl(), "certs", *args, "--dir", pki or self.pki])

    def issue_certs(self):
        def ok(p):
            if p.returncode != 0:
                raise RuntimeError(p.stderr)
        ok(self.certs("init"))
        ok(self.certs("issue", "--kind", "server", "--name", "server",
                      "--san", f"localhost,127.0.0.1,{self.subnet}.1"))
        for n in self.node_ids:
            ok(self.certs("issue", "--kind", "agent", "--name", n))
        for role in ("viewer", "operator", "admin"):
            ok(self.certs("issue", "--kind", "user", "--name", role, "--role", role))

    # ----- processes -------------------------------------------------------

    def _start(self, name, argv, **kw):
        log = self.logs.setdefault(name, os.path.join(self.tmp, f"{name}.log"))
        f = open(log, "a")
        f.write(f"---- start {' '.join(argv)}\n")
        f.flush()
        self.procs[name] = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, **kw)
        f.close()
        return self.procs[name]

    def kill(self, name, sig=signal.SIGTERM, timeout=30):
        p = self.procs.pop(name, None)
        if p is None:
            return None
        if p.poll() is None:
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
        for pipe in (p.stdin, p.stdout):
            if pipe:
                pipe.close()
        try:
            return p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            return p.wait(10)

    def log(self, name) -> str:
        try:
            with open(self.logs[name]) as f:
                return f.read()
        except (KeyError, OSError):
            return ""

    def controlplane_dir(self) -> str:
        """The control plane's --data_dir."""
        return os.path.join(self.tmp, "controlplane")

    def start_controlplane(self, extra_args=(), env=None):
        """Starts trace-controlplane with the fleet's flags plus `extra_args`
        (e.g. --exporters_config FILE, --metrics_listen ADDR); `env`, when
        given, is added to this process's environment (OTEL_* variables)."""
        full_env = None
        if env:
            full_env = dict(os.environ)
            full_env.update(env)
        self._start("controlplane", [
            binary("controlplane/trace-controlplane"),
            "--data_dir", self.controlplane_dir(),
            "--listen", self.cp_addr, "--tls_dir", self.pki,
            "--store_retention_interval_s", "3600", *extra_args], env=full_env)
        self.wait_for(lambda: self.tracectl("status", user="viewer").returncode == 0,
                      30, "control plane answering `tracectl status`")

    def start_agent(self, node):
        # A UTS namespace of its own gives the agent its node id as host name.
        argv = ["ip", "netns", "exec", self.netns[node], "unshare", "--uts", "sh", "-c",
                'hostname "$0" && exec "$@"', node,
                binary("agent/trace-agent"),
                "--data_dir", os.path.join(self.tmp, node),
                "--controlplane", self.cp_addr, "--tls_dir", self.pki,
                "--node_id", node, "--labels", f"fleet={self.tag}",
                "--heartbeat_interval", "1", "--reconnect_max_backoff_ms", "1000"]
        self._start(node, argv)

    def workload_exe(self):
        """The workload's executable: a symlink named self.comm to python3."""
        return os.path.join(self.tmp, self.comm)

    def start_workload(self, node):
        """A python process whose comm is self.comm, in the node's namespace."""
        exe = self.workload_exe()
        if not os.path.exists(exe):
            os.symlink(shutil.which("python3"), exe)
        argv = ["ip", "netns", "exec", self.netns[node], exe, "-c", WORKLOAD, node,
                f"{MARKER_ROOT}/{self.tag}"]
        name = f"workload-{node}"
        log = self.logs.setdefault(name, os.path.join(self.tmp, f"{name}.log"))
        with open(log, "a") as err:
            self.procs[name] = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE, stderr=err, text=True)
        return self.procs[name]

    def markers(self, node, batch, count, seconds=0.0, wait=True):
        p = self.procs[f"workload-{node}"]
        p.stdin.write(f"{batch} {count} {seconds}\n")
        p.stdin.flush()
        if wait:
            self.wait_markers_done(node, batch)

    def wait_markers_done(self, node, batch):
        p = self.procs[f"workload-{node}"]
        line = p.stdout.readline().split()
        if line != ["done", str(batch)]:
            raise RuntimeError(f"workload {node}: {line}")

    # ----- tracectl and the store ------------------------------------------

    def tracectl(self, *args, user="admin", certs=None, server=None, timeout=60):
        return u.run([u.tracectl(), *args, "--server", server or self.cp_addr,
                      "--certs", certs or self.pki, "--user", user], timeout=timeout)

    def probe(self, *args, user="admin", certs=None, server=None):
        return u.run([binary("tests/e2e/control_probe"), "--server", server or self.cp_addr,
                      "--certs", certs or self.pki, "--user", user, *args])

    def spans(self):
        """Every stored span: dicts with trace/span ids (hex), name, node
        (host.name), service, session, args."""
        p = self.probe("--mode", "dump", user="viewer")
        if p.returncode != 0:
            raise RuntimeError(f"control_probe dump: {p.stdout} {p.stderr}")
        out = []
        for line in p.stdout.splitlines():
            for rs in json.loads(line).get("resourceSpans", []):
                res = attrs(rs.get("resource", {}).get("attributes"))
                for ss in rs.get("scopeSpans", []):
                    for s in ss.get("spans", []):
                        a = attrs(s.get("attributes"))
                        out.append({
                            "trace_id": b64hex(s.get("traceId")),
                            "span_id": b64hex(s.get("spanId")),
                            "name": s.get("name"),
                            "node": res.get("host.name"),
                            "service": res.get("service.name"),
                            "session": res.get("tracer.session.id"),
                            "args": a.get("syscall.args", ""),
                        })
        return out

    def marker_spans(self, spans=None):
        """{(agent node, workload node, batch, index): [span ids]} for the
        workload's marker openat calls."""
        prefix = f"{MARKER_ROOT}/{self.tag}/"
        out = {}
        for s in self.spans() if spans is None else spans:
            if s["name"] != "openat" or prefix not in s["args"]:
                continue
            path = s["args"].split(prefix, 1)[1].split('"', 1)[0]
            wl, batch, idx = path.split("/")
            out.setdefault((s["node"], wl, batch, int(idx)), []).append(s["span_id"])
        return out

    def start_session(self, *args, user="operator"):
        p = self.tracectl("session", "start", *args, user=user)
        if p.returncode != 0:
            raise RuntimeError(f"session start: {p.returncode} {p.stderr}")
        for line in p.stdout.splitlines():
            if line.startswith("started session "):
                return line.split()[2]
        raise RuntimeError(p.stdout)

    def wait_for(self, cond, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            if cond():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.25)

    def wait_applied(self, session_id, nodes, timeout=60):
        def applied():
            p = self.tracectl("session", "show", session_id, user="viewer")
            ok = set()
            for line in p.stdout.splitlines():
                f = line.split()
                if len(f) >= 4 and f[1] in nodes and f[2] == "yes" and f[3] == "yes":
                    ok.add(f[1])
            return ok == set(nodes)
        self.wait_for(applied, timeout, f"session {session_id} applied on {nodes}")

    def agents(self):
        """`tracectl agents list` as {node: {"connected": bool, "policy": int}}."""
        p = self.tracectl("agents", "list", user="viewer")
        out = {}
        for line in p.stdout.splitlines()[1:]:
            f = line.split()
            # HEARTBEAT is "never" or e.g. "1s ago"; POLICY follows it.
            end = f.index("never") if "never" in f else f.index("ago") if "ago" in f else None
            if end is None or len(f) <= end + 1:
                continue
            out[f[1]] = {"connected": f[2] == "yes", "policy": int(f[end + 1])}
        return out

    def wait_connected(self, nodes, timeout=60):
        def connected():
            a = self.agents()
            return all(a.get(n, {}).get("connected") for n in nodes)
        self.wait_for(connected, timeout, f"agents {nodes} connected")

    def wait_policy(self, version, nodes, timeout=60):
        def applied():
            a = self.agents()
            return all(a.get(n, {}).get("connected") and a[n]["policy"] >= version
                       for n in nodes)
        self.wait_for(applied, timeout, f"policy version {version} applied on {nodes}")
