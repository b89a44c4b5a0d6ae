// Span batches for the encoder tests, the fuzz target and the encoding
// benchmark, with the storage their views point into.
#ifndef TRACER_OTLP_WIRE_TEST_RECORDS_H_
#define TRACER_OTLP_WIRE_TEST_RECORDS_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "otlp/wire/span_record.h"

namespace tracer::otlp::wire::testing {

// Owns the bytes, attribute and event arrays and spans of one SpanBatch.
// Addresses stay stable as it grows. Not thread-safe; not copyable.
class RecordStore {
 public:
  RecordStore() = default;
  RecordStore(const RecordStore&) = delete;
  RecordStore& operator=(const RecordStore&) = delete;

  // A stable copy of `s`.
  std::string_view Keep(std::string_view s);
  // A stable copy of `attrs` (strings in them must already be kept).
  absl::Span<const Attribute> KeepAttributes(std::vector<Attribute> attrs);
  // A stable copy of `views` (the bytes they view must already be kept).
  absl::Span<const std::string_view> KeepViews(std::vector<std::string_view> views);
  // A stable copy of `events`.
  absl::Span<const Event> KeepEvents(std::vector<Event> events);

  std::vector<SpanRecord>& spans() { return spans_; }
  // The batch over spans(), with the given resource and scope.
  SpanBatch batch() const {
    return SpanBatch{resource_attributes, scope_name, scope_version, spans_};
  }

  absl::Span<const Attribute> resource_attributes;
  std::string_view scope_name;
  std::string_view scope_version;

 private:
  std::deque<std::string> strings_;
  std::deque<std::vector<Attribute>> attributes_;
  std::deque<std::vector<std::string_view>> views_;
  std::deque<std::vector<Event>> events_;
  std::vector<SpanRecord> spans_;
};

// `spans` spans shaped like the agent's (the shapes of
// tests/bench/export/agent_like_spans.h: 8 resource attributes, scope
// "tracer-agent" 0.1; 3 of 4 syscall spans with 10 attributes, every 16th
// failed; 1 of 4 HTTP server spans with 10 attributes), deterministic in
// `seed`, into `store` (which must be empty).
void MakeAgentLikeBatch(int spans, uint64_t seed, RecordStore* store);

// A corpus (in this order: empty, agent-like, rich UTF-8, rich with bytes
// that are not UTF-8, one span) covering every attribute type, empty and maximal values (ids of
// 0xff, UINT64_MAX times, INT64_MIN/MAX, NaN and infinities), strings that
// need JSON escaping (quotes, backslash, every control character), bytes
// that are not UTF-8, events with and without attributes, every status and
// kind, spans with and without parent, long strings (multi-byte length
// varints), and an empty batch. One RecordStore per batch.
std::vector<std::unique_ptr<RecordStore>> MakeCorpus();

// A batch decoded from arbitrary bytes (the fuzz target's input), every
// field reachable. Never fails; `store` must be empty.
void MakeBatchFromBytes(std::string_view bytes, RecordStore* store);

}  // namespace tracer::otlp::wire::testing

#endif  // TRACER_OTLP_WIRE_TEST_RECORDS_H_
