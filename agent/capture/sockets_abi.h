// C++ view of bpf/sockets.h, the record layouts the socket tracker shares
// with user space. The static_asserts pin every size and offset the decoder
// relies on: a change to the C header that moves a field breaks the build
// here instead of silently misreading records. Private to agent/capture/.
#ifndef TRACER_AGENT_CAPTURE_SOCKETS_ABI_H_
#define TRACER_AGENT_CAPTURE_SOCKETS_ABI_H_

#include <linux/types.h>

#include <cstddef>
#include <cstdint>

#include "agent/capture/socket_events.h"
#include "bpf/sockets.h"
#include "bpf/syscalls.h"

namespace tracer::capture::sockets_abi {

using RecordHeader = ::sockets_record_header;
using OpenRecord = ::sockets_open_record;
using DataRecord = ::sockets_data_record;
using CloseRecord = ::sockets_close_record;

inline constexpr uint32_t kAbiVersion = SOCKETS_ABI_VERSION;
inline constexpr uint32_t kCaptureMax = SOCKETS_CAPTURE_MAX;

// Header: the same 16 bytes as the syscalls program's, so one raw stream can
// be routed by the type byte.
static_assert(sizeof(RecordHeader) == 16);
static_assert(sizeof(RecordHeader) == sizeof(::syscalls_record_header));
static_assert(offsetof(RecordHeader, type) == offsetof(::syscalls_record_header, type));
static_assert(offsetof(RecordHeader, flags) == 1);
static_assert(offsetof(RecordHeader, size) == offsetof(::syscalls_record_header, size));
static_assert(offsetof(RecordHeader, nr) == 4);
static_assert(offsetof(RecordHeader, tgid) == 8);
static_assert(offsetof(RecordHeader, tid) == 12);

// Type values never collide with the syscalls program's (1..4).
static_assert(int{SOCKETS_REC_OPEN} > int{SYSCALLS_REC_SYSCALL} &&
              int{SOCKETS_REC_OPEN} > int{SYSCALLS_REC_FORK} &&
              int{SOCKETS_REC_OPEN} > int{SYSCALLS_REC_EXEC} &&
              int{SOCKETS_REC_OPEN} > int{SYSCALLS_REC_EXIT});

// Open record: fixed 80 bytes.
static_assert(sizeof(OpenRecord) == 80);
static_assert(offsetof(OpenRecord, conn_id) == 16);
static_assert(offsetof(OpenRecord, ts_ns) == 24);
static_assert(offsetof(OpenRecord, fd) == 32);
static_assert(offsetof(OpenRecord, role) == 36);
static_assert(offsetof(OpenRecord, family) == 37);
static_assert(offsetof(OpenRecord, local_port) == 40);
static_assert(offsetof(OpenRecord, remote_port) == 42);
static_assert(offsetof(OpenRecord, local_addr) == 48);
static_assert(offsetof(OpenRecord, remote_addr) == 64);

// Data record: 64 bytes, then the payload.
static_assert(sizeof(DataRecord) == 64);
static_assert(offsetof(DataRecord, conn_id) == 16);
static_assert(offsetof(DataRecord, start_ns) == 24);
static_assert(offsetof(DataRecord, end_ns) == 32);
static_assert(offsetof(DataRecord, length) == 40);
static_assert(offsetof(DataRecord, fd) == 48);
static_assert(offsetof(DataRecord, direction) == 52);
static_assert(offsetof(DataRecord, captured) == 56);

// Close record: fixed 40 bytes.
static_assert(sizeof(CloseRecord) == 40);
static_assert(offsetof(CloseRecord, conn_id) == 16);
static_assert(offsetof(CloseRecord, ts_ns) == 24);
static_assert(offsetof(CloseRecord, fd) == 32);
static_assert(offsetof(CloseRecord, reason) == 36);

// The largest record fits the 16-bit size field.
static_assert(sizeof(DataRecord) + SOCKETS_CAPTURE_MAX <= UINT16_MAX);
static_assert((SOCKETS_CAPTURE_MAX & (SOCKETS_CAPTURE_MAX - 1)) == 0);

// Enumerations are the same numbers on both sides.
static_assert(static_cast<int>(SocketRole::kClient) == SOCKETS_ROLE_CLIENT);
static_assert(static_cast<int>(SocketRole::kServer) == SOCKETS_ROLE_SERVER);
static_assert(static_cast<int>(Direction::kEgress) == SOCKETS_DIR_EGRESS);
static_assert(static_cast<int>(Direction::kIngress) == SOCKETS_DIR_INGRESS);

}  // namespace tracer::capture::sockets_abi

#endif  // TRACER_AGENT_CAPTURE_SOCKETS_ABI_H_
