#include "agent/capture/socket_events.h"

#include <arpa/inet.h>

namespace tracer::capture {

std::string SocketAddress::AddressString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  switch (family) {
    case Family::kIpv4: {
      // Dotted decimal by hand: glibc's inet_ntop formats IPv4 with sprintf,
      // a visible cost at one or two addresses per HTTP span.
      char* p = buf;
      for (int i = 0; i < 4; ++i) {
        const unsigned v = addr[i];
        if (i > 0) *p++ = '.';
        if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
        if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
        *p++ = static_cast<char>('0' + v % 10);
      }
      return std::string(buf, p - buf);
    }
    case Family::kIpv6:
      if (inet_ntop(AF_INET6, addr.data(), buf, sizeof(buf)) == nullptr) return "";
      return buf;
    case Family::kUnknown:
      break;
  }
  return "";
}

}  // namespace tracer::capture
