// Decoded socket events for HTTP flow capture (DESIGN.md "Spans": HTTP
// spans). The kernel side (bpf/sockets.bpf.c, boundary in bpf/sockets.h)
// tracks the sockets of traced processes from connect/accept/accept4 to
// close per (tgid, fd) and copies the first bytes of every chunk read or
// written on them; agent/capture decodes its ring-buffer records into these
// types; agent/protocols/http1 reassembles the two streams of each connection and
// parses HTTP/1.x from them.
#ifndef TRACER_AGENT_CAPTURE_SOCKET_EVENTS_H_
#define TRACER_AGENT_CAPTURE_SOCKET_EVENTS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tracer::capture {

// An IPv4 or IPv6 endpoint. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are
// reported as IPv4.
struct SocketAddress {
  enum class Family : uint8_t { kUnknown = 0, kIpv4 = 4, kIpv6 = 6 };
  Family family = Family::kUnknown;
  std::array<uint8_t, 16> addr{};  // network order; IPv4 uses the first 4 bytes
  uint16_t port = 0;               // host order

  // "10.0.0.1" / "2001:db8::1" (RFC 5952, inet_ntop), "" when unknown.
  std::string AddressString() const;
};

// Which side of the connection the traced process is.
enum class SocketRole : uint8_t {
  kClient = 1,  // the process called connect(): HTTP CLIENT spans
  kServer = 2,  // the process accepted it (accept/accept4): HTTP SERVER spans
};

// Identifies one connection for its lifetime. (tgid, fd) is reused after
// close, so the kernel adds a per-boot unique id assigned at open.
struct ConnectionId {
  uint32_t tgid = 0;
  int32_t fd = -1;
  uint64_t id = 0;  // unique per tracked socket since boot; never 0
  bool operator==(const ConnectionId& o) const { return id == o.id; }
};

// A tracked connection was opened (connect returned 0 or EINPROGRESS, or
// accept/accept4 returned an fd).
struct SocketOpenEvent {
  ConnectionId conn;
  uint32_t tid = 0;
  SocketRole role = SocketRole::kClient;
  SocketAddress local;   // getsockname() view (may be unknown for an
                         // unbound client until its first send)
  SocketAddress remote;  // the peer
  uint64_t ts_ns = 0;    // CLOCK_MONOTONIC at the syscall's return
};

// Data moved by the process on a tracked socket.
enum class Direction : uint8_t {
  kEgress = 1,   // the process wrote/sent it
  kIngress = 2,  // the process read/received it
};

// One successful read/write-family syscall on a tracked socket (read, write,
// readv, writev, recvfrom, sendto, recvmsg, sendmsg, sendfile).
struct SocketDataEvent {
  ConnectionId conn;
  uint32_t tid = 0;
  Direction direction = Direction::kEgress;
  int32_t syscall_nr = -1;  // x86-64 number of the syscall that moved it
  uint64_t start_ns = 0;    // CLOCK_MONOTONIC at sys_enter
  uint64_t end_ns = 0;      // CLOCK_MONOTONIC at sys_exit
  uint64_t length = 0;      // bytes moved (the syscall's return value)
  // The first min(length, capture limit) bytes, in stream order (for
  // readv/writev/recvmsg/sendmsg, the iovecs concatenated). Fewer bytes
  // than `length` means the rest was counted, not copied (sendfile: none).
  // Valid only during the sink call.
  std::string_view data;
  bool truncated() const { return data.size() < length; }
};

// A tracked socket was closed (close, or the process exited).
struct SocketCloseEvent {
  ConnectionId conn;
  uint32_t tid = 0;
  uint64_t ts_ns = 0;
};

// What the socket tracker dropped, never silently. The first five count
// what was delivered to the sink; the rest are kernel-side losses.
struct SocketCounters {
  uint64_t opens = 0;
  uint64_t data_events = 0;
  uint64_t closes = 0;
  uint64_t bytes_copied = 0;      // sum of data.size() delivered
  uint64_t bytes_not_copied = 0;  // beyond the capture limit: sum of
                                  // length - data.size() delivered
  uint64_t ringbuf_drops = 0;     // records lost: ring buffer full
  uint64_t untracked_full = 0;    // sockets not tracked: table full
  uint64_t missed_calls = 0;      // socket calls missed: per-thread
                                  // storage not allocated
};

}  // namespace tracer::capture

#endif  // TRACER_AGENT_CAPTURE_SOCKET_EVENTS_H_
