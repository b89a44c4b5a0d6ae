// On-disk format of one WAL record: the RocksDB key and value layout.
//
// Every record lives in the default column family under an 8-byte key, the
// record's sequence number as a big-endian u64 (so RocksDB's bytewise order
// is sequence order). The value is a fixed 28-byte header followed by the
// payload (an opaque serialized span batch, e.g. OTLP `ResourceSpans` or an
// `ExportTraceServiceRequest`):
//
//   byte 0        4     5     6         8            12                   20            24 28
//        +--------+-----+-----+---------+------------+--------------------+-------------+---------+----------
//        | magic  | ver | type| reserved| span_count | create_unix_nanos  | payload_len | crc32   |
//        payload | u32 LE | u8  | u8  | u16 = 0 | u32 LE     | i64 LE             | u32 LE      |
//        u32 LE  | payload_len bytes
//        +--------+-----+-----+---------+------------+--------------------+-------------+---------+----------
//
//   magic     kRecordMagic ("TWAL" in memory order): tells our records from
//             foreign bytes.
//   ver       kRecordFormatVersion; any other value is kUnknownVersion (a
//             newer writer, or damage), because a different version may lay
//             out the rest of the header differently.
//   type      RecordType; unknown types are rejected after the CRC passes.
//   crc32     zlib's CRC-32 (ISO-HDLC polynomial) over bytes [0, 24) and the
//             payload, i.e. over everything except the CRC field itself.
//             RocksDB checksums its own WAL and SST blocks; this one covers the
//             record end to end, so a torn, truncated, foreign or hand-edited
//             value is detected no matter which layer it came through.
//
// Checks run in this order; the first that fails names the error:
// size >= 28 (kTruncatedHeader), magic (kBadMagic), version
// (kUnknownVersion), size < 28 + payload_len (kTruncatedPayload),
// size > 28 + payload_len (kTrailingBytes), CRC (kChecksumMismatch),
// reserved == 0 and type known (kUnknownType).
//
// Pure functions, thread-safe, no allocation except where a std::string is
// returned. Modelled on LevelDB's db/log_format.h.
#ifndef TRACER_STORAGE_RECORD_FORMAT_H_
#define TRACER_STORAGE_RECORD_FORMAT_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tracer::storage {

inline constexpr uint32_t kRecordMagic = 0x4C415754;  // 'T' 'W' 'A' 'L'
inline constexpr uint8_t kRecordFormatVersion = 1;
inline constexpr size_t kRecordHeaderSize = 28;
inline constexpr size_t kSeqKeySize = 8;

// What a record's payload holds.
enum class RecordType : uint8_t {
  // A serialized batch of spans; span_count is the number of spans in it.
  kSpanBatch = 1,
};

// Why a stored key/value is not a valid record. kOk means valid. The
// numeric values are stable (they index counters); add new ones before
// kNumRecordErrors.
enum class RecordError : uint8_t {
  kOk = 0,
  kTruncatedHeader,   // value shorter than the 28-byte header
  kBadMagic,          // not one of our records (foreign or overwritten)
  kUnknownVersion,    // header version is not kRecordFormatVersion
  kTruncatedPayload,  // fewer payload bytes than payload_len
  kTrailingBytes,     // more payload bytes than payload_len
  kChecksumMismatch,  // CRC-32 does not match: flipped bits
  kUnknownType,       // valid CRC but an unknown type or non-zero reserved
  kBadKey,            // key is not an 8-byte big-endian sequence number
  kNumRecordErrors,
};

// A stable lower_snake_case name for logs and metrics ("checksum_mismatch").
std::string_view RecordErrorName(RecordError error);

// A decoded record. `payload` points into the value passed to DecodeRecord
// and is valid only as long as that buffer is.
struct RecordView {
  RecordType type = RecordType::kSpanBatch;
  uint32_t span_count = 0;
  int64_t create_unix_nanos = 0;  // Unix time in ns when Append was called
  std::string_view payload;
};

// The 28-byte header for `payload`, CRC included. Write it followed by the
// payload bytes (e.g. as two rocksdb::SliceParts) to form the value.
// payload.size() must fit in u32 (callers reject larger payloads).
std::array<char, kRecordHeaderSize> EncodeRecordHeader(RecordType type, uint32_t span_count,
                                                       int64_t create_unix_nanos,
                                                       std::string_view payload);

// Header plus payload in one string (tests, tools).
std::string EncodeRecord(RecordType type, uint32_t span_count, int64_t create_unix_nanos,
                         std::string_view payload);

// Validates `value` as described above. On kOk fills `*out` (borrowing from
// `value`); otherwise leaves `*out` unspecified. Never reads outside
// `value`; safe on arbitrary bytes.
RecordError DecodeRecord(std::string_view value, RecordView* out);

// Big-endian 8-byte key for sequence number `seq`.
std::string EncodeSeqKey(uint64_t seq);

// Parses a key written by EncodeSeqKey. Returns false (and leaves *seq
// unspecified) unless `key` is exactly 8 bytes.
bool DecodeSeqKey(std::string_view key, uint64_t* seq);

// Receives every invalid record the WAL finds (on open or on read) right
// after it has been moved to the quarantine column family. Implementations
// must be thread-safe; calls are made without WAL locks held.
class CorruptionReporter {
 public:
  virtual ~CorruptionReporter() = default;

  // `seq`: the record's key (0 if the key itself was bad); `value_bytes`:
  // size of the stored value; `error`: why it was rejected.
  virtual void Corruption(uint64_t seq, size_t value_bytes, RecordError error) = 0;
};

}  // namespace tracer::storage

#endif  // TRACER_STORAGE_RECORD_FORMAT_H_
