"""Fan-out through a backend that answers with failures, with the real daemons
and the Node.js OTLP receiver (grpc-js / protobufjs on the official OTLP
protos) failing on purpose:

  - HTTP 503 with Retry-After (OTLP/HTTP protobuf): retried after the
    server's delay, not the breaker's shorter one; all delivered once;
  - gRPC UNAVAILABLE three times with a RetryInfo delay: retried with that
    spacing, delivered once;
  - slower than the exporter's timeout: counted as deadline_exceeded, sent
    again, delivered once the receiver is fast; the receiver, which stored
    each late request, holds whole repeated batches, exactly as many spans
    as were counted deadline_exceeded;
  - HTTP 400: the refused request is dead-lettered to
    <data_dir>/dead_letter/<name>.jsonl (exactly the refused spans, never
    sent again), counted, and later spans are delivered normally; the file
    replays into the receiver's OTLP/HTTP JSON endpoint.

Each case checks the counters in `tracectl status` and on /metrics.
"""

import json
import os
import urllib.request

import fanout_util as fx
import receiver_util as ru


class FanoutFailuresTest(fx.FanoutTestCase):
    def clock(self, rx):
        c = ru.AttemptClock(rx)
        self.addCleanup(c.close)
        return c

    def test_http_503_retry_after(self):
        rx = self.receiver("honeycomb").start("--fail-http", "503:1:3")
        # Breaker open_for 500 ms: without the Retry-After of 3 s the retry
        # would come after half a second.
        self.start([fx.exporter("honeycomb", rx, "http/protobuf")])
        clock = self.clock(rx)
        self.markers("b0", 100)
        self.wait_stored()
        ids = self.captured()
        self.wait_received(rx, ids, timeout=15)
        e = self.counted("honeycomb")
        self.assertEqual(self.assert_holds_exactly(rx, ids), (0, 0))

        (t_fail, failed), (t_retry, retry) = clock.seen[0], clock.seen[1]
        self.assertEqual((failed["answer"], retry["answer"]), (503, 200))
        self.assertEqual(failed["contentType"], "application/x-protobuf")
        self.assertGreaterEqual(t_retry - t_fail, 3 - 0.1, "Retry-After: 3 honoured")
        self.assertLess(t_retry - t_fail, 3 + 1.5)
        first = rx.requests()[0]
        self.assertEqual(e["failed_by_reason"], {"http_503": len(first)})
        self.assertEqual(e["retried"], len(first))
        self.assertEqual(e["sent"], len(ids))
        self.assertEqual(e["dead_lettered"], 0)
        self.assert_metrics_agree("honeycomb")

    def test_grpc_unavailable_three_times(self):
        rx = self.receiver("collector").start("--fail-grpc", "UNAVAILABLE:3",
                                              "--retry-delay-ms", "1200")
        self.start([fx.exporter("collector", rx, breakerOpenForMs=200)])
        clock = self.clock(rx)
        self.markers("b0", 100)
        self.wait_stored()
        ids = self.captured()
        self.wait_received(rx, ids, timeout=15)
        e = self.counted("collector")
        self.assertEqual(self.assert_holds_exactly(rx, ids), (0, 0))

        answers = [a["answer"] for _, a in clock.seen]
        self.assertEqual(answers[:4], ["UNAVAILABLE"] * 3 + ["OK"])
        self.assertEqual(set(answers[4:]), {"OK"} if answers[4:] else set())
        times = [t for t, _ in clock.seen[:4]]
        for a, b in zip(times, times[1:]):
            # google.rpc.RetryInfo 1.2 s wins over the breaker's 200 ms.
            self.assertGreaterEqual(b - a, 1.2 - 0.1)
            self.assertLess(b - a, 1.2 + 1.5)
        first = rx.requests()[0]
        self.assertEqual(e["failed_by_reason"], {"unavailable": 3 * len(first)})
        self.assertEqual(e["retried"], 3 * len(first))
        self.assertEqual(e["sent"], len(ids))
        self.assert_metrics_agree("collector")

    def test_slower_than_the_timeout(self):
        # The first two requests are answered after 2 s; the exporter gives
        # up after 500 ms. The receiver records a request when it arrives.
        rx = self.receiver("tempo").start("--delay-ms", "2000:2")
        self.start([fx.exporter("tempo", rx, timeoutMs=500)])
        self.markers("b0", 100)
        self.wait_stored()
        ids = self.captured()
        self.wait_received(rx, ids, timeout=15)
        e = self.counted("tempo")

        first = rx.requests()[0]
        delayed = [a for a in rx.attempts() if "delayedMs" in a]
        self.assertEqual(len(delayed), 2)
        self.assertEqual(e["failed_by_reason"], {"deadline_exceeded": 2 * len(first)})
        self.assertEqual(e["retried"], 2 * len(first))
        self.assertEqual(e["sent"], len(ids))
        # At-least-once: the two late requests were stored by the receiver
        # and sent again. The duplicates are exactly those whole batches,
        # as many spans as were counted deadline_exceeded.
        repeated = self.assert_holds_exactly(rx, ids)
        self.assertEqual(repeated, (2, e["failed_by_reason"]["deadline_exceeded"]))
        self.assertEqual([sorted(r) for r in rx.requests()[:3]], [sorted(first)] * 3)

        # Fast again: later spans arrive once.
        self.markers("b1", 50)
        self.wait_stored()
        ids = self.captured()
        self.wait_received(rx, ids, timeout=10)
        e = self.counted("tempo")
        self.assertEqual(self.assert_holds_exactly(rx, ids), repeated)
        self.assertEqual(e["failed_by_reason"], {"deadline_exceeded": 2 * len(first)})
        self.assertEqual(e["sent"], len(ids))
        self.assert_metrics_agree("tempo")

    def test_http_400_dead_letters(self):
        rx = self.receiver("elastic").start("--fail-http", "400:1",
                                            "--fail-message", "span attribute out of bounds")
        self.start([fx.exporter("elastic", rx, "http/protobuf")])
        dead_dir = os.path.join(self.fleet.controlplane_dir(), "dead_letter")
        self.markers("b0", 100)
        self.wait_stored()
        self.wait_exporter("elastic", lambda e: e["dead_lettered"] > 0 and e["lag"] == 0,
                           "refused batch dead-lettered")
        dead = ru.read_requests(os.path.join(dead_dir, "elastic.jsonl"))
        self.assertEqual(len(dead), 1, "one refused request, one line")
        refused = set(dead[0])
        with open(os.path.join(dead_dir, "elastic.errors.jsonl")) as f:
            errors = [json.loads(l) for l in f if l.strip()]
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors[0]["reason"], "http_400")
        self.assertIn("span attribute out of bounds", errors[0]["message"])
        self.assertEqual(errors[0]["spans"], len(refused))

        # Later spans are delivered normally.
        self.markers("b1", 50)
        self.wait_stored()
        ids = self.captured()
        self.assertLessEqual(refused, ids)
        self.wait_received(rx, ids - refused, timeout=10)
        e = self.counted("elastic")
        self.assertLessEqual(self.marker_ids("b1"), set(rx.span_ids()))
        self.assertEqual(self.assert_holds_exactly(rx, ids - refused), (0, 0))
        self.assertEqual([a["answer"] for a in rx.attempts()].count(400), 1,
                         "the refused request was not sent again")
        self.assertEqual(e["dead_lettered"], len(refused))
        self.assertEqual(e["failed_by_reason"], {"http_400": len(refused)})
        self.assertEqual(e["retried"], 0)
        self.assertEqual(e["sent"], len(ids) - len(refused))
        self.assert_metrics_agree("elastic")
        self.assertEqual(ru.read_requests(os.path.join(dead_dir, "elastic.jsonl")), dead)

        # The dead-letter line is an OTLP/JSON request: posted as is to the
        # receiver's OTLP/HTTP JSON endpoint, protobufjs decodes it with the
        # official protos; the receiver then holds every captured span once.
        with open(os.path.join(dead_dir, "elastic.jsonl"), "rb") as f:
            for line in f:
                req = urllib.request.Request(rx.http_endpoint + "/v1/traces", data=line.strip(),
                                             headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(req, timeout=10) as r:
                    self.assertEqual(r.status, 200)
        self.assertEqual(self.assert_holds_exactly(rx, ids), (0, 0))


if __name__ == "__main__":
    fx.main()
