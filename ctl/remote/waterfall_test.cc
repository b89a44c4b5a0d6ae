#include "ctl/remote/waterfall.h"

#include <string>

#include "gtest/gtest.h"

namespace tracer::ctl::remote {
namespace {

using opentelemetry::proto::trace::v1::Span;

const std::string kTraceId("\x0a\xf7\x65\x19\x16\xcd\x43\xdd\x84\x48\xeb\x21\x1c\x80\x31\x9c", 16);
constexpr uint64_t kT0 = 1700000000000000000ull;

Span* Add(opentelemetry::proto::trace::v1::ResourceSpans* rs, const std::string& id,
          const std::string& parent, const std::string& name, uint64_t start_us, uint64_t end_us) {
  if (rs->scope_spans_size() == 0) rs->add_scope_spans();
  Span* s = rs->mutable_scope_spans(0)->add_spans();
  s->set_trace_id(kTraceId);
  s->set_span_id(id);
  s->set_parent_span_id(parent);
  s->set_name(name);
  s->set_start_time_unix_nano(kT0 + start_us * 1000);
  s->set_end_time_unix_nano(kT0 + end_us * 1000);
  return s;
}

void SetService(opentelemetry::proto::trace::v1::ResourceSpans* rs, const std::string& name) {
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value(name);
}

TEST(WaterfallTest, GoldenTree) {
  tracer::v1::GetTraceResponse trace;
  auto* curl = trace.add_resource_spans();
  SetService(curl, "curl");
  auto* server = trace.add_resource_spans();
  SetService(server, "python3");
  // Deliberately out of order: the renderer sorts by start time.
  Add(curl, "B", "A", "connect", 1000, 2500);
  Add(curl, "A", "", "curl", 0, 20000);
  Add(server, "C", "B", "GET /", 2000, 18000)
      ->mutable_status()
      ->set_code(opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR);
  Add(server, "D", "C", "openat", 3000, 3010);
  Add(curl, "E", "A", "read", 18000, 19000);
  Add(curl, "F", "missing-parent", "orphan", 19000, 20000);

  const std::string want =
      "trace 0af7651916cd43dd8448eb211c80319c  6 spans  20.00ms\n"
      "curl [curl]            20.00ms |====================|\n"
      "  connect               1.50ms | ==                 |\n"
      "    GET / [python3] !  16.00ms |  ================  |\n"
      "      openat              10µs |   =                |\n"
      "  read                  1.00ms |                  = |\n"
      "orphan [curl]           1.00ms |                   =|\n";
  std::string got = RenderWaterfall(trace, 20);
  EXPECT_EQ(got, want) << got;
}

TEST(WaterfallTest, EmptyAndDurations) {
  EXPECT_EQ(RenderWaterfall(tracer::v1::GetTraceResponse()), "no spans\n");
  EXPECT_EQ(FormatDuration(850), "850ns");
  EXPECT_EQ(FormatDuration(12000), "12µs");
  EXPECT_EQ(FormatDuration(1500000), "1.50ms");
  EXPECT_EQ(FormatDuration(2350000000ull), "2.35s");
}

}  // namespace
}  // namespace tracer::ctl::remote
