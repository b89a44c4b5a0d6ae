#include "otlp/delivery/transport.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "otlp/create_exporter.h"

namespace tracer::otlp::delivery {

absl::StatusOr<std::unique_ptr<otlp::SpanExporter>> CreateTransport(const BackendOptions& options) {
  auto made = otlp::CreateExporter(options.exporter);
  if (!made.ok()) {
    return absl::Status(made.status().code(),
                        absl::StrCat("backend ", options.name, ": ", made.status().message()));
  }
  return made;
}

}  // namespace tracer::otlp::delivery
