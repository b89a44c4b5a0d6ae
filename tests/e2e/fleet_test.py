"""A fleet on one machine: one trace-controlplane with mutual TLS and two
trace-agents, each in its own network namespace. A session started with
tracectl (operator certificate) reaches every agent, spans from each node
arrive in the control plane's store, and `session stop` stops capture on all
of them."""

import os
import re
import time
import unittest

import e2e_util as u
import fleet_util as fu

MARKERS = 20


class FleetTest(unittest.TestCase):
    def setUp(self):
        u.require_root(self)
        self.fleet = fu.Fleet(nodes=("node-a", "node-b")).__enter__()
        self.addCleanup(self.fleet.close)

    def test_session_reaches_every_node_and_stop_ends_capture(self):
        f = self.fleet
        f.start_controlplane()
        for n in f.node_ids:
            f.start_agent(n)
            f.start_workload(n)
        f.wait_connected(f.node_ids)
        # Each agent dialed the control plane from inside its namespace.
        log = f.log("controlplane")
        for n in f.node_ids:
            self.assertRegex(log, rf"agent {n} .*connected from ipv4:{re.escape(f.node_addr(n))}:")

        sid = f.start_session("--comm", f.comm, "-e", "trace=openat", "--name", "fleet")
        f.wait_applied(sid, f.node_ids)
        for n in f.node_ids:
            f.markers(n, "b0", MARKERS)
        # Every agent traces every process with the comm (one kernel, one pid
        # namespace): agents x workloads x markers, each exactly once.
        expected = {(a, w, "b0", i) for a in f.node_ids for w in f.node_ids
                    for i in range(MARKERS)}
        f.wait_for(lambda: expected <= set(f.marker_spans()), 60, "b0 markers from every node")
        spans = f.spans()
        markers = f.marker_spans(spans)
        self.assertEqual(set(markers), expected)
        for key, ids in markers.items():
            self.assertEqual(len(ids), 1, key)
        ids = [s["span_id"] for s in spans]
        self.assertEqual(len(ids), len(set(ids)), "span ids are unique")

        # Counted by service and node: each node's agent sent the workload's
        # spans under the executable's name and this session's id.
        service = os.path.basename(os.path.realpath(f.workload_exe()))
        by_node = {}
        for s in spans:
            if s["name"] == "openat":
                by_node.setdefault((s["node"], s["service"]), 0)
                by_node[(s["node"], s["service"])] += 1
        for n in f.node_ids:
            self.assertGreaterEqual(by_node.get((n, service), 0), 2 * MARKERS, by_node)
        self.assertEqual({s["session"] for s in spans}, {sid})
        listed = f.tracectl("traces", "list", "--service", service, user="viewer")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertGreaterEqual(len(listed.stdout.splitlines()) - 1, 1, listed.stdout)
        trace_id = listed.stdout.splitlines()[1].split()[0]
        shown = f.tracectl("traces", "show", trace_id, user="viewer")
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertRegex(shown.stdout, r"openat( \[\S+\])? !")  # ENOENT: an error span

        # Stop: every agent applies the new policy version, then captures
        # nothing more.
        stopped = f.tracectl("session", "stop", sid, user="operator")
        self.assertEqual(stopped.returncode, 0, stopped.stderr)
        self.assertIn("state     stopped", stopped.stdout)
        version = int(re.search(r"policy version (\d+)", stopped.stdout).group(1))
        f.wait_policy(version, f.node_ids, 30)
        for n in f.node_ids:
            f.markers(n, "b1", MARKERS)
        time.sleep(4)  # > flush interval (1 s) + upload; spans would be here
        after = f.marker_spans()
        self.assertEqual([k for k in after if k[2] == "b1"], [])
        self.assertEqual(set(after), expected)
        listed = f.tracectl("session", "list", "--all", user="viewer")
        self.assertRegex(listed.stdout, rf"{sid}\s+stopped")


if __name__ == "__main__":
    unittest.main()
