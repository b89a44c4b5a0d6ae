// Decodes the socket tracker's raw ring-buffer records (layouts in
// bpf/sockets.h) into the SocketOpenEvent / SocketDataEvent /
// SocketCloseEvent of socket_events.h. Pure functions over bytes, no BPF:
// the live source, raw-record consumers and tests share this code.
#ifndef TRACER_AGENT_CAPTURE_SOCKET_RECORD_DECODER_H_
#define TRACER_AGENT_CAPTURE_SOCKET_RECORD_DECODER_H_

#include <cstddef>
#include <cstdint>

#include "agent/capture/socket_events.h"

namespace tracer::capture {

// What DecodeSocketRecord found. Hot path: an enum, not a Status.
enum class SocketDecodeResult : uint8_t {
  kOpen,     // `out->open` was filled
  kData,     // `out->data` was filled
  kClose,    // `out->close` was filled
  kInvalid,  // not a socket record, or its size, lengths or enumerations are
             // inconsistent; `out` is not meaningful
};

// One slot per record kind, reused from record to record.
struct SocketRecordEvents {
  SocketOpenEvent open;
  SocketDataEvent data;
  SocketCloseEvent close;
};

// True when the `size` bytes at `data` start with a socket-tracker record
// header (type byte SOCKETS_REC_*), as opposed to a syscalls-program record
// (DecodeSyscallRecord() in record_decoder.h). Says nothing about validity.
bool IsSocketRecord(const void* data, size_t size);

// Decodes one record of `size` bytes at `data` (as delivered by the ring
// buffer: may be longer than the record's own size field, never shorter).
// On kData, `out->data.data` points into `data`: valid only while `data` is.
// Addresses: an AF_INET6 socket's v4-mapped addresses (::ffff:a.b.c.d) are
// reported as IPv4 (socket_events.h). Thread-safe (no shared state).
SocketDecodeResult DecodeSocketRecord(const void* data, size_t size, SocketRecordEvents* out);

}  // namespace tracer::capture

#endif  // TRACER_AGENT_CAPTURE_SOCKET_RECORD_DECODER_H_
