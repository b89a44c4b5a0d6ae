// C++ view of bpf/syscalls.h, the record layouts shared with the kernel
// program. The static_asserts pin every size and offset user space relies
// on: a change to the C header that moves a field breaks the build here
// instead of silently misreading records. Private to agent/capture/.
#ifndef TRACER_AGENT_CAPTURE_SYSCALLS_ABI_H_
#define TRACER_AGENT_CAPTURE_SYSCALLS_ABI_H_

#include <linux/types.h>

#include <cstddef>
#include <cstdint>

#include "agent/capture/events.h"
#include "bpf/syscalls.h"

namespace tracer::capture::bpf_abi {

using RecordHeader = ::syscalls_record_header;
using SyscallRecord = ::syscalls_syscall_record;
using ProcessRecord = ::syscalls_process_record;
using BlobHeader = ::syscalls_blob;
using Totals = ::syscalls_totals;

inline constexpr uint32_t kAbiVersion = SYSCALLS_ABI_VERSION;
inline constexpr int kMaxNr = SYSCALLS_MAX_NR;
inline constexpr int kFilterWords = SYSCALLS_FILTER_WORDS;

// Record header: 16 bytes, common to all record types.
static_assert(sizeof(RecordHeader) == 16);
static_assert(offsetof(RecordHeader, type) == 0);
static_assert(offsetof(RecordHeader, flags) == 1);
static_assert(offsetof(RecordHeader, size) == 2);
static_assert(offsetof(RecordHeader, nr) == 4);
static_assert(offsetof(RecordHeader, tgid) == 8);
static_assert(offsetof(RecordHeader, tid) == 12);

// Syscall record: 88 bytes before the blobs.
static_assert(sizeof(SyscallRecord) == 88);
static_assert(offsetof(SyscallRecord, start_ns) == 16);
static_assert(offsetof(SyscallRecord, duration_ns) == 24);
static_assert(offsetof(SyscallRecord, ret) == 32);
static_assert(offsetof(SyscallRecord, args) == 40);

// Blob header: 8 bytes, payload follows unpadded.
static_assert(sizeof(BlobHeader) == 8);
static_assert(offsetof(BlobHeader, arg_index) == 0);
static_assert(offsetof(BlobHeader, kind) == 1);
static_assert(offsetof(BlobHeader, flags) == 2);
static_assert(offsetof(BlobHeader, len) == 4);

// Process record: fixed 312 bytes.
static_assert(sizeof(ProcessRecord) == 312);
static_assert(offsetof(ProcessRecord, ts_ns) == 16);
static_assert(offsetof(ProcessRecord, parent_tgid) == 24);
static_assert(offsetof(ProcessRecord, exit_code) == 28);
static_assert(offsetof(ProcessRecord, filename_len) == 32);
static_assert(offsetof(ProcessRecord, comm) == 40);
static_assert(offsetof(ProcessRecord, filename) == 56);

// Stats-mode totals: three u64 per syscall per CPU.
static_assert(sizeof(Totals) == 24);

// Blob kinds are the same numbers on both sides.
static_assert(static_cast<int>(BlobKind::kString) == SYSCALLS_BLOB_STRING);
static_assert(static_cast<int>(BlobKind::kBytes) == SYSCALLS_BLOB_BYTES);
static_assert(static_cast<int>(BlobKind::kSockaddr) == SYSCALLS_BLOB_SOCKADDR);
static_assert(static_cast<int>(BlobKind::kArgv) == SYSCALLS_BLOB_ARGV);

// The largest record fits the size field and the kernel's scratch buffer.
static_assert(sizeof(SyscallRecord) + 2 * sizeof(BlobHeader) + SYSCALLS_PATH_CAP +
                  SYSCALLS_ARGV_CAP <=
              SYSCALLS_MAX_RECORD_BYTES);

}  // namespace tracer::capture::bpf_abi

#endif  // TRACER_AGENT_CAPTURE_SYSCALLS_ABI_H_
