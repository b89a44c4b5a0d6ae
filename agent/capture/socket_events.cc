#include "agent/capture/socket_events.h"

#include <arpa/inet.h>

namespace tracer::capture {

std::string SocketAddress::AddressString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (family) {
    case Family::kIpv4:
      if (inet_ntop(AF_INET, addr.data(), buf, sizeof(buf)) == nullptr) return "";
      return buf;
    case Family::kIpv6:
      if (inet_ntop(AF_INET6, addr.data(), buf, sizeof(buf)) == nullptr) return "";
      return buf;
    case Family::kUnknown:
      break;
  }
  return "";
}

}  // namespace tracer::capture
