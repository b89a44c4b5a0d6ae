// Batches of spans shaped like the ones the agent produces (DESIGN.md
// "Spans"), for the export benchmark. tests/bench/export/js_exporter.js
// builds the same shapes for the OpenTelemetry JavaScript SDK; keep the two
// in step.
//
// One request = one ResourceSpans (the traced process: 8 resource
// attributes, service.name ... process.command_line, telemetry.sdk.name) with
// one ScopeSpans (scope "tracer-agent" version "0.1") holding `spans` spans.
// Every span: a 16-byte trace id and an 8-byte span id (random), a parent
// span id (all but the first span of each group of 8), start/end in Unix ns,
// exactly 10 attributes, and:
//   - 3 of 4 spans are syscall spans (kind INTERNAL, name "read" / "openat"
//     ...): syscall.name, syscall.number, syscall.args (a ~50-byte strace-like
//     string), syscall.result, syscall.duration_us, thread.id, process.pid,
//     process.executable.name, fd.path, tracer.session.id; every 16th one
//     failed (status ERROR with message "ENOENT");
//   - 1 of 4 are HTTP server spans (kind SERVER, name "GET /api/items/{n}"):
//     http.request.method, url.path, url.scheme, http.response.status_code,
//     server.address, server.port, client.address, network.peer.address,
//     network.protocol.version, user_agent.original.
// Serialized size: about 330 bytes per span.
#ifndef TESTS_BENCH_EXPORT_AGENT_LIKE_SPANS_H_
#define TESTS_BENCH_EXPORT_AGENT_LIKE_SPANS_H_

#include <cstdint>

#include "otlp/exporter.h"

namespace tracer::bench {

// Builds one request of `spans` (>= 0) spans as described above; ids and
// values derive deterministically from `seed`. Start times begin at
// `start_unix_ns` and advance 1 µs per span.
otlp::ExportTraceServiceRequest MakeAgentLikeRequest(int spans, uint64_t seed,
                                                     uint64_t start_unix_ns);

}  // namespace tracer::bench

#endif  // TESTS_BENCH_EXPORT_AGENT_LIKE_SPANS_H_
