#include "otlp/delivery/queue_record.h"

#include "absl/status/status.h"

namespace tracer::otlp::delivery {
namespace {

constexpr size_t kMagicBytes = 4;
constexpr absl::string_view kMagicV1("TQ1\0", kMagicBytes);
constexpr absl::string_view kMagicV2("TQ2\0", kMagicBytes);

std::string Header(absl::string_view magic, absl::string_view agent_id, uint64_t seq) {
  std::string out(magic);
  out.push_back(static_cast<char>(agent_id.size()));
  out.append(agent_id.data(), agent_id.size());
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(seq >> (8 * i)));
  return out;
}

}  // namespace

std::string EncodeQueueRecord(absl::string_view agent_id, uint64_t seq, absl::string_view summary,
                              absl::string_view batch) {
  std::string out = Header(kMagicV2, agent_id, seq);
  const uint32_t len = static_cast<uint32_t>(summary.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(len >> (8 * i)));
  out.append(summary.data(), summary.size());
  out.append(batch.data(), batch.size());
  return out;
}

std::string EncodeQueueRecord(absl::string_view agent_id, uint64_t seq, absl::string_view batch) {
  std::string out = Header(kMagicV1, agent_id, seq);
  out.append(batch.data(), batch.size());
  return out;
}

absl::StatusOr<QueueRecord> DecodeQueueRecord(absl::string_view payload) {
  const absl::string_view magic = payload.substr(0, kMagicBytes);
  const bool v2 = magic == kMagicV2;
  if (payload.size() < kMagicBytes + 1 || (!v2 && magic != kMagicV1)) {
    return absl::DataLossError("queue record: bad magic");
  }
  const size_t id_len = static_cast<unsigned char>(payload[kMagicBytes]);
  size_t header = kMagicBytes + 1 + id_len + 8;
  if (id_len == 0 || id_len > kMaxAgentIdBytes || payload.size() < header) {
    return absl::DataLossError("queue record: bad header");
  }
  QueueRecord record;
  record.agent_id = std::string(payload.substr(kMagicBytes + 1, id_len));
  for (size_t i = kMagicBytes + 1 + id_len; i < header; ++i) {
    record.seq = (record.seq << 8) | static_cast<unsigned char>(payload[i]);
  }
  if (v2) {
    if (payload.size() < header + 4) return absl::DataLossError("queue record: bad header");
    uint64_t len = 0;
    for (size_t i = header; i < header + 4; ++i) {
      len = (len << 8) | static_cast<unsigned char>(payload[i]);
    }
    header += 4;
    if (payload.size() - header < len) {
      return absl::DataLossError("queue record: summary longer than the record");
    }
    record.has_summary = true;
    record.summary = payload.substr(header, len);
    header += len;
  }
  record.batch = payload.substr(header);
  return record;
}

}  // namespace tracer::otlp::delivery
