// What wal_crash_child appends, shared with wal_crash_test so the test can
// rebuild every reported batch byte for byte.
#ifndef TRACER_STORAGE_TESTING_CRASH_PROTOCOL_H_
#define TRACER_STORAGE_TESTING_CRASH_PROTOCOL_H_

#include <cstdint>

namespace tracer::storage::testing {

// Unique batch id of append `i` of thread `thread` in round `round`.
inline uint64_t CrashBatchId(uint64_t round, uint64_t thread, uint64_t i) {
  return (round << 40) | (thread << 32) | i;
}

// Span count of batch `id`: 1..64, so record sizes vary (~0.3 to ~10 KB).
inline uint32_t CrashBatchSpans(uint64_t id) {
  return 1 + static_cast<uint32_t>((id * 2654435761u) % 64);
}

}  // namespace tracer::storage::testing

#endif  // TRACER_STORAGE_TESTING_CRASH_PROTOCOL_H_
