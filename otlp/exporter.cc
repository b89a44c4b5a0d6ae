#include "otlp/exporter.h"

namespace tracer::otlp {

int64_t CountSpans(const ExportTraceServiceRequest& request) {
  int64_t n = 0;
  for (const auto& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) n += ss.spans_size();
  }
  return n;
}

}  // namespace tracer::otlp
