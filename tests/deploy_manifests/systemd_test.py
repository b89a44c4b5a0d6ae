"""deploy/install.sh into a temporary root, then the installed systemd units:
systemd's own verifier, `systemd-analyze security` (printed), the units'
command lines and settings against the real binaries and the DaemonSet, and
the control plane started with its unit's command line as a non-root user."""

import filecmp
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

import deploy_util as d

UNITS = ("trace-agent.service", "trace-controlplane.service")


def parse_unit(path):
    """{key: [values]} of a unit file's [Service] section."""
    out, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]":
                k, _, v = line.partition("=")
                out.setdefault(k, []).append(v)
    return out


def parse_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                env[k] = v
    return env


def exec_argv(cmd, env):
    """systemd's ExecStart expansion: ${VAR} is one word, $VAR splits."""
    words = []
    for w in shlex.split(cmd):
        if re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", w):
            words += env.get(w[1:], "").split()
        else:
            words.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env[m.group(1)], w))
    return words


class Installed(unittest.TestCase):
    """A temporary root and the binaries to install into it."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tracer-install-")
        os.chmod(cls.tmp, 0o755)
        cls.bins = os.path.join(cls.tmp, "from")
        os.makedirs(cls.bins)
        for rel in ("agent/trace-agent", "controlplane/trace-controlplane", "ctl/tracectl"):
            os.symlink(d.runfile(rel), os.path.join(cls.bins, os.path.basename(rel)))
        cls.root = os.path.join(cls.tmp, "root")
        cls.systemd_dir = d.runfile("deploy/systemd")
        cls.install = d.runfile("deploy/install.sh")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_install(self, *args, root=None):
        return subprocess.run([self.install, "--from", self.bins, "--prefix", root or self.root,
                               "--node-id", "node-7", "--controlplane", "cp.example:7443", *args],
                              capture_output=True, text=True, timeout=60)

    def installed(self):
        p = self.run_install()
        self.assertEqual(p.returncode, 0, p.stderr)
        return self.root



class InstallTest(Installed):
    def test_dry_run_changes_nothing(self):
        root = os.path.join(self.tmp, "dry")
        p = self.run_install("--dry-run", root=root)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertFalse(os.path.exists(root))
        self.assertIn(f"+ install -m 0755 {self.bins}/trace-agent {root}/usr/bin/trace-agent",
                      p.stdout)
        self.assertIn("systemd is not reloaded", p.stdout)

    def test_layout_and_modes(self):
        root = self.installed()
        want = {
            "usr/bin/trace-agent": 0o755, "usr/bin/trace-controlplane": 0o755,
            "usr/bin/tracectl": 0o755,
            "etc/systemd/system/trace-agent.service": 0o644,
            "etc/systemd/system/trace-controlplane.service": 0o644,
            "etc/default/trace-agent": 0o644, "etc/default/trace-controlplane": 0o644,
            "etc/tracer/tls": 0o700, "var/lib/tracer": 0o755,
        }
        for rel, mode in want.items():
            st = os.stat(os.path.join(root, rel))
            self.assertEqual(st.st_mode & 0o7777, mode, rel)
        for u in UNITS:
            self.assertTrue(filecmp.cmp(os.path.join(self.systemd_dir, u),
                                        os.path.join(root, "etc/systemd/system", u), False))
        self.assertTrue(filecmp.cmp(d.runfile("agent/trace-agent"),
                                    os.path.join(root, "usr/bin/trace-agent"), False))
        env = parse_env(os.path.join(root, "etc/default/trace-agent"))
        self.assertEqual(env["TRACER_NODE_ID"], "node-7")
        self.assertEqual(env["TRACER_CONTROLPLANE"], "cp.example:7443")

    def test_settings_are_kept_and_bad_options_refused(self):
        root = os.path.join(self.tmp, "rerun")
        self.assertEqual(self.run_install(root=root).returncode, 0)
        f = os.path.join(root, "etc/default/trace-agent")
        with open(f, "a") as fh:
            fh.write("TRACE_AGENT_OPTS=--labels=zone=a\n")
        p = self.run_install(root=root)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("exists; kept", p.stdout)
        self.assertIn("--labels=zone=a", open(f).read())
        for bad in (["--only", "nodes"], ["--node-id", "a b"], ["--controlplane", "nohost"],
                    ["--prefix", "relative"], ["--bogus"]):
            p = subprocess.run([self.install, "--from", self.bins, *bad],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn("install.sh:", p.stderr)
        p = subprocess.run([self.install, "--from", os.path.join(self.tmp, "nothing"),
                            "--prefix", os.path.join(self.tmp, "x")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("missing", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x")))

    def test_only_agent(self):
        root = os.path.join(self.tmp, "only")
        p = self.run_install("--only", "agent", root=root)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.exists(os.path.join(root, "etc/systemd/system/trace-agent.service")))
        self.assertFalse(os.path.exists(os.path.join(root, "usr/bin/trace-controlplane")))
        self.assertFalse(os.path.exists(os.path.join(root, "etc/default/trace-controlplane")))


class UnitsTest(Installed):
    """The installed units."""

    def verify_root(self):
        root = self.installed()
        # The targets the units refer to (multi-user.target, ...).
        units = os.path.join(root, "usr/lib/systemd/system")
        if not os.path.exists(units):
            shutil.copytree("/lib/systemd/system", units, symlinks=True)
        return root

    def test_systemd_analyze_verify(self):
        root = self.verify_root()
        p = subprocess.run(["systemd-analyze", "verify", f"--root={root}", *UNITS],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual((p.returncode, p.stdout + p.stderr), (0, ""))
        # The verifier does find mistakes: a misspelt key and a bad value.
        broken = os.path.join(root, "etc/systemd/system/trace-broken.service")
        with open(os.path.join(root, "etc/systemd/system", UNITS[0])) as f:
            text = f.read().replace("ProtectHome=yes", "ProtectHom=yes")
        with open(broken, "w") as f:
            f.write(text.replace("LimitNOFILE=65536", "LimitNOFILE=lots"))
        p = subprocess.run(["systemd-analyze", "verify", f"--root={root}", "trace-broken.service"],
                           capture_output=True, text=True, timeout=120)
        os.unlink(broken)
        self.assertIn("Unknown key 'ProtectHom'", p.stderr)
        self.assertIn("lots", p.stderr)

    def test_security_exposure(self):
        root = self.verify_root()
        for u in UNITS:
            p = subprocess.run(["systemd-analyze", "security", "--offline=yes", f"--root={root}", u],
                               capture_output=True, text=True, timeout=120)
            m = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", p.stdout + p.stderr)
            self.assertIsNotNone(m, p.stdout + p.stderr)
            print(f"systemd-analyze security {u}: {m.group(1)} {m.group(2)}")

    def test_agent_unit_matches_daemonset(self):
        root = self.installed()
        unit = parse_unit(os.path.join(root, "etc/systemd/system/trace-agent.service"))
        _, objs = d.manifests()
        caps = d.container(objs[("DaemonSet", "trace-agent")])["securityContext"]["capabilities"]["add"]
        want = " ".join(f"CAP_{c}" for c in caps)
        self.assertEqual(unit["CapabilityBoundingSet"], [want])
        self.assertEqual(unit["AmbientCapabilities"], [want])
        self.assertEqual(unit["LimitMEMLOCK"], ["infinity"])
        self.assertEqual(unit["ProtectSystem"], ["strict"])
        self.assertEqual(unit["ReadWritePaths"], ["/var/lib/tracer"])
        self.assertEqual(unit["NoNewPrivileges"], ["yes"])
        env = parse_env(os.path.join(root, "etc/default/trace-agent"))
        argv = exec_argv(unit["ExecStart"][0], env)
        self.assertEqual(argv[0], "/usr/bin/trace-agent")
        flags = d.flag_map(argv[1:])
        self.assertTrue(flags["--data_dir"].startswith(unit["ReadWritePaths"][0] + "/"))
        self.assertEqual(flags["--data_dir"], "/var/lib/" + unit["StateDirectory"][0])
        self.assertEqual(flags["--node_id"], "node-7")
        known = d.binary_flags(d.runfile("agent/trace-agent"))
        for flag in flags:
            self.assertIn(flag[2:], known, flag)
        # The WAL flush on SIGTERM fits in the stop timeout.
        self.assertGreaterEqual(int(unit["TimeoutStopSec"][0]), 30)

    def test_controlplane_runs_with_its_unit_command_line(self):
        """As the unit would start it: the env file's values, a credentials
        directory with exactly the LoadCredential= files, a non-root user."""
        if os.geteuid() != 0:
            self.skipTest("SKIP: needs root to switch to an unprivileged user")
        root = self.installed()
        unit = parse_unit(os.path.join(root, "etc/systemd/system/trace-controlplane.service"))
        self.assertEqual(unit["User"], ["tracer"])
        self.assertEqual(unit["CapabilityBoundingSet"], [""])
        env = parse_env(os.path.join(root, "etc/default/trace-controlplane"))
        tracectl = d.runfile("ctl/tracectl")
        pki = os.path.join(self.tmp, "cp-pki")
        d.issue_certs(tracectl, pki)
        creds = os.path.join(self.tmp, "credentials")
        os.makedirs(creds)
        for spec in unit["LoadCredential"]:
            name, _, src = spec.partition(":")
            self.assertEqual(os.path.dirname(src), "/etc/tracer/tls")
            shutil.copy(os.path.join(pki, os.path.basename(src)), os.path.join(creds, name))
        listen, metrics = d.free_port(), d.free_port()
        env = dict(env, CREDENTIALS_DIRECTORY=creds)
        env["TRACER_LISTEN"] = re.sub(r"^.*:", "127.0.0.1:", env["TRACER_LISTEN"]) \
            .replace(":7443", f":{listen}")
        env["TRACE_CONTROLPLANE_OPTS"] = env["TRACE_CONTROLPLANE_OPTS"].replace(
            "127.0.0.1:9464", f"127.0.0.1:{metrics}")
        argv = exec_argv(unit["ExecStart"][0], env)
        flags = d.flag_map(argv[1:])
        self.assertEqual(flags["--data_dir"], "/var/lib/" + unit["StateDirectory"][0])
        data = os.path.join(self.tmp, "state")
        os.makedirs(data, 0o700)
        argv = [os.path.join(root, argv[0].lstrip("/"))] + \
            [a.replace(flags["--data_dir"], data) for a in argv[1:]]
        for p in (data, creds, *[os.path.join(creds, f) for f in os.listdir(creds)]):
            os.chown(p, 65534, 65534)
        log = open(os.path.join(self.tmp, "cp-unit.log"), "w")
        proc = subprocess.Popen(["setpriv", "--reuid", "65534", "--regid", "65534",
                                 "--clear-groups", "--no-new-privs", *argv],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            d.wait_for(lambda: proc.poll() is not None or d.tcp_connects(listen), 60,
                       "the control plane")
            self.assertIsNone(proc.poll(), open(log.name).read())
            p = subprocess.run([tracectl, "status", "--server", f"localhost:{listen}",
                                "--certs", pki, "--user", "operator"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(d.tcp_connects(metrics))
        finally:
            if proc.poll() is None:
                proc.terminate()
            rc = proc.wait(60)
            log.close()
        self.assertEqual(rc, 0)
        self.assertTrue(os.listdir(data))  # RocksDB files, written as nobody


if __name__ == "__main__":
    unittest.main()
