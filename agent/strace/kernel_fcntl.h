// Kernel values of open(2) flags that the C library hides. glibc defines
// O_LARGEFILE as 0 on x86-64, but the kernel reports its own bit in F_GETFL
// results; the value is taken from <asm/fcntl.h> in kernel_fcntl.cc, which
// cannot share a translation unit with <fcntl.h>.
#ifndef TRACER_AGENT_STRACE_KERNEL_FCNTL_H_
#define TRACER_AGENT_STRACE_KERNEL_FCNTL_H_

#include <cstdint>

namespace tracer::strace {

// The kernel's O_LARGEFILE bit (0100000 on x86-64).
extern const uint64_t kKernelOLargefile;

}  // namespace tracer::strace

#endif  // TRACER_AGENT_STRACE_KERNEL_FCNTL_H_
