#include "agent/strace/sockaddr.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <string>

#include "gtest/gtest.h"

namespace tracer::strace {
namespace {

template <typename T>
std::string Bytes(const T& t, size_t n = sizeof(T)) {
  return std::string(reinterpret_cast<const char*>(&t), n);
}

TEST(FormatSockaddr, Inet) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(80);
  inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
  EXPECT_EQ(FormatSockaddr(Bytes(sin)),
            R"({sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")})");
}

// As strace 6.1 printed connect() to [::1]:1.
TEST(FormatSockaddr, Inet6) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(1);
  inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
  EXPECT_EQ(FormatSockaddr(Bytes(sin6)),
            R"({sa_family=AF_INET6, sin6_port=htons(1), sin6_flowinfo=htonl(0), )"
            R"(inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0})");
}

TEST(FormatSockaddr, UnixPathAndAbstract) {
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::strcpy(sun.sun_path, "/var/run/nscd/socket");
  EXPECT_EQ(FormatSockaddr(Bytes(sun, offsetof(sockaddr_un, sun_path) + 21)),
            R"({sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"})");
  EXPECT_EQ(FormatSockaddr(Bytes(sun)), R"({sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"})");
  sockaddr_un abs{};
  abs.sun_family = AF_UNIX;
  std::memcpy(abs.sun_path, "\0tracer", 7);
  EXPECT_EQ(FormatSockaddr(Bytes(abs, offsetof(sockaddr_un, sun_path) + 7)),
            R"({sa_family=AF_UNIX, sun_path=@"tracer"})");
  EXPECT_EQ(FormatSockaddr(Bytes(abs, sizeof(sa_family_t))), "{sa_family=AF_UNIX}");
}

TEST(FormatSockaddr, Netlink) {
  sockaddr_nl nl{};
  nl.nl_family = AF_NETLINK;
  nl.nl_groups = 0x11;
  EXPECT_EQ(FormatSockaddr(Bytes(nl)), "{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000011}");
}

TEST(FormatSockaddr, ShortAndUnknownInputs) {
  EXPECT_EQ(FormatSockaddr(""), "{}");
  EXPECT_EQ(FormatSockaddr(std::string("\x02", 1)), "{}");
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  // Too short for port and address: raw bytes, no over-read.
  EXPECT_EQ(FormatSockaddr(Bytes(sin, 4)), R"({sa_family=AF_INET, sa_data="\0\0"})");
  uint16_t odd = 0x7777;
  EXPECT_EQ(FormatSockaddr(Bytes(odd) + "ab"), R"({sa_family=30583, sa_data="ab"})");
}

}  // namespace
}  // namespace tracer::strace
