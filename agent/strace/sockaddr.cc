#include "agent/strace/sockaddr.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/strace/flags.h"
#include "agent/strace/quote.h"

namespace tracer::strace {
namespace {

// Copies up to sizeof(T) bytes into a zeroed T; returns whether all of T was
// present.
template <typename T>
bool CopyStruct(std::string_view bytes, T* out) {
  std::memset(out, 0, sizeof(T));
  size_t n = bytes.size() < sizeof(T) ? bytes.size() : sizeof(T);
  std::memcpy(out, bytes.data(), n);
  return bytes.size() >= sizeof(T);
}

std::string RawData(std::string_view bytes) {
  return absl::StrCat("sa_data=", QuoteBytes(bytes.substr(2), false));
}

std::string Inet(std::string_view bytes) {
  sockaddr_in sin;
  // Port and address are what users need; sin_zero padding may be missing.
  if (bytes.size() < offsetof(sockaddr_in, sin_zero)) return RawData(bytes);
  CopyStruct(bytes, &sin);
  char addr[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof addr);
  return absl::StrFormat("sin_port=htons(%u), sin_addr=inet_addr(\"%s\")", ntohs(sin.sin_port),
                         addr);
}

std::string Inet6(std::string_view bytes) {
  sockaddr_in6 sin6;
  if (bytes.size() < offsetof(sockaddr_in6, sin6_scope_id)) return RawData(bytes);
  bool has_scope = CopyStruct(bytes, &sin6);
  char addr[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &sin6.sin6_addr, addr, sizeof addr);
  std::string out = absl::StrFormat(
      "sin6_port=htons(%u), sin6_flowinfo=htonl(%u), inet_pton(AF_INET6, \"%s\", &sin6_addr)",
      ntohs(sin6.sin6_port), ntohl(sin6.sin6_flowinfo), addr);
  if (has_scope) absl::StrAppend(&out, ", sin6_scope_id=", sin6.sin6_scope_id);
  return out;
}

std::string Unix(std::string_view bytes) {
  std::string_view path = bytes.substr(offsetof(sockaddr_un, sun_path));
  if (path.size() > sizeof(sockaddr_un::sun_path))
    path = path.substr(0, sizeof(sockaddr_un::sun_path));
  if (path.empty()) return "";
  if (path[0] == '\0') {
    // Abstract namespace: every byte counts, NULs included.
    return absl::StrCat("sun_path=@", QuoteBytes(path.substr(1), false));
  }
  size_t nul = path.find('\0');
  return absl::StrCat("sun_path=", QuoteBytes(path.substr(0, nul), false));
}

std::string Netlink(std::string_view bytes) {
  sockaddr_nl nl;
  if (bytes.size() < sizeof(nl)) return RawData(bytes);
  CopyStruct(bytes, &nl);
  return absl::StrFormat("nl_pid=%u, nl_groups=%08x", nl.nl_pid, nl.nl_groups);
}

}  // namespace

std::string FormatSockaddr(std::string_view bytes) {
  if (bytes.size() < sizeof(sa_family_t)) return "{}";
  sa_family_t family;
  std::memcpy(&family, bytes.data(), sizeof family);
  std::string body;
  switch (family) {
    case AF_INET:
      body = Inet(bytes);
      break;
    case AF_INET6:
      body = Inet6(bytes);
      break;
    case AF_UNIX:
      body = Unix(bytes);
      break;
    case AF_NETLINK:
      body = Netlink(bytes);
      break;
    default:
      body = bytes.size() > 2 ? RawData(bytes) : "";
      break;
  }
  std::string out = absl::StrCat("{sa_family=", AddressFamilyToString(family));
  if (!body.empty()) absl::StrAppend(&out, ", ", body);
  out += '}';
  return out;
}

}  // namespace tracer::strace
