"""Rolling upgrade of a fleet running from the OCI images, as deployed.

The control plane and two agents run from root filesystems unpacked with
umoci (chroot; the control plane as uid 65532), each agent in its own
network namespace (tests/e2e/fleet_util.py), data directories outside the
root filesystems and bind-mounted in, as the DaemonSet's hostPath and the
Deployment's volume are. With a session active and both nodes' workloads
producing marker syscalls, the agents are replaced one at a time by the
*_next images, then the control plane. Afterwards every marker made during
the upgrade is stored (by at least one agent, since one always ran), no
(agent, marker) pair is stored twice, each agent missed only the one
stretch while it was down, and the session is still active everywhere.
"""

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import e2e_util as u  # noqa: E402
import fleet_util  # noqa: E402
import image_util as iu  # noqa: E402

NONROOT = 65532

# Mounts made in the daemon's private mount namespace before chroot: the
# data dir and certificates (always), the host's /proc and /sys for the agent
# (hostPID and the BTF/tracefs hostPath mounts of the DaemonSet).
LAUNCH = r"""
set -e
root="$1"; data="$2"; tls="$3"; host="$4"; shift 4
mount --bind "$data" "$root/var/lib/tracer"
mount --bind -o ro "$tls" "$root/etc/tracer/tls"
if [ "$host" = agent ]; then
  hostname "$NODE_NAME"
  mount --bind /proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount -t tracefs nodev "$root/sys/kernel/tracing" 2>/dev/null || true
fi
exec chroot "$@"
"""


class ImageFleet(fleet_util.Fleet):
    """A Fleet whose daemons run from unpacked images."""

    def unpack_images(self):
        self.rootfs, self.entrypoint, self.labels = {}, {}, {}
        for name in ("controlplane_image", "controlplane_image_next",
                     "agent_image", "agent_image_next"):
            tar, _ = iu.image(name)
            rootfs, cfg = iu.unpack(tar, os.path.join(self.tmp, "images", name))
            self.rootfs[name] = rootfs
            self.entrypoint[name] = cfg["process"]["args"]
            self.labels[name] = iu.Layout(tar).config["config"]["Labels"]

    def start_controlplane(self, image="controlplane_image"):
        data = os.path.join(self.tmp, "controlplane")
        tls = os.path.join(self.tmp, "controlplane-tls")
        if not os.path.isdir(data):
            os.makedirs(data)
            shutil.copytree(self.pki, tls)
            for d in (data, tls):
                for path, dirs, files in os.walk(d):
                    for n in [path] + [os.path.join(path, f) for f in dirs + files]:
                        os.chown(n, NONROOT, NONROOT)
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", LAUNCH, "launch",
                self.rootfs[image], data, tls, "controlplane",
                f"--userspec={NONROOT}:{NONROOT}", self.rootfs[image],
                *self.entrypoint[image],
                f"--listen={self.cp_addr}", "--store_retention_interval_s=3600"]
        self._start("controlplane", argv)
        self.wait_for(lambda: self.tracectl("status", user="viewer").returncode == 0,
                      30, "control plane answering `tracectl status`")

    def start_agent(self, node, image="agent_image"):
        data = os.path.join(self.tmp, node)
        os.makedirs(data, exist_ok=True)
        argv = ["ip", "netns", "exec", self.netns[node],
                "unshare", "--uts", "--mount", "--propagation", "private",
                "sh", "-c", LAUNCH, "launch", self.rootfs[image], data, self.pki, "agent",
                self.rootfs[image], *self.entrypoint[image],
                f"--controlplane={self.cp_addr}", f"--node_id={node}",
                f"--labels=fleet={self.tag}", "--heartbeat_interval=1",
                "--reconnect_max_backoff_ms=1000"]
        self._start(node, argv, env=dict(os.environ, NODE_NAME=node))

    def daemons_in(self, image):
        """Names of the processes whose root directory is `image`'s rootfs."""
        want = os.path.realpath(self.rootfs[image])
        out = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.readlink(f"/proc/{pid}/root") == want:
                    with open(f"/proc/{pid}/comm") as f:
                        out.append(f.read().strip())
            except OSError:
                pass
        return sorted(out)


class RollingUpgradeTest(unittest.TestCase):

    def setUp(self):
        u.require_root(self)

    def test_agents_then_controlplane_upgraded_without_loss_or_duplicates(self):
        with ImageFleet() as f:
            try:
                self.run_upgrade(f)
            except BaseException:
                for name in ("controlplane", *f.node_ids):
                    print(f"---- {name} log ----\n{f.log(name)[-6000:]}")
                raise

    def run_upgrade(self, f):
        f.unpack_images()
        self.assertEqual(f.labels["agent_image_next"]["org.opencontainers.image.version"],
                         "0.1.1-next")
        f.start_controlplane()
        for n in f.node_ids:
            f.start_agent(n)
        f.wait_connected(f.node_ids)
        self.assertEqual(f.daemons_in("controlplane_image"), ["trace-controlpl"])
        self.assertEqual(f.daemons_in("agent_image"), ["trace-agent", "trace-agent"])

        session = f.start_session("--comm", f.comm)
        f.wait_applied(session, f.node_ids)
        for n in f.node_ids:
            f.start_workload(n)
            f.markers(n, "before", 20)

        # Markers keep coming, 20 per second per node, through the upgrade.
        during = 1200
        for n in f.node_ids:
            f.markers(n, "upgrade", during, seconds=during / 20, wait=False)
        t0 = time.monotonic()
        for n in f.node_ids:
            time.sleep(3)
            self.assertEqual(f.kill(n, signal.SIGTERM), 0, f"agent {n} exit status")
            f.start_agent(n, "agent_image_next")
            f.wait_applied(session, [n])
        time.sleep(3)
        self.assertEqual(f.kill("controlplane", signal.SIGTERM), 0, "control plane exit status")
        f.start_controlplane("controlplane_image_next")
        f.wait_connected(f.node_ids)
        upgrade_s = time.monotonic() - t0
        self.assertLess(upgrade_s, during / 20 - 5,
                        "the upgrade must end while the markers are still coming")
        for n in f.node_ids:
            f.wait_markers_done(n, "upgrade")
            f.markers(n, "after", 20)

        self.assertEqual(f.daemons_in("agent_image"), [])
        self.assertEqual(f.daemons_in("controlplane_image"), [])
        self.assertEqual(f.daemons_in("agent_image_next"), ["trace-agent", "trace-agent"])
        self.assertEqual(f.daemons_in("controlplane_image_next"), ["trace-controlpl"])

        # The session survived: active, and applied by the new agents.
        p = f.tracectl("session", "list", user="viewer")
        self.assertRegex(p.stdout, rf"(?m)^{session}\s+.*active", p.stdout)
        f.wait_applied(session, f.node_ids)
        p = f.tracectl("version", user="viewer")
        self.assertEqual(p.returncode, 0, p.stderr)
        for n in f.node_ids:
            self.assertRegex(p.stdout, rf"(?m)^agent {n}\s+\S+ \(connected\)$")

        # Everything the agents captured arrives; then count.
        def stored():
            m = f.marker_spans()
            for agent in f.node_ids:
                for wl in f.node_ids:
                    if not all((agent, wl, "after", i) in m for i in range(20)):
                        return None
            return m
        markers = None
        deadline = time.monotonic() + 90
        while markers is None and time.monotonic() < deadline:
            markers = stored()
            if markers is None:
                time.sleep(1)
        self.assertIsNotNone(markers, "the 'after' markers of every agent arrived")

        dup = {k: v for k, v in markers.items() if len(v) != 1}
        self.assertEqual(dup, {}, "markers stored more than once")
        all_ids = [s["span_id"] for s in f.spans()]
        self.assertEqual(len(all_ids), len(set(all_ids)), "a span stored twice")

        for wl in f.node_ids:
            for batch, count in (("before", 20), ("upgrade", during), ("after", 20)):
                missing = [i for i in range(count)
                           if not any((a, wl, batch, i) in markers for a in f.node_ids)]
                self.assertEqual(missing, [], f"{batch} markers of {wl} no agent stored")
            # Each agent missed at most one stretch of the upgrade batch (its
            # own restart), and stored the rest.
            for agent in f.node_ids:
                got = [(agent, wl, "upgrade", i) in markers for i in range(during)]
                gaps = sum(1 for i in range(during) if not got[i] and (i == 0 or got[i - 1]))
                self.assertLessEqual(gaps, 1, f"agent {agent}, workload {wl}: {gaps} gaps")
                self.assertGreater(sum(got), during // 2, f"agent {agent}, workload {wl}")
        counts = collections.Counter(k[0] for k in markers)
        print("markers stored per agent:", dict(counts), f"upgrade took {upgrade_s:.1f}s")


if __name__ == "__main__":
    unittest.main(verbosity=2)
