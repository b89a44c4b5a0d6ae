// Fuzz target: FormatArgs/FormatResult over arbitrary events. Captured blob
// bytes are whatever a traced process had in memory, so formatting them is
// parsing untrusted input.
//
// Input layout: byte 0 selects the syscall (from a list of decoded ones, or
// a raw number), then 6 x 8 bytes of arguments, 8 bytes of return value, one
// flags byte (no_return, truncated), then blobs: [arg_index, kind, len] +
// len bytes, repeated to the end.
#include <sys/syscall.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "agent/capture/events.h"
#include "agent/strace/format.h"

namespace {

constexpr int kSyscalls[] = {
    SYS_read,       SYS_write,  SYS_openat,      SYS_execve,   SYS_connect,    SYS_accept4,
    SYS_mmap,       SYS_clone,  SYS_fcntl,       SYS_socket,   SYS_sendto,     SYS_recvfrom,
    SYS_newfstatat, SYS_access, SYS_lseek,       SYS_kill,     SYS_wait4,      SYS_brk,
    SYS_execveat,   SYS_bind,   SYS_getsockname, SYS_unlinkat, SYS_exit_group, SYS_pipe2,
};

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  uint64_t U64() {
    uint64_t v = 0;
    size_t n = std::min<size_t>(8, end_ - p_);
    std::memcpy(&v, p_, n);
    p_ += n;
    return v;
  }
  uint8_t U8() { return p_ < end_ ? *p_++ : 0; }
  std::string Bytes(size_t n) {
    n = std::min<size_t>(n, end_ - p_);
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  bool Done() const { return p_ >= end_; }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r(data, size);
  tracer::capture::SyscallEvent e;
  uint8_t sel = r.U8();
  constexpr size_t kCount = sizeof(kSyscalls) / sizeof(kSyscalls[0]);
  e.nr = sel < 2 * kCount ? kSyscalls[sel % kCount] : static_cast<int32_t>(sel * 3);
  for (uint64_t& a : e.args) a = r.U64();
  e.ret = static_cast<int64_t>(r.U64());
  uint8_t flags = r.U8();
  e.no_return = flags & 1;
  std::vector<std::string> storage;
  storage.reserve(16);
  while (!r.Done() && storage.size() < 16) {
    tracer::capture::Blob b;
    b.arg_index = r.U8() % 7;  // 6 is out of range on purpose
    b.kind = static_cast<tracer::capture::BlobKind>(r.U8() % 6);
    b.truncated = flags & 2;
    storage.push_back(r.Bytes(r.U8() * 2));
    b.data = storage.back();
    e.blobs.push_back(b);
  }
  std::string args = tracer::strace::FormatArgs(e);
  std::string result = tracer::strace::FormatResult(e);
  // Output is printable ASCII whatever the input.
  for (char c : args + result)
    if (c < 0x20 || c > 0x7e) __builtin_trap();
  return 0;
}
