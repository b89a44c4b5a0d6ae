#include "storage/record_format.h"

#include <zlib.h>

#include <cstring>

namespace tracer::storage {
namespace {

// Offsets of the header fields (see the diagram in record_format.h).
constexpr size_t kMagicOffset = 0;
constexpr size_t kVersionOffset = 4;
constexpr size_t kTypeOffset = 5;
constexpr size_t kReservedOffset = 6;
constexpr size_t kSpanCountOffset = 8;
constexpr size_t kCreateTimeOffset = 12;
constexpr size_t kPayloadLenOffset = 20;
constexpr size_t kCrcOffset = 24;

// Little-endian helpers; the format is fixed LE regardless of the host.
void PutU16(char* dst, uint16_t v) {
  dst[0] = static_cast<char>(v);
  dst[1] = static_cast<char>(v >> 8);
}
void PutU32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
void PutU64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
uint16_t GetU16(const char* src) {
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
uint32_t GetU32(const char* src) {
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint64_t GetU64(const char* src) {
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// zlib's crc32 takes a uInt length; feed large buffers in chunks.
uint32_t Crc32(uint32_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const Bytef*>(data.data());
  size_t left = data.size();
  uLong c = crc;
  while (left > 0) {
    const uInt n = left > (1u << 30) ? (1u << 30) : static_cast<uInt>(left);
    c = crc32(c, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(c);
}

uint32_t RecordCrc(const char* header, std::string_view payload) {
  const uint32_t c = Crc32(0, std::string_view(header, kCrcOffset));
  return Crc32(c, payload);
}

}  // namespace

std::string_view RecordErrorName(RecordError error) {
  switch (error) {
    case RecordError::kOk:
      return "ok";
    case RecordError::kTruncatedHeader:
      return "truncated_header";
    case RecordError::kBadMagic:
      return "bad_magic";
    case RecordError::kUnknownVersion:
      return "unknown_version";
    case RecordError::kTruncatedPayload:
      return "truncated_payload";
    case RecordError::kTrailingBytes:
      return "trailing_bytes";
    case RecordError::kChecksumMismatch:
      return "checksum_mismatch";
    case RecordError::kUnknownType:
      return "unknown_type";
    case RecordError::kBadKey:
      return "bad_key";
    case RecordError::kNumRecordErrors:
      break;
  }
  return "unknown";
}

std::array<char, kRecordHeaderSize> EncodeRecordHeader(RecordType type, uint32_t span_count,
                                                       int64_t create_unix_nanos,
                                                       std::string_view payload) {
  std::array<char, kRecordHeaderSize> h{};
  PutU32(h.data() + kMagicOffset, kRecordMagic);
  h[kVersionOffset] = static_cast<char>(kRecordFormatVersion);
  h[kTypeOffset] = static_cast<char>(type);
  PutU16(h.data() + kReservedOffset, 0);
  PutU32(h.data() + kSpanCountOffset, span_count);
  PutU64(h.data() + kCreateTimeOffset, static_cast<uint64_t>(create_unix_nanos));
  PutU32(h.data() + kPayloadLenOffset, static_cast<uint32_t>(payload.size()));
  PutU32(h.data() + kCrcOffset, RecordCrc(h.data(), payload));
  return h;
}

std::string EncodeRecord(RecordType type, uint32_t span_count, int64_t create_unix_nanos,
                         std::string_view payload) {
  const auto header = EncodeRecordHeader(type, span_count, create_unix_nanos, payload);
  std::string out;
  out.reserve(header.size() + payload.size());
  out.append(header.data(), header.size());
  out.append(payload.data(), payload.size());
  return out;
}

RecordError DecodeRecord(std::string_view value, RecordView* out) {
  if (value.size() < kRecordHeaderSize) return RecordError::kTruncatedHeader;
  const char* h = value.data();
  if (GetU32(h + kMagicOffset) != kRecordMagic) return RecordError::kBadMagic;
  if (static_cast<uint8_t>(h[kVersionOffset]) != kRecordFormatVersion) {
    return RecordError::kUnknownVersion;
  }
  const uint64_t payload_len = GetU32(h + kPayloadLenOffset);
  const uint64_t have = value.size() - kRecordHeaderSize;
  if (have < payload_len) return RecordError::kTruncatedPayload;
  if (have > payload_len) return RecordError::kTrailingBytes;
  const std::string_view payload = value.substr(kRecordHeaderSize);
  if (RecordCrc(h, payload) != GetU32(h + kCrcOffset)) {
    return RecordError::kChecksumMismatch;
  }
  const auto type = static_cast<uint8_t>(h[kTypeOffset]);
  if (type != static_cast<uint8_t>(RecordType::kSpanBatch) || GetU16(h + kReservedOffset) != 0) {
    return RecordError::kUnknownType;
  }
  out->type = static_cast<RecordType>(type);
  out->span_count = GetU32(h + kSpanCountOffset);
  out->create_unix_nanos = static_cast<int64_t>(GetU64(h + kCreateTimeOffset));
  out->payload = payload;
  return RecordError::kOk;
}

std::string EncodeSeqKey(uint64_t seq) {
  std::string key(kSeqKeySize, '\0');
  for (size_t i = 0; i < kSeqKeySize; ++i) {
    key[i] = static_cast<char>(seq >> (8 * (kSeqKeySize - 1 - i)));
  }
  return key;
}

bool DecodeSeqKey(std::string_view key, uint64_t* seq) {
  if (key.size() != kSeqKeySize) return false;
  uint64_t v = 0;
  for (unsigned char c : key) v = (v << 8) | c;
  *seq = v;
  return true;
}

}  // namespace tracer::storage
