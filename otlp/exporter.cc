#include "otlp/exporter.h"

#include "absl/strings/str_cat.h"

namespace tracer::otlp {

absl::StatusOr<ExportResult> SpanExporter::ExportSerialized(std::string serialized) {
  ExportTraceServiceRequest request;
  if (!request.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(), ": request is not a serialized ExportTraceServiceRequest"));
  }
  return Export(request);
}

int64_t CountSpans(const ExportTraceServiceRequest& request) {
  int64_t n = 0;
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) n += ss.spans_size();
  }
  return n;
}

}  // namespace tracer::otlp
