#include "otlp/delivery/queue_record.h"

#include "absl/status/status.h"

namespace tracer::otlp::delivery {
namespace {
constexpr char kMagic[4] = {'T', 'Q', '1', '\0'};
}  // namespace

std::string EncodeQueueRecord(absl::string_view agent_id, uint64_t seq, absl::string_view batch) {
  std::string out(kMagic, sizeof(kMagic));
  out.push_back(static_cast<char>(agent_id.size()));
  out.append(agent_id.data(), agent_id.size());
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(seq >> (8 * i)));
  out.append(batch.data(), batch.size());
  return out;
}

absl::StatusOr<QueueRecord> DecodeQueueRecord(absl::string_view payload) {
  if (payload.size() < sizeof(kMagic) + 1 ||
      payload.substr(0, sizeof(kMagic)) != absl::string_view(kMagic, sizeof(kMagic))) {
    return absl::DataLossError("queue record: bad magic");
  }
  const size_t id_len = static_cast<unsigned char>(payload[sizeof(kMagic)]);
  const size_t header = sizeof(kMagic) + 1 + id_len + 8;
  if (id_len == 0 || id_len > kMaxAgentIdBytes || payload.size() < header) {
    return absl::DataLossError("queue record: bad header");
  }
  QueueRecord record;
  record.agent_id = std::string(payload.substr(sizeof(kMagic) + 1, id_len));
  for (size_t i = sizeof(kMagic) + 1 + id_len; i < header; ++i) {
    record.seq = (record.seq << 8) | static_cast<unsigned char>(payload[i]);
  }
  record.batch = payload.substr(header);
  return record;
}

}  // namespace tracer::otlp::delivery
