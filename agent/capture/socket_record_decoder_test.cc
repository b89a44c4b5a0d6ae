#include "agent/capture/socket_record_decoder.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>
#include <vector>

#include "agent/capture/sockets_abi.h"
#include "gtest/gtest.h"

namespace tracer::capture {
namespace {

template <typename T>
std::vector<uint8_t> Bytes(const T& rec, const std::string& payload = "") {
  std::vector<uint8_t> out(sizeof rec + payload.size());
  std::memcpy(out.data(), &rec, sizeof rec);
  std::memcpy(out.data() + sizeof rec, payload.data(), payload.size());
  return out;
}

sockets_abi::OpenRecord Open4() {
  sockets_abi::OpenRecord r = {};
  r.hdr.type = SOCKETS_REC_OPEN;
  r.hdr.size = sizeof r;
  r.hdr.nr = 42;
  r.hdr.tgid = 100;
  r.hdr.tid = 101;
  r.conn_id = 7;
  r.ts_ns = 5000;
  r.fd = 3;
  r.role = SOCKETS_ROLE_CLIENT;
  r.family = 2;
  r.local_port = 40000;
  r.remote_port = 8080;
  const uint8_t local[4] = {127, 0, 0, 1}, remote[4] = {10, 1, 2, 3};
  std::memcpy(r.local_addr, local, 4);
  std::memcpy(r.remote_addr, remote, 4);
  return r;
}

sockets_abi::DataRecord Data(const std::string& payload, uint64_t length) {
  sockets_abi::DataRecord r = {};
  r.hdr.type = SOCKETS_REC_DATA;
  r.hdr.size = sizeof r + payload.size();
  r.hdr.nr = 1;
  r.hdr.tgid = 100;
  r.hdr.tid = 102;
  r.conn_id = 7;
  r.start_ns = 6000;
  r.end_ns = 6100;
  r.length = length;
  r.fd = 3;
  r.direction = SOCKETS_DIR_EGRESS;
  r.captured = payload.size();
  return r;
}

sockets_abi::CloseRecord Close() {
  sockets_abi::CloseRecord r = {};
  r.hdr.type = SOCKETS_REC_CLOSE;
  r.hdr.size = sizeof r;
  r.hdr.nr = 3;
  r.hdr.tgid = 100;
  r.hdr.tid = 101;
  r.conn_id = 7;
  r.ts_ns = 9000;
  r.fd = 3;
  r.reason = SOCKETS_CLOSE_SYSCALL;
  return r;
}

SocketDecodeResult Decode(const std::vector<uint8_t>& b, SocketRecordEvents* e) {
  return DecodeSocketRecord(b.data(), b.size(), e);
}

TEST(SocketRecordDecoderTest, OpenIpv4) {
  SocketRecordEvents e;
  ASSERT_EQ(Decode(Bytes(Open4()), &e), SocketDecodeResult::kOpen);
  EXPECT_EQ(e.open.conn.tgid, 100u);
  EXPECT_EQ(e.open.conn.fd, 3);
  EXPECT_EQ(e.open.conn.id, 7u);
  EXPECT_EQ(e.open.tid, 101u);
  EXPECT_EQ(e.open.role, SocketRole::kClient);
  EXPECT_EQ(e.open.local.family, SocketAddress::Family::kIpv4);
  EXPECT_EQ(e.open.local.AddressString(), "127.0.0.1");
  EXPECT_EQ(e.open.local.port, 40000);
  EXPECT_EQ(e.open.remote.AddressString(), "10.1.2.3");
  EXPECT_EQ(e.open.remote.port, 8080);
  EXPECT_EQ(e.open.ts_ns, 5000u);
}

TEST(SocketRecordDecoderTest, OpenIpv6AndV4MappedAsIpv4) {
  auto r = Open4();
  r.family = 10;
  r.role = SOCKETS_ROLE_SERVER;
  ASSERT_EQ(inet_pton(AF_INET6, "2001:db8::5", r.local_addr), 1);
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:192.0.2.9", r.remote_addr), 1);
  SocketRecordEvents e;
  ASSERT_EQ(Decode(Bytes(r), &e), SocketDecodeResult::kOpen);
  EXPECT_EQ(e.open.role, SocketRole::kServer);
  EXPECT_EQ(e.open.local.family, SocketAddress::Family::kIpv6);
  EXPECT_EQ(e.open.local.AddressString(), "2001:db8::5");
  EXPECT_EQ(e.open.remote.family, SocketAddress::Family::kIpv4);
  EXPECT_EQ(e.open.remote.AddressString(), "192.0.2.9");
}

TEST(SocketRecordDecoderTest, DataWithPayloadAndTruncation) {
  SocketRecordEvents e;
  const std::string payload = "GET /x HTTP/1.1\r\n";
  // The ring buffer may hand over padding beyond the record.
  auto bytes = Bytes(Data(payload, 100000), payload);
  bytes.resize(bytes.size() + 7, 0xee);
  ASSERT_EQ(Decode(bytes, &e), SocketDecodeResult::kData);
  EXPECT_EQ(e.data.data, payload);
  EXPECT_EQ(e.data.length, 100000u);
  EXPECT_TRUE(e.data.truncated());
  EXPECT_EQ(e.data.direction, Direction::kEgress);
  EXPECT_EQ(e.data.syscall_nr, 1);
  EXPECT_EQ(e.data.tid, 102u);
  EXPECT_EQ(e.data.start_ns, 6000u);
  EXPECT_EQ(e.data.end_ns, 6100u);
}

TEST(SocketRecordDecoderTest, DataWithoutPayload) {
  SocketRecordEvents e;
  ASSERT_EQ(Decode(Bytes(Data("", 4096)), &e), SocketDecodeResult::kData);
  EXPECT_TRUE(e.data.data.empty());
  EXPECT_EQ(e.data.length, 4096u);
}

TEST(SocketRecordDecoderTest, Close) {
  SocketRecordEvents e;
  ASSERT_EQ(Decode(Bytes(Close()), &e), SocketDecodeResult::kClose);
  EXPECT_EQ(e.close.conn.id, 7u);
  EXPECT_EQ(e.close.conn.fd, 3);
  EXPECT_EQ(e.close.ts_ns, 9000u);
}

TEST(SocketRecordDecoderTest, TooShortForAHeaderIsInvalid) {
  SocketRecordEvents e;
  auto b = Bytes(Open4());
  EXPECT_EQ(DecodeSocketRecord(b.data(), 0, &e), SocketDecodeResult::kInvalid);
  EXPECT_EQ(DecodeSocketRecord(b.data(), 15, &e), SocketDecodeResult::kInvalid);
}

TEST(SocketRecordDecoderTest, SizeFieldBeyondTheBufferIsInvalid) {
  SocketRecordEvents e;
  auto b = Bytes(Open4());
  EXPECT_EQ(DecodeSocketRecord(b.data(), b.size() - 1, &e), SocketDecodeResult::kInvalid);
  auto d = Bytes(Data("abcdef", 6), "abcdef");
  EXPECT_EQ(DecodeSocketRecord(d.data(), d.size() - 1, &e), SocketDecodeResult::kInvalid);
}

TEST(SocketRecordDecoderTest, FixedRecordsWithWrongSizeAreInvalid) {
  SocketRecordEvents e;
  auto open = Open4();
  open.hdr.size = sizeof open - 8;
  EXPECT_EQ(Decode(Bytes(open), &e), SocketDecodeResult::kInvalid);
  auto close = Close();
  close.hdr.size = sizeof close + 8;
  auto b = Bytes(close, std::string(8, 'x'));
  EXPECT_EQ(Decode(b, &e), SocketDecodeResult::kInvalid);
}

TEST(SocketRecordDecoderTest, CapturedDisagreeingWithSizeIsInvalid) {
  SocketRecordEvents e;
  auto d = Data("abcdef", 6);
  d.captured = 5;  // size says 6 bytes follow
  EXPECT_EQ(Decode(Bytes(d, "abcdef"), &e), SocketDecodeResult::kInvalid);
  d.captured = 7;
  EXPECT_EQ(Decode(Bytes(d, "abcdef"), &e), SocketDecodeResult::kInvalid);
}

TEST(SocketRecordDecoderTest, CapturedBeyondLengthOrLimitIsInvalid) {
  SocketRecordEvents e;
  EXPECT_EQ(Decode(Bytes(Data("abcdef", 5), "abcdef"), &e), SocketDecodeResult::kInvalid);
  const std::string big(sockets_abi::kCaptureMax + 1, 'a');
  EXPECT_EQ(Decode(Bytes(Data(big, big.size()), big), &e), SocketDecodeResult::kInvalid);
  EXPECT_EQ(Decode(Bytes(Data("", 0)), &e), SocketDecodeResult::kInvalid);
}

TEST(SocketRecordDecoderTest, BadEnumerationsAndZeroIdsAreInvalid) {
  SocketRecordEvents e;
  auto open = Open4();
  open.role = 3;
  EXPECT_EQ(Decode(Bytes(open), &e), SocketDecodeResult::kInvalid);
  open = Open4();
  open.family = 1;  // AF_UNIX is never tracked
  EXPECT_EQ(Decode(Bytes(open), &e), SocketDecodeResult::kInvalid);
  open = Open4();
  open.conn_id = 0;
  EXPECT_EQ(Decode(Bytes(open), &e), SocketDecodeResult::kInvalid);
  auto data = Data("x", 1);
  data.direction = 0;
  EXPECT_EQ(Decode(Bytes(data, "x"), &e), SocketDecodeResult::kInvalid);
  data = Data("x", 1);
  data.end_ns = data.start_ns - 1;
  EXPECT_EQ(Decode(Bytes(data, "x"), &e), SocketDecodeResult::kInvalid);
  auto close = Close();
  close.reason = 9;
  EXPECT_EQ(Decode(Bytes(close), &e), SocketDecodeResult::kInvalid);
}

TEST(SocketRecordDecoderTest, SyscallRecordsAreNotSocketRecords) {
  SocketRecordEvents e;
  ::syscalls_process_record p = {};
  p.hdr.type = SYSCALLS_REC_EXIT;
  p.hdr.size = sizeof p;
  auto b = Bytes(p);
  EXPECT_FALSE(IsSocketRecord(b.data(), b.size()));
  EXPECT_EQ(Decode(b, &e), SocketDecodeResult::kInvalid);
  auto o = Bytes(Open4());
  EXPECT_TRUE(IsSocketRecord(o.data(), o.size()));
  EXPECT_FALSE(IsSocketRecord(o.data(), 0));
}

TEST(SocketAddressTest, Ipv4AddressStringMatchesInetNtop) {
  SocketAddress a;
  a.family = SocketAddress::Family::kIpv4;
  // Every value of each byte position (the others varied alongside).
  for (unsigned v = 0; v < 256; ++v) {
    a.addr = {};
    a.addr[0] = static_cast<uint8_t>(v);
    a.addr[1] = static_cast<uint8_t>(255 - v);
    a.addr[2] = static_cast<uint8_t>(v * 7);
    a.addr[3] = static_cast<uint8_t>(v / 3);
    char want[INET_ADDRSTRLEN] = {};
    ASSERT_NE(inet_ntop(AF_INET, a.addr.data(), want, sizeof want), nullptr);
    EXPECT_EQ(a.AddressString(), want);
  }
  a.family = SocketAddress::Family::kUnknown;
  EXPECT_EQ(a.AddressString(), "");
}

}  // namespace
}  // namespace tracer::capture
