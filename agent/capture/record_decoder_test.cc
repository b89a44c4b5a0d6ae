#include "agent/capture/record_decoder.h"

#include <cstring>
#include <string>
#include <vector>

#include "agent/capture/syscalls_abi.h"
#include "gtest/gtest.h"

namespace tracer::capture {
namespace {

// Builds records byte by byte the way the kernel program lays them out.
class RecordBuilder {
 public:
  explicit RecordBuilder(int nr) {
    bpf_abi::SyscallRecord r = {};
    r.hdr.type = SYSCALLS_REC_SYSCALL;
    r.hdr.nr = nr;
    r.hdr.tgid = 100;
    r.hdr.tid = 101;
    r.start_ns = 5000;
    r.duration_ns = 250;
    r.ret = -2;
    for (int i = 0; i < 6; ++i) r.args[i] = 10 + i;
    Append(&r, sizeof r);
  }
  RecordBuilder& Flags(uint8_t flags) {
    bytes_[1] = flags;
    return *this;
  }
  RecordBuilder& Blob(uint8_t arg, uint8_t kind, const std::string& data, bool truncated = false,
                      uint32_t claimed_len = UINT32_MAX) {
    bpf_abi::BlobHeader h = {};
    h.arg_index = arg;
    h.kind = kind;
    h.flags = truncated ? SYSCALLS_BLOB_F_TRUNCATED : 0;
    h.len = claimed_len == UINT32_MAX ? data.size() : claimed_len;
    Append(&h, sizeof h);
    Append(data.data(), data.size());
    return *this;
  }
  std::vector<uint8_t> Build() const {
    std::vector<uint8_t> out = bytes_;
    const uint16_t size = out.size();
    std::memcpy(out.data() + 2, &size, sizeof size);
    return out;
  }

 private:
  void Append(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  std::vector<uint8_t> bytes_;
};

TEST(RecordDecoderTest, SyscallWithoutBlobs) {
  auto rec = RecordBuilder(257).Build();
  SyscallEvent s;
  ProcessEvent p;
  ASSERT_EQ(DecodeSyscallRecord(rec.data(), rec.size(), &s, &p), DecodeResult::kSyscall);
  EXPECT_EQ(s.tgid, 100u);
  EXPECT_EQ(s.tid, 101u);
  EXPECT_EQ(s.nr, 257);
  EXPECT_EQ(s.ret, -2);
  EXPECT_EQ(s.start_ns, 5000u);
  EXPECT_EQ(s.duration_ns, 250u);
  EXPECT_EQ(s.args[0], 10u);
  EXPECT_EQ(s.args[5], 15u);
  EXPECT_FALSE(s.no_return);
  EXPECT_TRUE(s.blobs.empty());
}

TEST(RecordDecoderTest, NoReturnFlag) {
  auto rec = RecordBuilder(231).Flags(SYSCALLS_F_NO_RETURN).Build();
  SyscallEvent s;
  ProcessEvent p;
  ASSERT_EQ(DecodeSyscallRecord(rec.data(), rec.size(), &s, &p), DecodeResult::kSyscall);
  EXPECT_TRUE(s.no_return);
}

TEST(RecordDecoderTest, BlobsPointIntoTheRecord) {
  const std::string argv("ls\0-la", 6);
  auto rec = RecordBuilder(59)
                 .Blob(0, SYSCALLS_BLOB_STRING, "/bin/ls")
                 .Blob(1, SYSCALLS_BLOB_ARGV, argv, /*truncated=*/true)
                 .Build();
  SyscallEvent s;
  ProcessEvent p;
  ASSERT_EQ(DecodeSyscallRecord(rec.data(), rec.size(), &s, &p), DecodeResult::kSyscall);
  ASSERT_EQ(s.blobs.size(), 2u);
  EXPECT_EQ(s.BlobFor(0)->data, "/bin/ls");
  EXPECT_EQ(s.BlobFor(0)->kind, BlobKind::kString);
  EXPECT_FALSE(s.BlobFor(0)->truncated);
  EXPECT_EQ(s.BlobFor(1)->data, argv);
  EXPECT_EQ(s.BlobFor(1)->kind, BlobKind::kArgv);
  EXPECT_TRUE(s.BlobFor(1)->truncated);
  const char* base = reinterpret_cast<const char*>(rec.data());
  EXPECT_GE(s.BlobFor(0)->data.data(), base);
  EXPECT_LT(s.BlobFor(0)->data.data(), base + rec.size());
  EXPECT_EQ(s.BlobFor(2), nullptr);
}

TEST(RecordDecoderTest, ReusedEventDropsOldBlobs) {
  auto with = RecordBuilder(1).Blob(1, SYSCALLS_BLOB_BYTES, "data").Build();
  auto without = RecordBuilder(39).Build();
  SyscallEvent s;
  ProcessEvent p;
  ASSERT_EQ(DecodeSyscallRecord(with.data(), with.size(), &s, &p), DecodeResult::kSyscall);
  ASSERT_EQ(s.blobs.size(), 1u);
  ASSERT_EQ(DecodeSyscallRecord(without.data(), without.size(), &s, &p), DecodeResult::kSyscall);
  EXPECT_TRUE(s.blobs.empty());
  EXPECT_EQ(s.nr, 39);
}

TEST(RecordDecoderTest, EmptyBlobIsKept) {
  auto rec = RecordBuilder(1).Blob(1, SYSCALLS_BLOB_BYTES, "").Build();
  SyscallEvent s;
  ProcessEvent p;
  ASSERT_EQ(DecodeSyscallRecord(rec.data(), rec.size(), &s, &p), DecodeResult::kSyscall);
  ASSERT_EQ(s.blobs.size(), 1u);
  EXPECT_TRUE(s.blobs[0].data.empty());
}

TEST(RecordDecoderTest, BlobLengthPastTheEndIsInvalid) {
  auto rec = RecordBuilder(0).Blob(1, SYSCALLS_BLOB_BYTES, "abc", false, 4).Build();
  SyscallEvent s;
  ProcessEvent p;
  EXPECT_EQ(DecodeSyscallRecord(rec.data(), rec.size(), &s, &p), DecodeResult::kInvalid);
}

TEST(RecordDecoderTest, PartialBlobHeaderIsInvalid) {
  auto rec = RecordBuilder(0).Build();
  rec.insert(rec.end(), {1, 2, 0});
  const uint16_t size = rec.size();
  std::memcpy(rec.data() + 2, &size, sizeof size);
  SyscallEvent s;
  ProcessEvent p;
  EXPECT_EQ(DecodeSyscallRecord(rec.data(), rec.size(), &s, &p), DecodeResult::kInvalid);
}

TEST(RecordDecoderTest, BadBlobKindOrArgIsInvalid) {
  SyscallEvent s;
  ProcessEvent p;
  auto kind = RecordBuilder(0).Blob(1, 9, "x").Build();
  EXPECT_EQ(DecodeSyscallRecord(kind.data(), kind.size(), &s, &p), DecodeResult::kInvalid);
  auto arg = RecordBuilder(0).Blob(6, SYSCALLS_BLOB_BYTES, "x").Build();
  EXPECT_EQ(DecodeSyscallRecord(arg.data(), arg.size(), &s, &p), DecodeResult::kInvalid);
}

TEST(RecordDecoderTest, SizeFieldLargerThanDeliveredIsInvalid) {
  auto rec = RecordBuilder(0).Blob(1, SYSCALLS_BLOB_BYTES, "abcd").Build();
  SyscallEvent s;
  ProcessEvent p;
  EXPECT_EQ(DecodeSyscallRecord(rec.data(), rec.size() - 1, &s, &p), DecodeResult::kInvalid);
  EXPECT_EQ(DecodeSyscallRecord(rec.data(), 10, &s, &p), DecodeResult::kInvalid);
}

TEST(RecordDecoderTest, TruncatedSyscallHeaderIsInvalid) {
  auto rec = RecordBuilder(0).Build();
  const uint16_t size = 40;
  std::memcpy(rec.data() + 2, &size, sizeof size);
  SyscallEvent s;
  ProcessEvent p;
  EXPECT_EQ(DecodeSyscallRecord(rec.data(), rec.size(), &s, &p), DecodeResult::kInvalid);
}

TEST(RecordDecoderTest, UnknownTypeIsInvalid) {
  auto rec = RecordBuilder(0).Build();
  rec[0] = 77;
  SyscallEvent s;
  ProcessEvent p;
  EXPECT_EQ(DecodeSyscallRecord(rec.data(), rec.size(), &s, &p), DecodeResult::kInvalid);
}

bpf_abi::ProcessRecord Process(uint8_t type) {
  bpf_abi::ProcessRecord r = {};
  r.hdr.type = type;
  r.hdr.size = sizeof r;
  r.hdr.tgid = 42;
  r.hdr.tid = 42;
  r.ts_ns = 999;
  std::memcpy(r.comm, "cat", 3);
  return r;
}

TEST(RecordDecoderTest, ForkExecExit) {
  SyscallEvent s;
  ProcessEvent p;
  auto fork = Process(SYSCALLS_REC_FORK);
  fork.parent_tgid = 7;
  ASSERT_EQ(DecodeSyscallRecord(&fork, sizeof fork, &s, &p), DecodeResult::kProcess);
  EXPECT_EQ(p.kind, ProcessEvent::Kind::kFork);
  EXPECT_EQ(p.tgid, 42u);
  EXPECT_EQ(p.parent_tgid, 7u);
  EXPECT_EQ(p.ts_ns, 999u);
  EXPECT_EQ(p.comm, "cat");

  auto exec = Process(SYSCALLS_REC_EXEC);
  std::memcpy(exec.filename, "/bin/cat", 8);
  exec.filename_len = 8;
  ASSERT_EQ(DecodeSyscallRecord(&exec, sizeof exec, &s, &p), DecodeResult::kProcess);
  EXPECT_EQ(p.kind, ProcessEvent::Kind::kExec);
  EXPECT_EQ(p.filename, "/bin/cat");

  auto exit = Process(SYSCALLS_REC_EXIT);
  exit.exit_code = 3 << 8;
  ASSERT_EQ(DecodeSyscallRecord(&exit, sizeof exit, &s, &p), DecodeResult::kProcess);
  EXPECT_EQ(p.kind, ProcessEvent::Kind::kExit);
  EXPECT_EQ(p.exit_code, 3 << 8);
  EXPECT_TRUE(p.filename.empty());
}

TEST(RecordDecoderTest, ProcessRecordWithBadSizesIsInvalid) {
  SyscallEvent s;
  ProcessEvent p;
  auto exec = Process(SYSCALLS_REC_EXEC);
  exec.filename_len = sizeof exec.filename + 1;
  EXPECT_EQ(DecodeSyscallRecord(&exec, sizeof exec, &s, &p), DecodeResult::kInvalid);
  auto short_rec = Process(SYSCALLS_REC_EXIT);
  short_rec.hdr.size = sizeof short_rec - 8;
  EXPECT_EQ(DecodeSyscallRecord(&short_rec, sizeof short_rec, &s, &p), DecodeResult::kInvalid);
}

}  // namespace
}  // namespace tracer::capture
