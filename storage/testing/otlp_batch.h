// Realistic span batches for WAL tests, fuzz seeds and benchmarks: serialized
// OTLP `ResourceSpans` (opentelemetry/proto/trace/v1/trace.proto) holding
// syscall-like spans of about 150 bytes each on the wire.
#ifndef TRACER_STORAGE_TESTING_OTLP_BATCH_H_
#define TRACER_STORAGE_TESTING_OTLP_BATCH_H_

#include <cstdint>
#include <string>

namespace tracer::storage::testing {

// A serialized ResourceSpans with `spans` spans whose ids and timestamps are
// derived from `id`, so the same (id, spans) always gives the same bytes and
// different ids give different bytes. About 150 * spans + 200 bytes.
std::string MakeOtlpBatch(uint64_t id, uint32_t spans);

// Parses `payload` as ResourceSpans and returns its span count, or -1 if it
// does not parse.
int64_t CountOtlpSpans(const std::string& payload);

}  // namespace tracer::storage::testing

#endif  // TRACER_STORAGE_TESTING_OTLP_BATCH_H_
