// strace-style printing of a struct sockaddr captured from user memory.
//
// Untrusted input: `bytes` may be any length and content (it is what the
// traced process passed, bounded by the kernel's copy). Pure, thread-safe.
#ifndef TRACER_AGENT_STRACE_SOCKADDR_H_
#define TRACER_AGENT_STRACE_SOCKADDR_H_

#include <string>
#include <string_view>

namespace tracer::strace {

// Formats the socket address in `bytes` (sa_family first, host byte order, as
// the kernel's struct sockaddr), e.g.
//   {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}
//   {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0),
//    inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}
//   {sa_family=AF_UNIX, sun_path="/run/x.sock"}   (abstract: sun_path=@"x")
//   {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}
// Other families print sa_data as a quoted string. Fewer bytes than the
// family's structure needs print what is there and the raw rest, never
// reading past `bytes`; fewer than 2 bytes print "{}".
std::string FormatSockaddr(std::string_view bytes);

}  // namespace tracer::strace

#endif  // TRACER_AGENT_STRACE_SOCKADDR_H_
