#include "tests/bench/export/wire_span_count.h"

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace tracer::bench {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Calls on_field(number, bytes) for every length-delimited field of the
// message in `bytes` and skips every other field. False on malformed input
// or when on_field returns false.
template <typename F>
bool ForEachLengthDelimited(absl::string_view bytes, F on_field) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(INT32_MAX);
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return static_cast<size_t>(in.CurrentPosition()) == bytes.size();
    if (WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t len = 0;
      if (!in.ReadVarint32(&len)) return false;
      const int at = in.CurrentPosition();
      if (static_cast<size_t>(at) + len > bytes.size()) return false;
      if (!on_field(WireFormatLite::GetTagFieldNumber(tag), bytes.substr(at, len))) return false;
      if (!in.Skip(static_cast<int>(len))) return false;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
}

}  // namespace

absl::StatusOr<int64_t> CountSpansOnTheWire(absl::string_view wire) {
  int64_t spans = 0;
  auto count_spans = [&](int number, absl::string_view) {  // in ScopeSpans
    if (number == 2) ++spans;                              // ScopeSpans.spans
    return true;
  };
  auto in_resource_spans = [&](int number, absl::string_view scope_spans) {
    if (number != 2 && number != 1000) return true;  // scope_spans / old name
    return ForEachLengthDelimited(scope_spans, count_spans);
  };
  auto in_request = [&](int number, absl::string_view resource_spans) {
    if (number != 1) return true;  // resource_spans
    return ForEachLengthDelimited(resource_spans, in_resource_spans);
  };
  if (!ForEachLengthDelimited(wire, in_request)) {
    return absl::InvalidArgumentError("malformed ExportTraceServiceRequest");
  }
  return spans;
}

}  // namespace tracer::bench
