#include "otlp/batch_summary.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

#include "otlp/semconv.h"

namespace tracer::otlp {

using opentelemetry::proto::trace::v1::Span;
using opentelemetry::proto::trace::v1::Status;

std::string ServiceNameOf(const opentelemetry::proto::resource::v1::Resource& resource) {
  for (const auto& attr : resource.attributes()) {
    if (attr.key() == semconv::kServiceName && attr.value().has_string_value()) {
      std::string name = attr.value().string_value().substr(0, kMaxServiceNameBytes);
      std::replace(name.begin(), name.end(), '\0', '?');
      return name;
    }
  }
  return kUnknownService;
}

namespace {

// Adds `span` (of service `service`) to `part`, keeping the root candidate
// rule of batch_summary.proto.
void AddToPart(const Span& span, const std::string& service, v1::TracePart* part) {
  const bool first = part->span_ids().empty();
  part->mutable_span_ids()->append(span.span_id());
  const uint64_t start = span.start_time_unix_nano();
  if (span.status().code() == Status::STATUS_CODE_ERROR) {
    part->set_error_count(part->error_count() + 1);
  }
  if (first || start < part->start_unix_nano()) part->set_start_unix_nano(start);
  part->set_end_unix_nano(std::max<uint64_t>(part->end_unix_nano(), span.end_time_unix_nano()));
  part->set_last_start_unix_nano(std::max<uint64_t>(part->last_start_unix_nano(), start));
  const bool parentless = span.parent_span_id().empty();
  if (first || (parentless && !part->root_is_parentless()) ||
      (parentless == part->root_is_parentless() && start < part->root_start_unix_nano())) {
    part->set_root_is_parentless(parentless);
    part->set_root_start_unix_nano(start);
    part->set_root_name(span.name());
    part->set_root_service(service);
  }
  for (v1::TracePart::Service& s : *part->mutable_services()) {
    if (s.name() == service) {
      s.set_last_start_unix_nano(std::max<uint64_t>(s.last_start_unix_nano(), start));
      return;
    }
  }
  v1::TracePart::Service* s = part->add_services();
  s->set_name(service);
  s->set_last_start_unix_nano(start);
}

}  // namespace

v1::BatchSummary SummarizeBatch(const ExportTraceServiceRequest& request, const SkipSpan& skip) {
  v1::BatchSummary summary;
  // Keys view `request`, which outlives them.
  absl::flat_hash_map<absl::string_view, int> part_of;  // trace id -> index in traces
  absl::flat_hash_set<std::pair<absl::string_view, absl::string_view>> seen;  // trace, span
  uint32_t spans = 0;
  for (const auto& rs : request.resource_spans()) {
    const std::string service = ServiceNameOf(rs.resource());
    for (const auto& ss : rs.scope_spans()) {
      for (const Span& span : ss.spans()) {
        ++spans;
        if (span.trace_id().size() != kTraceIdBytes || span.span_id().size() != kSpanIdBytes) {
          summary.set_invalid_spans(summary.invalid_spans() + 1);
          continue;
        }
        if (skip && skip(span.trace_id(), span.span_id())) continue;
        if (!seen.emplace(span.trace_id(), span.span_id()).second) continue;
        auto [it, inserted] = part_of.emplace(span.trace_id(), summary.traces_size());
        if (inserted) summary.add_traces()->set_trace_id(span.trace_id());
        AddToPart(span, service, summary.mutable_traces(it->second));
      }
    }
  }
  summary.set_spans(spans);
  return summary;
}

uint64_t SpansIn(const v1::BatchSummary& summary) {
  uint64_t spans = 0;
  for (const v1::TracePart& part : summary.traces()) spans += part.span_ids().size() / kSpanIdBytes;
  return spans;
}

}  // namespace tracer::otlp
