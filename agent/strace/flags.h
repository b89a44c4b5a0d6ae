// Decoders for syscall argument constants, spelled the way strace prints
// them ("O_RDONLY|O_CLOEXEC", "PROT_READ|PROT_WRITE", "AT_FDCWD").
//
// Values come from the system headers (<fcntl.h>, <sys/mman.h>, <sched.h>,
// <sys/socket.h> ...), never typed numbers. Every decoder takes the raw
// 64-bit register value, accepts any value (untrusted input) and prints bits
// or values it does not know in hex (flags: "O_RDONLY|0x40000000") or decimal
// (enumerations), as strace does. Pure and thread-safe.
#ifndef TRACER_AGENT_STRACE_FLAGS_H_
#define TRACER_AGENT_STRACE_FLAGS_H_

#include <cstdint>
#include <string>

namespace tracer::strace {

std::string OpenFlagsToString(uint64_t flags);     // open(2) flags incl. access mode
std::string CloexecFlagsToString(uint64_t flags);  // dup3/pipe2: O_CLOEXEC|O_NONBLOCK|O_DIRECT or 0
std::string ModeToString(uint64_t mode);           // octal, strace's %#03o ("0644", "000")
std::string DirFdToString(uint64_t fd);            // AT_FDCWD or the descriptor number
std::string AtFlagsToString(uint64_t flags);       // AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH ... or 0
std::string FaccessatFlagsToString(uint64_t flags);  // AT_EACCESS|AT_SYMLINK_NOFOLLOW ... or 0
std::string AccessModeToString(uint64_t mode);       // F_OK or R_OK|W_OK|X_OK
std::string ProtToString(uint64_t prot);             // PROT_NONE or PROT_READ|...
std::string MmapFlagsToString(uint64_t flags);       // MAP_PRIVATE|MAP_ANONYMOUS ...
std::string CloneFlagsToString(uint64_t flags);      // CLONE_VM|...|SIGCHLD (low byte: exit signal)
std::string FcntlCmdToString(uint64_t cmd);          // F_GETFL ...
std::string FdFlagsToString(uint64_t flags);         // FD_CLOEXEC or 0
std::string SocketDomainToString(uint64_t domain);   // AF_INET ...
std::string SocketTypeToString(uint64_t type);       // SOCK_STREAM|SOCK_CLOEXEC ...
std::string SocketFlagsToString(uint64_t flags);     // accept4: SOCK_CLOEXEC|SOCK_NONBLOCK or 0
// Protocol argument of socket(2): IPPROTO_* names for AF_INET/AF_INET6
// (0 is IPPROTO_IP), plain numbers for other domains.
std::string SocketProtocolToString(uint64_t domain, uint64_t protocol);
std::string ShutdownHowToString(uint64_t how);       // SHUT_RD / SHUT_WR / SHUT_RDWR
std::string WhenceToString(uint64_t whence);         // SEEK_SET ...
std::string SignalToString(uint64_t sig);            // SIGTERM, SIGRTMIN, SIGRT_3, 0
std::string SigprocmaskHowToString(uint64_t how);    // SIG_BLOCK ...
std::string WaitOptionsToString(uint64_t options);   // WNOHANG|__WALL ... or 0
std::string AddressFamilyToString(uint16_t family);  // AF_INET, or the number

}  // namespace tracer::strace

#endif  // TRACER_AGENT_STRACE_FLAGS_H_
