#include "agent/capture/record_decoder.h"

#include <cstring>
#include <string>
#include <string_view>

#include "agent/capture/syscalls_abi.h"

namespace tracer::capture {
namespace {

// Records are packed and the ring buffer only guarantees 8-byte alignment of
// the record start; blob headers can sit at any offset, hence memcpy.
template <typename T>
T Load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

bool ValidBlobKind(uint8_t kind) {
  return kind >= SYSCALLS_BLOB_STRING && kind <= SYSCALLS_BLOB_ARGV;
}

DecodeResult DecodeSyscall(const uint8_t* p, size_t size, SyscallEvent* e) {
  if (size < sizeof(bpf_abi::SyscallRecord)) return DecodeResult::kInvalid;
  const auto r = Load<bpf_abi::SyscallRecord>(p);
  e->tgid = r.hdr.tgid;
  e->tid = r.hdr.tid;
  e->nr = r.hdr.nr;
  std::memcpy(e->args, r.args, sizeof e->args);
  e->ret = r.ret;
  e->start_ns = r.start_ns;
  e->duration_ns = r.duration_ns;
  e->no_return = (r.hdr.flags & SYSCALLS_F_NO_RETURN) != 0;
  e->blobs.clear();
  size_t off = sizeof(bpf_abi::SyscallRecord);
  while (off < size) {
    if (size - off < sizeof(bpf_abi::BlobHeader)) return DecodeResult::kInvalid;
    const auto h = Load<bpf_abi::BlobHeader>(p + off);
    off += sizeof h;
    if (h.len > size - off || h.arg_index > 5 || !ValidBlobKind(h.kind)) {
      return DecodeResult::kInvalid;
    }
    Blob b;
    b.arg_index = h.arg_index;
    b.kind = static_cast<BlobKind>(h.kind);
    b.truncated = (h.flags & SYSCALLS_BLOB_F_TRUNCATED) != 0;
    b.data = std::string_view(reinterpret_cast<const char*>(p + off), h.len);
    e->blobs.push_back(b);
    off += h.len;
  }
  return DecodeResult::kSyscall;
}

DecodeResult DecodeProcess(const uint8_t* p, size_t size, ProcessEvent* e) {
  if (size != sizeof(bpf_abi::ProcessRecord)) return DecodeResult::kInvalid;
  const auto r = Load<bpf_abi::ProcessRecord>(p);
  switch (r.hdr.type) {
    case SYSCALLS_REC_FORK:
      e->kind = ProcessEvent::Kind::kFork;
      break;
    case SYSCALLS_REC_EXEC:
      e->kind = ProcessEvent::Kind::kExec;
      break;
    case SYSCALLS_REC_EXIT:
      e->kind = ProcessEvent::Kind::kExit;
      break;
    default:
      return DecodeResult::kInvalid;
  }
  if (r.filename_len > sizeof r.filename) return DecodeResult::kInvalid;
  e->tgid = r.hdr.tgid;
  e->parent_tgid = r.parent_tgid;
  e->ts_ns = r.ts_ns;
  e->exit_code = r.exit_code;
  e->filename.assign(r.filename, r.filename_len);
  e->comm.assign(r.comm, strnlen(r.comm, sizeof r.comm));
  return DecodeResult::kProcess;
}

}  // namespace

DecodeResult DecodeSyscallRecord(const void* data, size_t size, SyscallEvent* syscall,
                                 ProcessEvent* process) {
  const auto* p = static_cast<const uint8_t*>(data);
  if (size < sizeof(bpf_abi::RecordHeader)) return DecodeResult::kInvalid;
  const auto hdr = Load<bpf_abi::RecordHeader>(p);
  // The ring buffer rounds sizes up to 8; the record's own size is exact.
  if (hdr.size < sizeof hdr || hdr.size > size) return DecodeResult::kInvalid;
  switch (hdr.type) {
    case SYSCALLS_REC_SYSCALL:
      return DecodeSyscall(p, hdr.size, syscall);
    case SYSCALLS_REC_FORK:
    case SYSCALLS_REC_EXEC:
    case SYSCALLS_REC_EXIT:
      return DecodeProcess(p, hdr.size, process);
    default:
      return DecodeResult::kInvalid;
  }
}

}  // namespace tracer::capture
