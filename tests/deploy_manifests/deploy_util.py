"""Helpers of the deployment tests: the manifests as loaded objects, the
daemons' real flags, and the manifests' command lines turned into ones that
run on this machine (paths under a temporary root, ports on loopback).
"""

import os
import shutil
import re
import socket
import subprocess
import time

import k8s_schema

WORKSPACE_DIRS = ("tracer", "")


def runfile(rel):
    """Path of a data dependency (Bazel runfiles), else of the source tree."""
    bases = [os.environ.get("TEST_SRCDIR", ""), os.getcwd(),
             os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")]
    for base in bases:
        for ws in WORKSPACE_DIRS:
            cand = os.path.join(base, ws, rel)
            if os.path.exists(cand):
                return os.path.abspath(cand)
    raise FileNotFoundError(rel)


def manifests():
    """(kustomization, {(kind, name): object}) of deploy/kubernetes."""
    kust, objs = k8s_schema.load_kustomization(runfile("deploy/kubernetes"))
    return kust, {(o["kind"], o["metadata"]["name"]): o for o in objs}


def pod_spec(obj):
    return obj["spec"]["template"]["spec"]


def container(obj, name=None):
    cs = pod_spec(obj)["containers"]
    return cs[0] if name is None else next(c for c in cs if c["name"] == name)


def flag_map(args):
    """{"--flag": value or True} of an args list of --flag=value items."""
    out = {}
    for a in args:
        if not a.startswith("--"):
            raise ValueError(f"not a --flag: {a}")
        k, eq, v = a.partition("=")
        out[k] = v if eq else True
    return out


_HELP_FLAG = re.compile(r"^\s+-([A-Za-z0-9_]+) \(", re.M)


def binary_flags(binary):
    """Every flag name the binary defines, from its --helpfull output."""
    p = subprocess.run([binary, "--helpfull"], capture_output=True, text=True, timeout=30)
    names = set(_HELP_FLAG.findall(p.stdout + p.stderr))
    if not names:
        raise RuntimeError(f"{binary} --helpfull listed no flags: {p.stdout[:500]}")
    return names


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expand_env(arg, env):
    """Kubernetes' $(VAR) expansion of args from the container's env."""
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env[m.group(1)], arg)


def localize(args, root, mount_paths, ports, env=None):
    """The container's args for a run on this machine: $(VAR) expanded from
    env, every value under one of mount_paths moved under root, and every
    HOST:PORT whose port is in `ports` ({container port: local port}) moved
    to 127.0.0.1 on the local port."""
    out = []
    for a in args:
        a = expand_env(a, env or {})
        k, eq, v = a.partition("=")
        if eq:
            for mp in mount_paths:
                if v == mp or v.startswith(mp + "/"):
                    v = root + v
                    break
            m = re.fullmatch(r"(.+):(\d+)", v)
            if m and int(m.group(2)) in ports:
                v = f"127.0.0.1:{ports[int(m.group(2))]}"
            a = f"{k}={v}"
        out.append(a)
    return out


def container_ports(c):
    """{port name: containerPort}."""
    return {p["name"]: p["containerPort"] for p in c.get("ports", [])}


def probe_port(c, probe):
    """The container port a tcpSocket/httpGet/grpc probe targets."""
    action = probe.get("tcpSocket") or probe.get("httpGet") or probe.get("grpc")
    port = action["port"]
    return container_ports(c)[port] if isinstance(port, str) else port


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def tcp_connects(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def issue_certs(tracectl, pki, agent_names=(), sans="localhost,127.0.0.1"):
    """A CA, a server certificate named "server", agent certificates and an
    operator user certificate, from `tracectl certs`."""
    def run(*args):
        p = subprocess.run([tracectl, "certs", *args, "--dir", pki],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"tracectl certs {args}: {p.stderr}")
    run("init")
    run("issue", "--kind", "server", "--name", "server", "--san", sans)
    for n in agent_names:
        run("issue", "--kind", "agent", "--name", n)
    run("issue", "--kind", "user", "--name", "operator", "--role", "operator")


def mounts(obj):
    """{mountPath: (volume, readOnly)} of the first container."""
    vols = {v["name"]: v for v in pod_spec(obj)["volumes"]}
    return {m["mountPath"]: (vols[m["name"]], m.get("readOnly", False))
            for m in container(obj)["volumeMounts"]}


class ControlPlaneRun:
    """The control plane with the Deployment's args on this machine: paths
    under `root`, its ports on free loopback ports, and a TLS dir that holds
    only the Secret's items, copied from a fresh `tracectl certs` PKI (in
    root/pki, with agent certificates for agent_names). A context manager;
    `ports` maps container ports to local ones."""

    def __init__(self, deployment, root, agent_names=()):
        self.c = container(deployment)
        self.root = root
        os.makedirs(root, exist_ok=True)
        self.pki = os.path.join(root, "pki")
        self.tracectl = runfile("ctl/tracectl")
        issue_certs(self.tracectl, self.pki, agent_names)
        flags = flag_map(self.c["args"])
        m = mounts(deployment)
        tls_vol, _ = m[flags["--tls_dir"]]
        tls_dir = root + flags["--tls_dir"]
        os.makedirs(tls_dir)
        for item in tls_vol["secret"]["items"]:
            shutil.copy(os.path.join(self.pki, item["key"]), os.path.join(tls_dir, item["path"]))
        os.makedirs(root + flags["--data_dir"])
        self.ports = {p: free_port() for p in container_ports(self.c).values()}
        self.args = localize(self.c["args"], root, list(m), self.ports)
        self.log_path = os.path.join(root, "controlplane.log")
        self.proc = None

    def port(self, probe_name):
        """The local port of the container port a probe targets."""
        return self.ports[probe_port(self.c, self.c[probe_name])]

    def __enter__(self):
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [runfile("controlplane/trace-controlplane"), *self.args],
                stdout=log, stderr=subprocess.STDOUT)
        ready = self.port("readinessProbe")
        wait_for(lambda: self.proc.poll() is not None or tcp_connects(ready), 60,
                 "the control plane's readiness port")
        if self.proc.poll() is not None:
            raise RuntimeError(f"control plane exited: {self.log()[-2000:]}")
        return self

    def stop(self):
        """SIGTERM; the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def __exit__(self, *exc):
        self.stop()

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def tracectl_run(self, *args, timeout=60):
        return subprocess.run(
            [self.tracectl, *args, "--server", f"localhost:{self.port('readinessProbe')}",
             "--certs", self.pki, "--user", "operator"],
            capture_output=True, text=True, timeout=timeout)
