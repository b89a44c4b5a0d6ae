"""Fan-out to several backends, with the real daemons and Node.js OTLP
receivers (grpc-js / protobufjs on the official OTLP protos):

  - two backends, one dead: the live one receives every span within a few
    seconds of capture while the other is down; the dead one catches up
    after it returns. `tracectl exporters add` of a third backend at run
    time: it receives the spans still queued and the new ones; `tracectl
    exporters remove`: status and /metrics no longer list it, it receives
    nothing more, and its cursor is gone (added again under the same name
    it starts over at the oldest queued record);
  - capture is never blocked: with one backend that never answers in time
    and one that refuses connections, the embedded store receives each
    batch of markers within seconds and the agent has nothing left to
    upload; when both return they hold every span.
"""

import collections
import time

import fanout_util as fx


class FanoutBackendsTest(fx.FanoutTestCase):
    def exporters_listed(self):
        p = self.fleet.tracectl("exporters", "list", user="viewer")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = p.stdout.splitlines()[1:-1]
        return {r.split()[0]: r.split()[4] for r in rows}  # name -> source

    def test_two_backends_one_dead_then_add_and_remove_at_run_time(self):
        f = self.fleet
        live = self.receiver("live").start()
        dead = self.receiver("dead")  # its port stays closed until step 5
        extra = self.receiver("extra").start()
        # The live backend is the "default" exporter of the standard
        # OTEL_EXPORTER_OTLP_* variables, the dead one from the config file.
        self.start([fx.exporter("dead", dead, "http/protobuf")],
                   env={"OTEL_EXPORTER_OTLP_ENDPOINT": live.grpc_endpoint,
                        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})

        # 1. The live backend gets every span within a few seconds of its
        # capture while the other one is down.
        self.markers("b0", 300, seconds=2)
        done = time.monotonic()
        self.wait_stored(timeout=10)
        self.wait_received(live, self.marker_ids("b0"), timeout=10)
        self.assertLess(time.monotonic() - done, 4.0, "live backend not held back by the dead one")
        down = self.wait_exporter("dead", lambda e: e["lag"] > 0 and e["circuit"] == "open",
                                  "lag > 0 and circuit open")
        self.assertEqual(down["sent"], 0)
        self.assertGreater(down["failed_by_reason"].get("unavailable", 0), 0)

        # 2. A third backend added at run time receives what is still queued
        # (the dead backend's cursor keeps it) and what comes next.
        p = f.tracectl("exporters", "add", "extra", "--endpoint", extra.grpc_endpoint,
                       "--breaker-failures", "1", "--breaker-open-for", "500ms")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.exporters_listed(),
                         {"default": "env", "dead": "config", "extra": "api"})
        self.wait_received(extra, self.marker_ids("b0"), timeout=10)
        self.markers("b1", 100)
        done = time.monotonic()
        self.wait_stored(timeout=10)
        self.wait_received(live, self.marker_ids("b1"), timeout=10)
        self.wait_received(extra, self.marker_ids("b1"), timeout=10)
        self.assertLess(time.monotonic() - done, 4.0)
        self.counted("extra")
        self.assertEqual(self.assert_holds_exactly(extra, self.marker_ids("b0")
                                                   | self.marker_ids("b1")), (0, 0))

        # 3. Removed: gone from status and /metrics, and it receives nothing
        # more.
        p = f.tracectl("exporters", "remove", "extra")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("extra", self.status()["exporters"])
        self.assertNotIn("extra", self.exporters_listed())
        self.assertFalse([k for k in self.metrics() if ("exporter", "extra") in k[1]])
        before = extra.span_ids()
        self.markers("b2", 50)
        self.wait_stored(timeout=10)
        self.wait_received(live, self.marker_ids("b2"), timeout=10)
        time.sleep(1.0)  # a poll interval and more for a stray worker to send
        self.assertEqual(extra.span_ids(), before)

        # 4. Its cursor went with it: added again under the same name, it gets
        # a new cursor at the oldest queued record and receives b0..b2 (a
        # kept cursor would have resumed after b1).
        p = f.tracectl("exporters", "add", "extra", "--endpoint", extra.grpc_endpoint)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.wait_received(extra, self.marker_ids("b2"), timeout=10)
        self.counted("extra")
        twice = self.marker_ids("b0") | self.marker_ids("b1")
        counts = collections.Counter(extra.span_ids())
        self.assertEqual(counts, collections.Counter({**{s: 2 for s in twice},
                                                     **{s: 1 for s in self.marker_ids("b2")}}))

        # 5. The dead backend returns on its port and catches up.
        self.assertEqual(self.exporter_status("dead")["sent"], 0)
        dead.start()
        ids = self.captured()
        self.wait_received(dead, ids, timeout=10)
        for name, rx in (("default", live), ("dead", dead)):
            e = self.counted(name)
            self.assertEqual(self.assert_holds_exactly(rx, ids), (0, 0), name)
            self.assertEqual(e["sent"], len(ids), name)
            self.assertEqual(e["retried"], e["failed"], name)
            self.assert_metrics_agree(name)
        self.assertEqual(self.exporter_status("default")["failed"], 0)
        self.assertEqual(set(self.exporter_status("dead")["failed_by_reason"]), {"unavailable"})
        self.assertEqual(self.status()["queue_records"], 0, "every cursor caught up")

    def test_capture_never_blocked_by_backends(self):
        # One backend stores each request but never answers within the
        # exporter's 2 s timeout; another refuses connections.
        hung = self.receiver("hung").start("--delay-ms", "60000:-1")
        gone = self.receiver("gone")
        self.start([fx.exporter("hung", hung, timeoutMs=2000), fx.exporter("gone", gone)])
        for i in range(4):
            batch = f"b{i}"
            self.markers(batch, 100)
            took = self.wait_stored({(batch, j) for j in range(100)}, timeout=10)
            self.assertLess(took, 3.0, f"{batch} stored promptly")
        st = self.status()
        self.assertEqual(st["stored"], 400)
        self.assertEqual((st["agents"][fx.NODE]["lag"], st["agents"][fx.NODE]["drops"]), (0, 0))
        self.assertEqual(st["exporters"]["embedded-store"]["lag"], 0)
        self.wait_exporter("hung", lambda e: e["failed_by_reason"].get("deadline_exceeded", 0) > 0
                           and e["lag"] > 0, "timed out attempts")
        self.wait_exporter("gone", lambda e: e["failed_by_reason"].get("unavailable", 0) > 0
                           and e["lag"] > 0, "refused attempts")

        # Both return (hung without its delay): each then holds every span.
        hung.stop()
        hung.start()
        gone.start()
        ids = self.captured()
        self.wait_received(hung, ids, timeout=15)
        self.wait_received(gone, ids, timeout=15)
        e = self.counted("gone")
        self.assertEqual(self.assert_holds_exactly(gone, ids), (0, 0))
        self.assertEqual(e["sent"], len(ids))
        e = self.counted("hung")
        self.assertEqual(e["sent"], len(ids))
        # The hung receiver stored every request it held; each was sent again
        # (the same pending batch): the repeats are exactly those requests.
        held = [a for a in hung.attempts() if "delayedMs" in a]
        first = hung.requests()[0]
        self.assertEqual(self.assert_holds_exactly(hung, ids), (len(held), len(held) * len(first)))
        self.assertGreaterEqual(e["failed_by_reason"]["deadline_exceeded"], len(first))
        self.assertEqual(e["retried"], e["failed"])


if __name__ == "__main__":
    fx.main()
