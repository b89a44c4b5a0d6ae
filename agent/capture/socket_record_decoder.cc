#include "agent/capture/socket_record_decoder.h"

#include <cstring>
#include <string_view>

#include "agent/capture/sockets_abi.h"

namespace tracer::capture {
namespace {

constexpr uint8_t kAfInet = 2;
constexpr uint8_t kAfInet6 = 10;

// The ring buffer guarantees 8-byte alignment of the record start only.
template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

SocketAddress ToAddress(uint8_t family, const uint8_t (&addr)[16], uint16_t port) {
  SocketAddress a;
  a.port = port;
  static constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family == kAfInet) {
    a.family = SocketAddress::Family::kIpv4;
    std::memcpy(a.addr.data(), addr, 4);
  } else if (std::memcmp(addr, kV4MappedPrefix, sizeof kV4MappedPrefix) == 0) {
    a.family = SocketAddress::Family::kIpv4;
    std::memcpy(a.addr.data(), addr + 12, 4);
  } else {
    a.family = SocketAddress::Family::kIpv6;
    std::memcpy(a.addr.data(), addr, 16);
  }
  return a;
}

SocketDecodeResult DecodeOpen(const uint8_t* p, size_t size, SocketOpenEvent* e) {
  if (size != sizeof(sockets_abi::OpenRecord)) return SocketDecodeResult::kInvalid;
  const auto r = Load<sockets_abi::OpenRecord>(p);
  if (r.conn_id == 0 || (r.family != kAfInet && r.family != kAfInet6) ||
      (r.role != SOCKETS_ROLE_CLIENT && r.role != SOCKETS_ROLE_SERVER)) {
    return SocketDecodeResult::kInvalid;
  }
  e->conn = ConnectionId{r.hdr.tgid, r.fd, r.conn_id};
  e->tid = r.hdr.tid;
  e->role = static_cast<SocketRole>(r.role);
  e->local = ToAddress(r.family, r.local_addr, r.local_port);
  e->remote = ToAddress(r.family, r.remote_addr, r.remote_port);
  e->ts_ns = r.ts_ns;
  return SocketDecodeResult::kOpen;
}

SocketDecodeResult DecodeData(const uint8_t* p, size_t size, SocketDataEvent* e) {
  if (size < sizeof(sockets_abi::DataRecord)) return SocketDecodeResult::kInvalid;
  const auto r = Load<sockets_abi::DataRecord>(p);
  if (r.conn_id == 0 || r.length == 0 || r.captured > r.length ||
      r.captured > sockets_abi::kCaptureMax ||
      size != sizeof(sockets_abi::DataRecord) + r.captured ||
      (r.direction != SOCKETS_DIR_EGRESS && r.direction != SOCKETS_DIR_INGRESS) ||
      r.end_ns < r.start_ns) {
    return SocketDecodeResult::kInvalid;
  }
  e->conn = ConnectionId{r.hdr.tgid, r.fd, r.conn_id};
  e->tid = r.hdr.tid;
  e->direction = static_cast<Direction>(r.direction);
  e->syscall_nr = r.hdr.nr;
  e->start_ns = r.start_ns;
  e->end_ns = r.end_ns;
  e->length = r.length;
  e->data = std::string_view(reinterpret_cast<const char*>(p + sizeof r), r.captured);
  return SocketDecodeResult::kData;
}

SocketDecodeResult DecodeClose(const uint8_t* p, size_t size, SocketCloseEvent* e) {
  if (size != sizeof(sockets_abi::CloseRecord)) return SocketDecodeResult::kInvalid;
  const auto r = Load<sockets_abi::CloseRecord>(p);
  if (r.conn_id == 0 || r.reason < SOCKETS_CLOSE_SYSCALL || r.reason > SOCKETS_CLOSE_REPLACED) {
    return SocketDecodeResult::kInvalid;
  }
  e->conn = ConnectionId{r.hdr.tgid, r.fd, r.conn_id};
  e->tid = r.hdr.tid;
  e->ts_ns = r.ts_ns;
  return SocketDecodeResult::kClose;
}

}  // namespace

bool IsSocketRecord(const void* data, size_t size) {
  if (size < 1) return false;
  const uint8_t type = *static_cast<const uint8_t*>(data);
  return type == SOCKETS_REC_OPEN || type == SOCKETS_REC_DATA || type == SOCKETS_REC_CLOSE;
}

SocketDecodeResult DecodeSocketRecord(const void* data, size_t size, SocketRecordEvents* out) {
  const auto* p = static_cast<const uint8_t*>(data);
  if (size < sizeof(sockets_abi::RecordHeader)) return SocketDecodeResult::kInvalid;
  const auto h = Load<sockets_abi::RecordHeader>(p);
  if (h.size > size) return SocketDecodeResult::kInvalid;
  switch (h.type) {
    case SOCKETS_REC_OPEN:
      return DecodeOpen(p, h.size, &out->open);
    case SOCKETS_REC_DATA:
      return DecodeData(p, h.size, &out->data);
    case SOCKETS_REC_CLOSE:
      return DecodeClose(p, h.size, &out->close);
    default:
      return SocketDecodeResult::kInvalid;
  }
}

}  // namespace tracer::capture
