#include "agent/strace/flags.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/strace/kernel_fcntl.h"

namespace tracer::strace {
namespace {

struct Named {
  uint64_t value;
  std::string_view name;
};

#define TRACER_NAMED(x) \
  Named { static_cast<uint64_t>(x), #x }

// Appends the names of the bits of `value` listed in `table` (in table
// order, each entry consuming its bits) and any remainder in hex.
std::string Flags(uint64_t value, const Named* begin, const Named* end, std::string_view zero = "0",
                  std::string prefix = "") {
  std::string out = std::move(prefix);
  uint64_t rest = value;
  for (const Named* n = begin; n != end; ++n) {
    if (n->value != 0 && (rest & n->value) == n->value) {
      if (!out.empty()) out += '|';
      out += n->name;
      rest &= ~n->value;
    }
  }
  if (rest != 0) {
    if (!out.empty()) out += '|';
    absl::StrAppendFormat(&out, "%#x", rest);
  }
  if (out.empty()) out = std::string(zero);
  return out;
}

template <size_t N>
std::string Flags(uint64_t value, const Named (&table)[N], std::string_view zero = "0",
                  std::string prefix = "") {
  return Flags(value, table, table + N, zero, std::move(prefix));
}

// Exact-value lookup for enumerations; unknown values print in decimal (or
// as `unknown_hex` says).
template <size_t N>
std::string Enum(uint64_t value, const Named (&table)[N], bool unknown_hex = false) {
  for (const Named& n : table)
    if (n.value == value) return std::string(n.name);
  return unknown_hex ? absl::StrFormat("%#x", value)
                     : absl::StrCat(static_cast<int32_t>(static_cast<uint32_t>(value)));
}

// strace's order for open flags (O_SYNC before its O_DSYNC bit, O_TMPFILE
// before its O_DIRECTORY bit).
const Named kOpenFlags[] = {
    TRACER_NAMED(O_CREAT),
    TRACER_NAMED(O_EXCL),
    TRACER_NAMED(O_NOCTTY),
    TRACER_NAMED(O_TRUNC),
    TRACER_NAMED(O_APPEND),
    TRACER_NAMED(O_NONBLOCK),
    TRACER_NAMED(O_SYNC),
    TRACER_NAMED(O_DSYNC),
    TRACER_NAMED(O_ASYNC),
    TRACER_NAMED(O_DIRECT),
    Named{kKernelOLargefile, "O_LARGEFILE"},
    TRACER_NAMED(O_NOFOLLOW),
    TRACER_NAMED(O_NOATIME),
    TRACER_NAMED(O_CLOEXEC),
    TRACER_NAMED(O_PATH),
    TRACER_NAMED(O_TMPFILE),
    TRACER_NAMED(O_DIRECTORY),
};

const Named kCloexecFlags[] = {TRACER_NAMED(O_NONBLOCK), TRACER_NAMED(O_DIRECT),
                               TRACER_NAMED(O_CLOEXEC)};

const Named kAtFlags[] = {
    TRACER_NAMED(AT_SYMLINK_NOFOLLOW), TRACER_NAMED(AT_REMOVEDIR),
    TRACER_NAMED(AT_SYMLINK_FOLLOW),   TRACER_NAMED(AT_NO_AUTOMOUNT),
    TRACER_NAMED(AT_EMPTY_PATH),       TRACER_NAMED(AT_STATX_FORCE_SYNC),
    TRACER_NAMED(AT_STATX_DONT_SYNC),  TRACER_NAMED(AT_RECURSIVE),
};

const Named kFaccessatFlags[] = {TRACER_NAMED(AT_SYMLINK_NOFOLLOW), TRACER_NAMED(AT_EACCESS),
                                 TRACER_NAMED(AT_EMPTY_PATH)};

const Named kAccessModes[] = {TRACER_NAMED(R_OK), TRACER_NAMED(W_OK), TRACER_NAMED(X_OK)};

const Named kProt[] = {TRACER_NAMED(PROT_READ), TRACER_NAMED(PROT_WRITE), TRACER_NAMED(PROT_EXEC),
                       TRACER_NAMED(PROT_GROWSDOWN), TRACER_NAMED(PROT_GROWSUP)};

const Named kMapTypes[] = {TRACER_NAMED(MAP_SHARED), TRACER_NAMED(MAP_PRIVATE),
                           TRACER_NAMED(MAP_SHARED_VALIDATE)};

const Named kMapFlags[] = {
    TRACER_NAMED(MAP_FIXED),     TRACER_NAMED(MAP_ANONYMOUS),       TRACER_NAMED(MAP_32BIT),
    TRACER_NAMED(MAP_GROWSDOWN), TRACER_NAMED(MAP_DENYWRITE),       TRACER_NAMED(MAP_EXECUTABLE),
    TRACER_NAMED(MAP_LOCKED),    TRACER_NAMED(MAP_NORESERVE),       TRACER_NAMED(MAP_POPULATE),
    TRACER_NAMED(MAP_NONBLOCK),  TRACER_NAMED(MAP_STACK),           TRACER_NAMED(MAP_HUGETLB),
    TRACER_NAMED(MAP_SYNC),      TRACER_NAMED(MAP_FIXED_NOREPLACE),
};

const Named kCloneFlags[] = {
    TRACER_NAMED(CLONE_VM),
    TRACER_NAMED(CLONE_FS),
    TRACER_NAMED(CLONE_FILES),
    TRACER_NAMED(CLONE_SIGHAND),
    TRACER_NAMED(CLONE_PIDFD),
    TRACER_NAMED(CLONE_PTRACE),
    TRACER_NAMED(CLONE_VFORK),
    TRACER_NAMED(CLONE_PARENT),
    TRACER_NAMED(CLONE_THREAD),
    TRACER_NAMED(CLONE_NEWNS),
    TRACER_NAMED(CLONE_SYSVSEM),
    TRACER_NAMED(CLONE_SETTLS),
    TRACER_NAMED(CLONE_PARENT_SETTID),
    TRACER_NAMED(CLONE_CHILD_CLEARTID),
    TRACER_NAMED(CLONE_DETACHED),
    TRACER_NAMED(CLONE_UNTRACED),
    TRACER_NAMED(CLONE_CHILD_SETTID),
    TRACER_NAMED(CLONE_NEWCGROUP),
    TRACER_NAMED(CLONE_NEWUTS),
    TRACER_NAMED(CLONE_NEWIPC),
    TRACER_NAMED(CLONE_NEWUSER),
    TRACER_NAMED(CLONE_NEWPID),
    TRACER_NAMED(CLONE_NEWNET),
    TRACER_NAMED(CLONE_IO),
    TRACER_NAMED(CLONE_NEWTIME),
};

const Named kFcntlCmds[] = {
    TRACER_NAMED(F_DUPFD),      TRACER_NAMED(F_GETFD),      TRACER_NAMED(F_SETFD),
    TRACER_NAMED(F_GETFL),      TRACER_NAMED(F_SETFL),      TRACER_NAMED(F_GETLK),
    TRACER_NAMED(F_SETLK),      TRACER_NAMED(F_SETLKW),     TRACER_NAMED(F_SETOWN),
    TRACER_NAMED(F_GETOWN),     TRACER_NAMED(F_SETSIG),     TRACER_NAMED(F_GETSIG),
    TRACER_NAMED(F_SETOWN_EX),  TRACER_NAMED(F_GETOWN_EX),  TRACER_NAMED(F_OFD_GETLK),
    TRACER_NAMED(F_OFD_SETLK),  TRACER_NAMED(F_OFD_SETLKW), TRACER_NAMED(F_SETLEASE),
    TRACER_NAMED(F_GETLEASE),   TRACER_NAMED(F_NOTIFY),     TRACER_NAMED(F_DUPFD_CLOEXEC),
    TRACER_NAMED(F_SETPIPE_SZ), TRACER_NAMED(F_GETPIPE_SZ), TRACER_NAMED(F_ADD_SEALS),
    TRACER_NAMED(F_GET_SEALS),
};

const Named kFdFlags[] = {TRACER_NAMED(FD_CLOEXEC)};

const Named kFamilies[] = {
    TRACER_NAMED(AF_UNSPEC),     TRACER_NAMED(AF_UNIX),      TRACER_NAMED(AF_INET),
    TRACER_NAMED(AF_AX25),       TRACER_NAMED(AF_IPX),       TRACER_NAMED(AF_APPLETALK),
    TRACER_NAMED(AF_NETROM),     TRACER_NAMED(AF_BRIDGE),    TRACER_NAMED(AF_ATMPVC),
    TRACER_NAMED(AF_X25),        TRACER_NAMED(AF_INET6),     TRACER_NAMED(AF_ROSE),
    TRACER_NAMED(AF_DECnet),     TRACER_NAMED(AF_NETBEUI),   TRACER_NAMED(AF_SECURITY),
    TRACER_NAMED(AF_KEY),        TRACER_NAMED(AF_NETLINK),   TRACER_NAMED(AF_PACKET),
    TRACER_NAMED(AF_ASH),        TRACER_NAMED(AF_ECONET),    TRACER_NAMED(AF_ATMSVC),
    TRACER_NAMED(AF_RDS),        TRACER_NAMED(AF_SNA),       TRACER_NAMED(AF_IRDA),
    TRACER_NAMED(AF_PPPOX),      TRACER_NAMED(AF_WANPIPE),   TRACER_NAMED(AF_LLC),
    TRACER_NAMED(AF_IB),         TRACER_NAMED(AF_MPLS),      TRACER_NAMED(AF_CAN),
    TRACER_NAMED(AF_TIPC),       TRACER_NAMED(AF_BLUETOOTH), TRACER_NAMED(AF_IUCV),
    TRACER_NAMED(AF_RXRPC),      TRACER_NAMED(AF_ISDN),      TRACER_NAMED(AF_PHONET),
    TRACER_NAMED(AF_IEEE802154), TRACER_NAMED(AF_CAIF),      TRACER_NAMED(AF_ALG),
    TRACER_NAMED(AF_NFC),        TRACER_NAMED(AF_VSOCK),     TRACER_NAMED(AF_KCM),
    TRACER_NAMED(AF_QIPCRTR),    TRACER_NAMED(AF_SMC),       TRACER_NAMED(AF_XDP),
};

const Named kSockTypes[] = {
    TRACER_NAMED(SOCK_STREAM), TRACER_NAMED(SOCK_DGRAM),     TRACER_NAMED(SOCK_RAW),
    TRACER_NAMED(SOCK_RDM),    TRACER_NAMED(SOCK_SEQPACKET), TRACER_NAMED(SOCK_DCCP),
    TRACER_NAMED(SOCK_PACKET),
};

const Named kSockFlags[] = {TRACER_NAMED(SOCK_CLOEXEC), TRACER_NAMED(SOCK_NONBLOCK)};

const Named kIpProtocols[] = {
    TRACER_NAMED(IPPROTO_IP),     TRACER_NAMED(IPPROTO_ICMP),   TRACER_NAMED(IPPROTO_IGMP),
    TRACER_NAMED(IPPROTO_IPIP),   TRACER_NAMED(IPPROTO_TCP),    TRACER_NAMED(IPPROTO_EGP),
    TRACER_NAMED(IPPROTO_PUP),    TRACER_NAMED(IPPROTO_UDP),    TRACER_NAMED(IPPROTO_IDP),
    TRACER_NAMED(IPPROTO_TP),     TRACER_NAMED(IPPROTO_DCCP),   TRACER_NAMED(IPPROTO_IPV6),
    TRACER_NAMED(IPPROTO_RSVP),   TRACER_NAMED(IPPROTO_GRE),    TRACER_NAMED(IPPROTO_ESP),
    TRACER_NAMED(IPPROTO_AH),     TRACER_NAMED(IPPROTO_ICMPV6), TRACER_NAMED(IPPROTO_MTP),
    TRACER_NAMED(IPPROTO_BEETPH), TRACER_NAMED(IPPROTO_ENCAP),  TRACER_NAMED(IPPROTO_PIM),
    TRACER_NAMED(IPPROTO_COMP),   TRACER_NAMED(IPPROTO_SCTP),   TRACER_NAMED(IPPROTO_UDPLITE),
    TRACER_NAMED(IPPROTO_MPLS),   TRACER_NAMED(IPPROTO_RAW),    TRACER_NAMED(IPPROTO_MPTCP),
};

const Named kShutdownHow[] = {TRACER_NAMED(SHUT_RD), TRACER_NAMED(SHUT_WR),
                              TRACER_NAMED(SHUT_RDWR)};

const Named kWhence[] = {TRACER_NAMED(SEEK_SET), TRACER_NAMED(SEEK_CUR), TRACER_NAMED(SEEK_END),
                         TRACER_NAMED(SEEK_DATA), TRACER_NAMED(SEEK_HOLE)};

const Named kSigprocHow[] = {TRACER_NAMED(SIG_BLOCK), TRACER_NAMED(SIG_UNBLOCK),
                             TRACER_NAMED(SIG_SETMASK)};

// WUNTRACED and WSTOPPED share a bit; strace says WSTOPPED.
const Named kWaitOptions[] = {
    TRACER_NAMED(WNOHANG),    TRACER_NAMED(WSTOPPED), TRACER_NAMED(WEXITED),
    TRACER_NAMED(WCONTINUED), TRACER_NAMED(WNOWAIT),  TRACER_NAMED(__WNOTHREAD),
    TRACER_NAMED(__WALL),     TRACER_NAMED(__WCLONE),
};

#undef TRACER_NAMED

// Kernel signal numbers for real-time signals (glibc reserves the first two,
// so SIGRTMIN the macro is not the kernel's).
constexpr uint64_t kKernelSigRtMin = 32;
constexpr uint64_t kKernelSigRtMax = 64;

}  // namespace

std::string OpenFlagsToString(uint64_t flags) {
  std::string_view access;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      access = "O_RDONLY";
      break;
    case O_WRONLY:
      access = "O_WRONLY";
      break;
    case O_RDWR:
      access = "O_RDWR";
      break;
    default:
      access = "O_ACCMODE";
      break;
  }
  return Flags(flags & ~static_cast<uint64_t>(O_ACCMODE), kOpenFlags, "", std::string(access));
}

std::string CloexecFlagsToString(uint64_t flags) { return Flags(flags, kCloexecFlags); }

std::string ModeToString(uint64_t mode) {
  return absl::StrFormat("%#03o", static_cast<uint32_t>(mode));
}

std::string DirFdToString(uint64_t fd) {
  int32_t v = static_cast<int32_t>(static_cast<uint32_t>(fd));
  if (v == AT_FDCWD) return "AT_FDCWD";
  return absl::StrCat(v);
}

std::string AtFlagsToString(uint64_t flags) { return Flags(flags, kAtFlags); }

std::string FaccessatFlagsToString(uint64_t flags) { return Flags(flags, kFaccessatFlags); }

std::string AccessModeToString(uint64_t mode) { return Flags(mode, kAccessModes, "F_OK"); }

std::string ProtToString(uint64_t prot) { return Flags(prot, kProt, "PROT_NONE"); }

std::string MmapFlagsToString(uint64_t flags) {
  std::string type = Enum(flags & MAP_TYPE, kMapTypes, /*unknown_hex=*/true);
  uint64_t rest = flags & ~static_cast<uint64_t>(MAP_TYPE);
  // MAP_HUGE_<size>: the page size's log2 in bits 26..31.
  uint64_t huge = (rest >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
  rest &= ~(static_cast<uint64_t>(MAP_HUGE_MASK) << MAP_HUGE_SHIFT);
  std::string out = Flags(rest, kMapFlags, "", type);
  if (huge != 0) absl::StrAppend(&out, "|", huge, "<<MAP_HUGE_SHIFT");
  return out;
}

std::string CloneFlagsToString(uint64_t flags) {
  uint64_t sig = flags & CSIGNAL;
  std::string out = Flags(flags & ~static_cast<uint64_t>(CSIGNAL), kCloneFlags, "");
  if (sig != 0) {
    if (!out.empty()) out += '|';
    out += SignalToString(sig);
  }
  return out.empty() ? "0" : out;
}

std::string FcntlCmdToString(uint64_t cmd) { return Enum(cmd, kFcntlCmds); }

std::string FdFlagsToString(uint64_t flags) { return Flags(flags, kFdFlags); }

std::string SocketDomainToString(uint64_t domain) { return Enum(domain, kFamilies); }

std::string AddressFamilyToString(uint16_t family) { return Enum(family, kFamilies); }

std::string SocketTypeToString(uint64_t type) {
  constexpr uint64_t kTypeMask = 0xf;  // SOCK_TYPE_MASK in the kernel
  std::string base = Enum(type & kTypeMask, kSockTypes);
  return Flags(type & ~kTypeMask, kSockFlags, "", base);
}

std::string SocketFlagsToString(uint64_t flags) { return Flags(flags, kSockFlags); }

std::string SocketProtocolToString(uint64_t domain, uint64_t protocol) {
  if (domain == AF_INET || domain == AF_INET6) return Enum(protocol, kIpProtocols);
  return absl::StrCat(static_cast<int32_t>(static_cast<uint32_t>(protocol)));
}

std::string ShutdownHowToString(uint64_t how) { return Enum(how, kShutdownHow); }

std::string WhenceToString(uint64_t whence) { return Enum(whence, kWhence); }

std::string SigprocmaskHowToString(uint64_t how) { return Enum(how, kSigprocHow); }

std::string WaitOptionsToString(uint64_t options) { return Flags(options, kWaitOptions); }

std::string SignalToString(uint64_t sig) {
  if (sig > 0 && sig < kKernelSigRtMin) {
    if (const char* abbrev = sigabbrev_np(static_cast<int>(sig)))
      return absl::StrCat("SIG", abbrev);
  }
  if (sig == kKernelSigRtMin) return "SIGRTMIN";
  if (sig > kKernelSigRtMin && sig <= kKernelSigRtMax) {
    return absl::StrCat("SIGRT_", sig - kKernelSigRtMin);
  }
  return absl::StrCat(static_cast<int32_t>(static_cast<uint32_t>(sig)));
}

}  // namespace tracer::strace
