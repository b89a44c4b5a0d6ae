// Decodes raw ring-buffer records (layouts in bpf/syscalls.h) into the
// SyscallEvent / ProcessEvent of events.h. Pure functions over bytes, no BPF:
// the live source and tests use the same code.
#ifndef TRACER_AGENT_CAPTURE_RECORD_DECODER_H_
#define TRACER_AGENT_CAPTURE_RECORD_DECODER_H_

#include <cstddef>
#include <cstdint>

#include "agent/capture/events.h"

namespace tracer::capture {

// What DecodeSyscallRecord found. Hot path: an enum, not a Status.
enum class DecodeResult : uint8_t {
  kSyscall,  // `*syscall` was filled
  kProcess,  // `*process` was filled
  kInvalid,  // unknown type, size mismatch or a blob running past the end;
             // neither output is meaningful
};

// Decodes one record of `size` bytes at `data` (as delivered by the ring
// buffer; may be longer than the record's own size field, never shorter).
// On kSyscall, `syscall->blobs[i].data` points into `data`: valid only while
// `data` is. `syscall` and `process` are overwritten, not appended to (the
// blob vector keeps its capacity, so reusing one event avoids allocations).
// Thread-safe (no shared state).
DecodeResult DecodeSyscallRecord(const void* data, size_t size, SyscallEvent* syscall,
                                 ProcessEvent* process);

}  // namespace tracer::capture

#endif  // TRACER_AGENT_CAPTURE_RECORD_DECODER_H_
