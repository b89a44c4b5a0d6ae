"""The agent DaemonSet's capability list is the measured minimum (as root).

trace-agent runs as uid 0 with the DaemonSet's args (paths under a temp
root, the control plane on loopback, NODE_NAME from the downward API filled
in) and with exactly the DaemonSet's capabilities as its bounding, permitted
and effective sets, plus no_new_privs (allowPrivilegeEscalation: false), the
way a container runtime starts it. A session on a comm targets two processes
that were already running before it started, one as root (with every
capability) and one as nobody: both must arrive as complete traces, with
service.name from /proc/<pid>/exe.

Then each capability is dropped in turn and the same run must break: without
CAP_BPF or CAP_PERFMON the session fails to load its programs, without
CAP_SYS_PTRACE the spans arrive without the executable (unknown_service).
"""

import os
import shutil
import subprocess
import tempfile
import sys
import time
import unittest

import deploy_util as d

CAP_BITS = {"BPF": 39, "PERFMON": 38, "SYS_PTRACE": 19}

WORKLOAD = """
import os, sys
sys.stdin.readline()
try:
    os.open("/nonexistent-tracer-caps-probe", os.O_RDONLY)
except OSError:
    pass
"""


def require_root(test):
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            test.fail("the capability test needs root, and CI runs as root")
        test.skipTest("SKIP: needs root for BPF (run `sudo make test`)")


class AgentCapabilitiesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        _, objs = d.manifests()
        cls.ds = objs[("DaemonSet", "trace-agent")]
        cls.deployment = objs[("Deployment", "trace-controlplane")]
        cls.c = d.container(cls.ds)
        cls.caps = cls.c["securityContext"]["capabilities"]["add"]

    def setUp(self):
        require_root(self)
        self.tmp = tempfile.mkdtemp(prefix="tracer-caps-")
        os.chmod(self.tmp, 0o755)  # the nobody workload execs from here
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.node = f"caps-node-{os.getpid()}"
        self.cp = d.ControlPlaneRun(self.deployment, os.path.join(self.tmp, "cp"),
                                    agent_names=[self.node]).__enter__()
        self.addCleanup(self.cp.stop)
        self.runs = 0

    def agent_argv(self, caps, root):
        downward = {"spec.nodeName": self.node, "status.podIP": "127.0.0.1"}
        env = {e["name"]: downward[e["valueFrom"]["fieldRef"]["fieldPath"]]
               for e in self.c["env"]}
        flags = d.flag_map(self.c["args"])
        # The Service's port on the control plane's local port; the agent's
        # health port on a free local one.
        ports = {int(flags["--controlplane"].rsplit(":", 1)[1]): self.cp.port("readinessProbe"),
                 d.container_ports(self.c)["health"]: d.free_port()}
        args = d.localize(self.c["args"], root, list(d.mounts(self.ds)), ports, env)
        tls = root + flags["--tls_dir"]
        os.makedirs(tls)
        for f in ("ca.pem", f"{self.node}.pem", f"{self.node}.key"):
            shutil.copy(os.path.join(self.cp.pki, f), tls)
        os.makedirs(root + flags["--data_dir"])
        spec = ",".join(["-all"] + ["+" + c.lower() for c in caps])
        return ["setpriv", "--bounding-set", spec, "--inh-caps", spec, "--no-new-privs",
                "--", d.runfile("agent/trace-agent"), *args, "--heartbeat_interval=1",
                "--reconnect_max_backoff_ms=1000"]

    def run_session(self, caps):
        """Runs the agent with `caps`; returns (session error or "", number
        of traces under the workload's service, number of traces in all)."""
        self.runs += 1
        root = os.path.join(self.tmp, f"run{self.runs}")
        comm = f"capwl{os.getpid() % 10000}r{self.runs}"
        exe = os.path.join(self.tmp, comm)
        # A copy of the interpreter, so /proc/<pid>/exe (hence service.name)
        # is the comm the session targets.
        shutil.copy(os.path.realpath(sys.executable), exe)
        log = open(os.path.join(self.tmp, f"agent{self.runs}.log"), "w")
        agent = subprocess.Popen(self.agent_argv(caps, root), stdout=log,
                                 stderr=subprocess.STDOUT)
        workloads = []
        try:
            want = sum(1 << CAP_BITS[c] for c in caps)
            def capeff():
                with open(f"/proc/{agent.pid}/status") as f:
                    for line in f:
                        if line.startswith("CapEff:"):
                            return int(line.split()[1], 16)
            def connected():
                out = self.cp.tracectl_run("agents", "list").stdout
                return agent.poll() is not None or any(
                    l.split()[1:3] == [self.node, "yes"] for l in out.splitlines())
            d.wait_for(connected, 30, "the agent to connect")
            self.assertIsNone(agent.poll(), "the agent exited")
            # setpriv execs the agent in place: this is the agent's own set.
            self.assertEqual(capeff(), want)
            # Running before the session starts: found by the /proc scan.
            workloads = [
                subprocess.Popen([exe, "-c", WORKLOAD], stdin=subprocess.PIPE, text=True),
                subprocess.Popen(["setpriv", "--reuid", "65534", "--regid", "65534",
                                  "--clear-groups", exe, "-c", WORKLOAD],
                                 stdin=subprocess.PIPE, text=True)]
            time.sleep(0.5)
            p = self.cp.tracectl_run("session", "start", "--comm", comm, "-e", "trace=openat")
            self.assertEqual(p.returncode, 0, p.stderr)
            sid = next(l.split()[2] for l in p.stdout.splitlines()
                       if l.startswith("started session "))
            state = {}

            def settled():
                out = self.cp.tracectl_run("session", "show", sid).stdout
                for line in out.splitlines():
                    f = line.split()
                    if len(f) >= 6 and f[1] == self.node:
                        state["applied"] = f[3] == "yes"
                        state["error"] = "" if f[5] == "-" else " ".join(f[5:])
                        return state["applied"] or state["error"]
                return False
            d.wait_for(settled, 30, "the session to be applied or to fail")
            for w in workloads:
                w.communicate("go\n", timeout=30)
            if state["error"]:
                return state["error"], 0, 0
            counts = {}

            def traces():
                out = self.cp.tracectl_run("traces", "list", "--since", "10m").stdout
                rows = [l.split() for l in out.splitlines()[1:] if l.strip()]
                counts["all"] = len(rows)
                counts["listing"] = out
                counts["service"] = sum(1 for r in rows if r[3] == comm)
                return counts["all"] >= 2
            d.wait_for(traces, 30, "two traces of the workload")
            self.listing = counts["listing"]
            return "", counts["service"], counts["all"]
        finally:
            for w in workloads:
                if w.poll() is None:
                    w.kill()
                    w.wait()
            agent.terminate()
            agent.wait(60)
            log.close()

    def test_minimum_is_enough_and_each_capability_is_needed(self):
        self.assertEqual(sorted(self.caps), sorted(CAP_BITS))
        error, service, _ = self.run_session(self.caps)
        self.assertEqual((error, service), ("", 2), getattr(self, "listing", ""))
        for cap in self.caps:
            with self.subTest(without=cap):
                # A fresh control plane: the store holds only this run.
                self.cp.stop()
                self.cp = d.ControlPlaneRun(
                    self.deployment, os.path.join(self.tmp, f"cp-{cap}"),
                    agent_names=[self.node]).__enter__()
                self.addCleanup(self.cp.stop)
                error, service, total = self.run_session([c for c in self.caps if c != cap])
                if cap in ("BPF", "PERFMON"):
                    self.assertIn("load BPF programs", error)
                else:
                    self.assertEqual(error, "")
                    self.assertEqual((service, total), (0, 2), self.listing)


if __name__ == "__main__":
    unittest.main()
