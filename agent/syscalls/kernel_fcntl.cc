// Deliberately includes only the kernel's header: see kernel_fcntl.h.
#include "agent/syscalls/kernel_fcntl.h"

#include <asm/fcntl.h>

namespace tracer::syscalls {

const uint64_t kKernelOLargefile = O_LARGEFILE;

}  // namespace tracer::syscalls
