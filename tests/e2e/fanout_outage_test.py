"""Fan-out through backend outages, with the real daemons (one agent node in
its own network namespace, the control plane) and the Node.js OTLP receiver
built on grpc-js and the official OTLP protos, restarted by pid on the same
port:

  - down for a while, then back: everything arrives after it returns; while
    down `tracectl status` and /metrics show lag > 0, an open circuit and
    the failures; afterwards lag 0, circuit closed, nothing twice; capture
    into the embedded store went on promptly meanwhile;
  - kill -9 while markers stream, with a request recorded but not answered:
    nothing is missing, and the one duplicate batch is exactly that request.
"""

import signal
import time

import fanout_util as fx


class FanoutOutageTest(fx.FanoutTestCase):
    def test_down_for_a_while_then_back_on_the_same_port(self):
        rx = self.receiver("tempo").start()
        self.start([fx.exporter("tempo", rx)])
        self.markers("b0", 20)
        self.wait_stored()
        self.wait_received(rx, self.marker_ids("b0"), timeout=10)
        self.assertEqual(rx.stop(), 0)  # SIGTERM: a clean exit, nothing in flight

        # Down: capture goes on (the store gets every marker within a few
        # seconds), the exporter's lag grows and its circuit opens.
        t0 = time.monotonic()
        self.markers("b1", 300, seconds=3)
        self.wait_stored(timeout=10)
        self.assertLess(time.monotonic() - t0, 3 + 3, "the store keeps up while the backend is down")
        down = self.wait_exporter(
            "tempo", lambda e: e["lag"] > 0 and e["circuit"] == "open"
            and e["failed_by_reason"].get("unavailable", 0) > 0, "lag > 0 and circuit open")
        self.assertIn("127.0.0.1", down["last_error"])
        m = self.metrics()
        self.assertEqual(m[("tracer_exporter_queue_lag_spans", (("exporter", "tempo"),))], 300.0)
        self.assertEqual(m[("tracer_exporter_circuit_state",
                            (("exporter", "tempo"), ("state", "open")))], 1.0)
        self.assertEqual(m[("tracer_exporter_circuit_state",
                            (("exporter", "tempo"), ("state", "closed")))], 0.0)
        time.sleep(2)  # several half-open probes fail meanwhile
        later = self.exporter_status("tempo")
        self.assertGreater(later["failed"], down["failed"], "probes go on while it is down")
        self.assertEqual(set(rx.span_ids()), self.marker_ids("b0"))

        # Back on the same port: the queued spans arrive within a few probes.
        rx.start()
        ids = self.captured()
        took = self.wait_received(rx, ids, timeout=10)
        self.assertLess(took, 5)
        e = self.counted("tempo")
        # Exactly once: no attempt failed after the backend had the spans.
        self.assertEqual(self.assert_holds_exactly(rx, ids), (0, 0))
        self.assertEqual(e["sent"], len(ids))
        self.assertEqual(set(e["failed_by_reason"]), {"unavailable"})
        # Every failed attempt carried the same pending batch, re-sent each
        # time: the first request after the return.
        b0 = self.marker_ids("b0")
        first_back = next(r for r in rx.requests() if not set(r) <= b0)
        self.assertEqual(set(first_back) & b0, set())
        self.assertEqual(e["failed"] % len(first_back), 0, e)
        self.assertGreaterEqual(e["failed"] // len(first_back), 3, "several attempts failed")
        self.assertEqual(e["retried"], e["failed"], "every failed span was sent again")
        self.assertEqual(e["last_error"], "")
        m = self.assert_metrics_agree("tempo")
        self.assertEqual(m[("tracer_exporter_queue_lag_spans", (("exporter", "tempo"),))], 0.0)
        # Capture was never held back: no drops, nothing left in the agent.
        agent = self.status()["agents"][fx.NODE]
        self.assertEqual((agent["lag"], agent["drops"]), (0, 0))

    def test_killed_mid_stream_then_restarted(self):
        # The first request is recorded and then held unanswered for 4 s (a
        # backend that stores before it answers); the receiver is killed
        # with SIGKILL while it holds it and while the markers still stream.
        rx = self.receiver("jaeger").start("--delay-ms", "4000:1")
        self.start([fx.exporter("jaeger", rx)])  # timeout_ms: the default 10 s
        t0 = time.monotonic()
        self.markers("b0", 1200, seconds=6, wait=False)
        self.fleet.wait_for(lambda: any("delayedMs" in a for a in rx.attempts()), 10,
                            "a request held by the receiver")
        held = rx.requests()
        self.assertEqual(len(held), 1)
        self.assertEqual(rx.kill(), -signal.SIGKILL)
        self.assertLess(time.monotonic() - t0, 5, "killed while the markers stream")
        time.sleep(2)
        rx.start()
        self.fleet.wait_markers_done(fx.NODE, "b0")
        self.wait_stored()
        ids = self.captured()
        self.wait_received(rx, ids, timeout=15)
        e = self.counted("jaeger")

        # Nothing missing. The only duplicate is the held request, sent again
        # because it was never answered (at-least-once: the control plane
        # cannot know the dead receiver had stored it).
        repeated = self.assert_holds_exactly(rx, ids)
        self.assertEqual(repeated, (1, len(held[0])))
        again = [r for r in rx.requests()[1:] if sorted(r) == sorted(held[0])]
        self.assertEqual(len(again), 1)
        # The control plane counts what was acknowledged: each span once.
        self.assertEqual(e["sent"], len(ids))
        self.assertGreaterEqual(e["failed"], len(held[0]))
        self.assertEqual(e["retried"], e["failed"])
        self.assertEqual(e["failed"] % len(held[0]), 0, e)
        self.assert_metrics_agree("jaeger")


if __name__ == "__main__":
    fx.main()
