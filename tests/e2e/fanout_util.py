"""Shared pieces of the fan-out outage tests (fanout_*_test.py): a fleet of
one agent node whose workload makes a known set of marker syscalls, a control
plane exporting to Node.js OTLP receivers (receiver_util), and the checks
every case makes:

  - the control plane's embedded store holds every marker exactly once (the
    capture side, proven exactly-once by fleet_loss_test), and is the
    reference of "the spans captured";
  - a receiver finally holds exactly those span ids: none missing, none
    foreign; duplicates only as whole repeated requests (DESIGN.md "Delivery
    promise": at-least-once towards a backend), which `repeats()` returns so
    each test can explain them;
  - counters from `tracectl status` (parsed by `status()`) and the same
    numbers on /metrics (`metrics()`, Prometheus text from --metrics_listen).
"""

import json
import os
import re
import sys
import time
import unittest
import urllib.request

import e2e_util as u
import fleet_util as fu
import receiver_util as ru

NODE = "node-a"

# Fast-failing breaker for the tests: the exporters' retry backoff follows
# the Collector's defaults (5 s initial interval, not configurable per
# exporter), so a threshold of 1 makes every failure open the circuit and
# the half-open probe after open_for is the next attempt.
FAST_BREAKER = {"breakerFailureThreshold": 1, "breakerOpenForMs": 500}


def exporter(name, receiver, protocol="grpc", **fields):
    """An ExporterSpec (protobuf JSON) for `receiver` over `protocol`."""
    endpoint = receiver.grpc_endpoint if protocol == "grpc" else receiver.http_endpoint
    spec = {"name": name, "protocol": protocol, "endpoint": endpoint}
    spec.update(FAST_BREAKER)
    spec.update(fields)
    return spec


_EXPORTER_ROW = re.compile(
    r"^(?P<name>\S+)\s+(?P<endpoint>.*?)\s+(?P<sent>\d+)\s+(?P<failed>\d+)\s+(?P<retried>\d+)"
    r"\s+(?P<dead>\d+)\s+(?P<lag>\d+)\s+(?P<circuit>closed|open|half-open)\s*$")


def parse_status(text: str) -> dict:
    """`tracectl status` output -> {"stored": N, "queue_records": N,
    "agents": {node: {"lag": N, "drops": N}}, "exporters": {name: {"endpoint",
    "sent", "failed", "retried", "dead_lettered", "lag", "circuit",
    "failed_by_reason": {reason: N}, "last_error"}}}."""
    out = {"exporters": {}, "agents": {}}
    m = re.search(r"spans stored\s+(\d+)", text)
    out["stored"] = int(m.group(1)) if m else None
    m = re.search(r"queue\s+(\d+) records", text)
    out["queue_records"] = int(m.group(1)) if m else None
    section = None
    last = None
    for line in text.splitlines():
        if line.startswith("AGENT "):
            section = "agents"
            continue
        if line.startswith("EXPORTER "):
            section = "exporters"
            continue
        if section == "agents" and line.strip():
            f = line.split()
            # ... WAL_BYTES LAG DROPS SPANS/S
            out["agents"][f[1]] = {"lag": int(f[-3]), "drops": int(f[-2])}
        elif section == "exporters":
            m = _EXPORTER_ROW.match(line)
            if m:
                last = {"endpoint": m.group("endpoint"), "sent": int(m.group("sent")),
                        "failed": int(m.group("failed")), "retried": int(m.group("retried")),
                        "dead_lettered": int(m.group("dead")), "lag": int(m.group("lag")),
                        "circuit": m.group("circuit"), "failed_by_reason": {},
                        "last_error": ""}
                out["exporters"][m.group("name")] = last
            elif line.startswith("    failed by reason: ") and last is not None:
                for part in line.split(":", 1)[1].split():
                    k, v = part.split("=")
                    last["failed_by_reason"][k] = int(v)
            elif line.startswith("    last error: ") and last is not None:
                last["last_error"] = line.split(": ", 1)[1]
    return out


_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> dict:
    """Prometheus text -> {(metric name, ((label, value), ...sorted)): float}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"not a Prometheus sample: {line!r}")
        labels = tuple(sorted(_LABEL.findall(m.group("labels") or "")))
        out[(m.group("name"), labels)] = float(m.group("value"))
    return out


def repeats(requests):
    """Checks that every span id seen more than once comes from a request
    that repeats an earlier request exactly (same span ids), which is how an
    at-least-once re-send looks. Returns (number of repeated requests, spans
    in them); raises AssertionError naming the span ids otherwise."""
    seen_requests = set()
    seen_ids = set()
    repeated, repeated_spans = 0, 0
    for req in requests:
        key = tuple(sorted(req))
        if len(set(req)) != len(req):
            raise AssertionError(f"a request holds the same span twice: {req}")
        if key in seen_requests:
            repeated += 1
            repeated_spans += len(req)
            continue
        overlap = seen_ids & set(req)
        if overlap:
            raise AssertionError(f"{len(overlap)} spans re-sent in a request that is no exact "
                                 f"repeat of an earlier one: {sorted(overlap)[:5]}")
        seen_requests.add(key)
        seen_ids.update(req)
    return repeated, repeated_spans


def main():
    """unittest.main() that ends with a plain "N passed, N failed, N skipped"
    line and exits non-zero on any failure."""
    result = unittest.main(exit=False).result
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    for test, reason in result.skipped:
        print(f"{test.id()}: {reason}")  # "SKIP: why", counted by tests/run_all.sh
    print(f"{result.testsRun - failed - skipped} passed, {failed} failed, {skipped} skipped")
    sys.exit(0 if result.wasSuccessful() else 1)


class FanoutTestCase(unittest.TestCase):
    """One control plane, one agent node (NODE) with its marker workload,
    receivers made by `receiver()`. setUp skips without root or peers."""

    def setUp(self):
        u.require_root(self)
        self.peers = ru.peers_dir(self)
        self.fleet = fu.Fleet(nodes=(NODE,)).__enter__()
        self.addCleanup(self.fleet.close)
        self.receivers = []
        self.addCleanup(self._stop_receivers)
        self.metrics_port = ru.free_port()
        self.expected = set()  # (batch, index) of every marker made

    def _stop_receivers(self):
        for r in self.receivers:
            r.stop()

    def receiver(self, name) -> ru.Receiver:
        """A receiver on fixed ports, not started."""
        r = ru.Receiver(self.peers, self.fleet.tmp, name)
        self.receivers.append(r)
        return r

    def start(self, exporters, env=None):
        """Control plane with `exporters` in --exporters_config, /metrics and
        `env` (e.g. OTEL_EXPORTER_OTLP_*) added to its environment; then the
        agent, the workload and a session tracing the workload's openat."""
        f = self.fleet
        cfg = os.path.join(f.tmp, "exporters.json")
        with open(cfg, "w") as out:
            json.dump({"exporters": exporters}, out)
        f.start_controlplane(["--exporters_config", cfg,
                              "--metrics_listen", f"127.0.0.1:{self.metrics_port}",
                              "--export_drain_ms", "500"], env=env)
        f.start_agent(NODE)
        f.start_workload(NODE)
        f.wait_connected([NODE])
        sid = f.start_session("--comm", f.comm, "-e", "trace=openat")
        f.wait_applied(sid, [NODE])

    # ----- markers and the store ---------------------------------------------

    def markers(self, batch, count, seconds=0.0, wait=True):
        """`count` marker syscalls named `batch`, spread over `seconds`."""
        self.fleet.markers(NODE, batch, count, seconds, wait=wait)
        self.expected |= {(batch, i) for i in range(count)}

    def stored_markers(self):
        """{(batch, index): [span ids]} of the markers in the embedded store."""
        return {(b, i): ids for (agent, wl, b, i), ids in self.fleet.marker_spans().items()
                if agent == NODE and wl == NODE}

    def wait_stored(self, keys=None, timeout=15):
        """Waits until the store holds every marker of `keys` (default: all
        made so far). Returns the seconds it took."""
        keys = set(self.expected if keys is None else keys)
        t0 = time.monotonic()
        self.fleet.wait_for(lambda: keys <= set(self.stored_markers()), timeout,
                            f"{len(keys)} markers in the embedded store")
        return time.monotonic() - t0

    def captured(self):
        """Span ids of everything captured (the store's spans), after checking
        the store holds every marker made exactly once and nothing else."""
        spans = self.fleet.spans()
        markers = {(b, i): ids for (agent, wl, b, i), ids in
                   self.fleet.marker_spans(spans).items()}
        self.assertEqual(set(markers), self.expected, "the store holds exactly the markers made")
        self.assertEqual({k: v for k, v in markers.items() if len(v) != 1}, {})
        ids = [s["span_id"] for s in spans]
        self.assertEqual(len(ids), len(set(ids)), "span ids in the store are unique")
        return set(ids)

    def marker_ids(self, batch):
        """Span ids of one batch's markers in the store."""
        return {ids[0] for (b, _), ids in self.stored_markers().items() if b == batch}

    def wait_received(self, receiver, ids, timeout=20):
        """Waits until `receiver` holds every span id of `ids`; returns the
        seconds it took."""
        ids = set(ids)
        t0 = time.monotonic()
        self.fleet.wait_for(lambda: ids <= set(receiver.span_ids()), timeout,
                            f"{len(ids)} spans at receiver {receiver.name}")
        return time.monotonic() - t0

    def assert_holds_exactly(self, receiver, ids):
        """`receiver` holds exactly `ids` (none missing, none foreign);
        returns (repeated requests, spans in them) for the caller to explain."""
        got = receiver.span_ids()
        self.assertEqual(set(got) - set(ids), set(), f"foreign spans at {receiver.name}")
        self.assertEqual(set(ids) - set(got), set(), f"spans missing at {receiver.name}")
        reqs = receiver.requests()
        rep = repeats(reqs)
        self.assertEqual(len(got) - len(set(got)), rep[1])
        return rep

    # ----- counters ------------------------------------------------------------

    def status(self) -> dict:
        p = self.fleet.tracectl("status", user="viewer")
        self.assertEqual(p.returncode, 0, p.stderr)
        return parse_status(p.stdout)

    def exporter_status(self, name) -> dict:
        st = self.status()["exporters"]
        self.assertIn(name, st, f"exporter {name} in tracectl status")
        return st[name]

    def wait_exporter(self, name, cond, what, timeout=20):
        """Polls tracectl status until cond(exporter row) holds; returns it."""
        box = {}

        def check():
            box["e"] = self.status()["exporters"].get(name)
            return box["e"] is not None and cond(box["e"])
        try:
            self.fleet.wait_for(check, timeout, f"exporter {name}: {what}")
        except AssertionError:
            raise AssertionError(f"exporter {name}: {what}; last status {box.get('e')}\n"
                                 + self.fleet.log("controlplane")[-3000:])
        return box["e"]

    def metrics(self) -> dict:
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as r:
            return parse_metrics(r.read().decode())

    def assert_metrics_agree(self, name):
        """/metrics shows the counters `tracectl status` shows for `name`
        (both read once the exporter is idle, so they cannot move between)."""
        e = self.exporter_status(name)
        m = self.metrics()
        lbl = (("exporter", name),)

        def val(metric, labels=lbl):
            return m.get((metric, tuple(sorted(labels))))
        self.assertEqual(val("tracer_exporter_spans_sent_total"), e["sent"])
        self.assertEqual(val("tracer_exporter_spans_retried_total"), e["retried"])
        self.assertEqual(val("tracer_exporter_spans_dead_lettered_total"), e["dead_lettered"])
        self.assertEqual(val("tracer_exporter_queue_lag_records"), e["lag"])
        failed = {dict(k[1])["reason"]: v for k, v in m.items()
                  if k[0] == "tracer_exporter_spans_failed_total"
                  and dict(k[1]).get("exporter") == name}
        self.assertEqual(failed, {k: float(v) for k, v in e["failed_by_reason"].items()})
        self.assertEqual(val("tracer_exporter_circuit_state",
                             lbl + (("state", e["circuit"]),)), 1.0)
        return m

    def counted(self, name):
        """Counters of exporter `name` once nothing is left to send."""
        return self.wait_exporter(name, lambda e: e["lag"] == 0 and e["circuit"] == "closed",
                                  "caught up (lag 0, circuit closed)")
