// Allocator settings for processes on the span path (tracectl run, its
// benchmarks): freed memory is kept for reuse instead of handed back to the
// kernel.
#ifndef TRACER_COMMON_MEMORY_REUSE_H_
#define TRACER_COMMON_MEMORY_REUSE_H_

namespace tracer::common {

// The span path allocates and frees the same large blocks over and over
// (span batches, encoded requests, the WAL's memtable arenas). glibc's
// defaults hand such blocks back to the kernel (munmap, heap trimming), so
// each new one is faulted in page by page again; on the dd benchmark that
// was about half of the WAL append's CPU (BENCHMARKS.md). After this call
// blocks below 64 MiB come from the heap and the heap is trimmed only above
// 256 MiB free, so the process stays at its peak use instead of faulting.
// Process-wide; call once, early, before threads start. Never fails.
void KeepFreedMemoryForReuse();

}  // namespace tracer::common

#endif  // TRACER_COMMON_MEMORY_REUSE_H_
