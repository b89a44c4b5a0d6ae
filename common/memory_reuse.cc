#include "common/memory_reuse.h"

#include <malloc.h>

namespace tracer::common {

void KeepFreedMemoryForReuse() {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
}

}  // namespace tracer::common
