#include "agent/spans/span_batch.h"

#include <algorithm>

#include "glog/logging.h"
#include "otlp/wire/json_encoder.h"
#include "otlp/wire/protobuf_encoder.h"
#include "otlp/wire/to_message.h"

namespace tracer::spans {

SpanBatch::SpanBatch(size_t expected_spans)
    // A syscall span takes ~450 bytes of attributes and text: one block
    // holds a whole batch of them.
    : arena_(std::min<size_t>(expected_spans, 8192) * 480 + 4096) {
  records_.reserve(std::min<size_t>(expected_spans, 8192));
  resource_of_.reserve(records_.capacity());
}

SpanBatch::~SpanBatch() = default;

size_t SpanBatch::AddResource() {
  DCHECK(!sealed_);
  otlp::wire::SpanBatch part;
  part.scope_name = kScopeName;
  part.scope_version = kScopeVersion;
  parts_.push_back(part);
  return parts_.size() - 1;
}

otlp::wire::SpanRecord& SpanBatch::AddSpan(size_t resource) {
  DCHECK(!sealed_);
  DCHECK_LT(resource, parts_.size());
  resource_of_.push_back(static_cast<uint32_t>(resource));
  return records_.emplace_back();
}

void SpanBatch::SetResourceAttributes(size_t resource,
                                      absl::Span<const otlp::wire::Attribute> attributes) {
  DCHECK_LT(resource, parts_.size());
  parts_[resource].resource_attributes = attributes;
}

void SpanBatch::Seal() {
  DCHECK(!sealed_);
  sealed_ = true;
  if (parts_.size() == 1) {
    parts_[0].spans = records_;
    return;
  }
  // Counting sort by resource, stable within each.
  std::vector<size_t> start(parts_.size() + 1, 0);
  for (uint32_t r : resource_of_) ++start[r + 1];
  for (size_t r = 1; r < start.size(); ++r) start[r] += start[r - 1];
  ordered_.resize(records_.size());
  std::vector<size_t> next(start.begin(), start.end() - 1);
  for (size_t i = 0; i < records_.size(); ++i) ordered_[next[resource_of_[i]]++] = records_[i];
  for (size_t r = 0; r < parts_.size(); ++r) {
    parts_[r].spans = absl::Span<const otlp::wire::SpanRecord>(ordered_.data() + start[r],
                                                               start[r + 1] - start[r]);
  }
}

const std::string& SpanBatch::protobuf() const {
  DCHECK(sealed_);
  absl::call_once(protobuf_once_, [this] { otlp::wire::AppendProtobuf(parts_, &protobuf_); });
  return protobuf_;
}

void SpanBatch::AppendJson(std::string* out) const {
  DCHECK(sealed_);
  otlp::wire::AppendJson(parts_, out);
}

const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& SpanBatch::request()
    const {
  DCHECK(sealed_);
  absl::call_once(request_once_, [this] {
    request_arena_ = std::make_unique<google::protobuf::Arena>();
    request_ = otlp::wire::ToMessage(parts_, request_arena_.get());
  });
  return *request_;
}

}  // namespace tracer::spans
