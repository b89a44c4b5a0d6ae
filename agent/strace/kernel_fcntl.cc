// Deliberately includes only the kernel's header: see kernel_fcntl.h.
#include "agent/strace/kernel_fcntl.h"

#include <asm/fcntl.h>

namespace tracer::strace {

const uint64_t kKernelOLargefile = O_LARGEFILE;

}  // namespace tracer::strace
