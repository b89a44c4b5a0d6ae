"""No loss, no duplicates: kill -9 an agent mid-session and restart it; kill -9
the control plane and restart it. Every span the agents wrote to their WAL
arrives in the control plane's store exactly once, counted by span id: the
workloads make a known number of marker syscalls (openat of a path naming
node, batch and index), and the store must hold each marker once per agent,
with no gaps and no duplicate span ids."""

import re
import signal
import time
import unittest

import e2e_util as u
import fleet_util as fu


class FleetLossTest(unittest.TestCase):
    def setUp(self):
        u.require_root(self)
        self.fleet = fu.Fleet(nodes=("node-a", "node-b")).__enter__()
        self.addCleanup(self.fleet.close)

    def expect(self, batch, count):
        f = self.fleet
        return {(a, w, batch, i) for a in f.node_ids for w in f.node_ids for i in range(count)}

    def wait_markers(self, expected, timeout=90):
        f = self.fleet
        f.wait_for(lambda: expected <= set(f.marker_spans()), timeout,
                   f"{len(expected)} marker spans in the store")

    def test_kill_agent_and_controlplane(self):
        f = self.fleet
        f.start_controlplane()
        for n in f.node_ids:
            f.start_agent(n)
            f.start_workload(n)
        f.wait_connected(f.node_ids)
        sid = f.start_session("--comm", f.comm, "-e", "trace=openat")
        f.wait_applied(sid, f.node_ids)
        expected = self.expect("b0", 10)
        for n in f.node_ids:
            f.markers(n, "b0", 10)
        self.wait_markers(expected)

        # 1. Agent kill -9 with spans in its WAL that the control plane has
        # not acknowledged: the control plane is frozen (SIGSTOP) while the
        # markers are captured and flushed (flush interval 1 s), then the
        # agent dies, the control plane resumes and the agent restarts on the
        # same --data_dir.
        cp = f.procs["controlplane"]
        cp.send_signal(signal.SIGSTOP)
        try:
            for n in f.node_ids:
                f.markers(n, "b1", 50)
            time.sleep(3)
            self.assertEqual(f.kill("node-a", signal.SIGKILL), -signal.SIGKILL)
        finally:
            cp.send_signal(signal.SIGCONT)
        f.start_agent("node-a")
        f.wait_connected(f.node_ids)
        f.wait_applied(sid, f.node_ids)
        # The restarted agent found the unacknowledged batches in its WAL.
        restarted = f.log("node-a").split("---- start")[-1]
        m = re.search(r"WAL \S+ open: (\d+) records", restarted)
        self.assertIsNotNone(m, restarted[:2000])
        self.assertGreater(int(m.group(1)), 0, "the killed agent left records in its WAL")
        expected |= self.expect("b1", 50)
        time.sleep(2)  # the comm rescan (1 s) re-attaches the workloads
        for n in f.node_ids:
            f.markers(n, "b2", 10)
        expected |= self.expect("b2", 10)
        self.wait_markers(expected)

        # 2. Control plane kill -9 while both agents are uploading a steady
        # stream of markers (600 per workload over 6 s), restart on the same
        # --data_dir: nothing the agents captured may be lost or doubled.
        for n in f.node_ids:
            f.markers(n, "b3", 600, seconds=6, wait=False)
        time.sleep(2.5)
        self.assertEqual(f.kill("controlplane", signal.SIGKILL), -signal.SIGKILL)
        time.sleep(0.5)
        f.start_controlplane()
        for n in f.node_ids:
            f.wait_markers_done(n, "b3")
        f.wait_connected(f.node_ids)
        expected |= self.expect("b3", 600)
        self.wait_markers(expected, timeout=120)

        # Exactly once: every marker of every agent once, nothing else.
        time.sleep(3)  # a late duplicate would have arrived by now
        spans = f.spans()
        markers = f.marker_spans(spans)
        self.assertEqual(set(markers), expected)
        doubled = {k: v for k, v in markers.items() if len(v) != 1}
        self.assertEqual(doubled, {})
        ids = [s["span_id"] for s in spans]
        self.assertEqual(len(ids), len(set(ids)), "span ids are unique")
        status = f.tracectl("status", user="viewer")
        stored = int(re.search(r"spans stored\s+(\d+)", status.stdout).group(1))
        self.assertEqual(stored, len(spans), status.stdout)
        # No kernel drops (DROPS, the next-to-last column) hide in the count.
        drops = {l.split()[0]: l.split()[-2] for l in status.stdout.splitlines()
                 if l.startswith("node-")}
        self.assertEqual(drops, {n: "0" for n in f.node_ids}, status.stdout)


if __name__ == "__main__":
    unittest.main()
