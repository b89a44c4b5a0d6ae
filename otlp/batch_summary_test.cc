#include "otlp/batch_summary.h"

#include "gtest/gtest.h"
#include "otlp/semconv.h"

namespace tracer::otlp {
namespace {

using opentelemetry::proto::trace::v1::Status;

std::string Id(size_t bytes, char c) { return std::string(bytes, c); }

// Appends a ResourceSpans of service `service` holding one span.
opentelemetry::proto::trace::v1::Span* Add(ExportTraceServiceRequest* request,
                                           const std::string& service, char trace, char span,
                                           uint64_t start) {
  auto* rs = request->add_resource_spans();
  if (!service.empty()) {
    auto* attr = rs->mutable_resource()->add_attributes();
    attr->set_key(semconv::kServiceName);
    attr->mutable_value()->set_string_value(service);
  }
  auto* s = rs->add_scope_spans()->add_spans();
  s->set_trace_id(Id(kTraceIdBytes, trace));
  s->set_span_id(Id(kSpanIdBytes, span));
  s->set_parent_span_id(Id(kSpanIdBytes, 'p'));
  s->set_name(std::string(1, span));
  s->set_start_time_unix_nano(start);
  s->set_end_time_unix_nano(start + 10);
  return s;
}

TEST(BatchSummaryTest, OnePartPerTraceWithTimesRootAndServices) {
  ExportTraceServiceRequest request;
  Add(&request, "api", 'A', '1', 200);
  Add(&request, "db", 'A', '2', 100);  // earliest, but has a parent
  Add(&request, "api", 'B', '3', 50)->mutable_status()->set_code(Status::STATUS_CODE_ERROR);
  Add(&request, "api", 'A', '4', 300)->clear_parent_span_id();  // the root
  Add(&request, "", 'A', '5', 400);
  const v1::BatchSummary summary = SummarizeBatch(request);
  EXPECT_EQ(summary.spans(), 5u);
  EXPECT_EQ(summary.invalid_spans(), 0u);
  EXPECT_EQ(SpansIn(summary), 5u);
  ASSERT_EQ(summary.traces_size(), 2);
  const v1::TracePart& a = summary.traces(0);
  EXPECT_EQ(a.trace_id(), Id(16, 'A'));
  EXPECT_EQ(a.span_ids(), Id(8, '1') + Id(8, '2') + Id(8, '4') + Id(8, '5'));
  EXPECT_EQ(a.start_unix_nano(), 100u);
  EXPECT_EQ(a.end_unix_nano(), 410u);
  EXPECT_EQ(a.last_start_unix_nano(), 400u);
  EXPECT_TRUE(a.root_is_parentless());
  EXPECT_EQ(a.root_name(), "4");
  EXPECT_EQ(a.root_service(), "api");
  EXPECT_EQ(a.error_count(), 0u);
  ASSERT_EQ(a.services_size(), 3);
  EXPECT_EQ(a.services(0).name(), "api");
  EXPECT_EQ(a.services(0).last_start_unix_nano(), 300u);
  EXPECT_EQ(a.services(1).name(), "db");
  EXPECT_EQ(a.services(2).name(), kUnknownService);
  const v1::TracePart& b = summary.traces(1);
  EXPECT_EQ(b.error_count(), 1u);
  EXPECT_FALSE(b.root_is_parentless());  // no parentless span: the earliest
  EXPECT_EQ(b.root_name(), "3");
}

TEST(BatchSummaryTest, InvalidIdsRepeatsAndSkippedSpans) {
  ExportTraceServiceRequest request;
  Add(&request, "api", 'A', '1', 1);
  Add(&request, "api", 'A', '1', 2);  // same span again: taken once
  Add(&request, "api", 'A', '2', 3)->set_span_id("short");
  Add(&request, "api", 'C', '3', 4);
  v1::BatchSummary summary = SummarizeBatch(request);
  EXPECT_EQ(summary.spans(), 4u);
  EXPECT_EQ(summary.invalid_spans(), 1u);
  EXPECT_EQ(SpansIn(summary), 2u);
  summary = SummarizeBatch(
      request, [](absl::string_view trace, absl::string_view) { return trace == Id(16, 'C'); });
  ASSERT_EQ(summary.traces_size(), 1);  // C's part had nothing left
  EXPECT_EQ(summary.traces(0).trace_id(), Id(16, 'A'));
}

TEST(BatchSummaryTest, ServiceNameIsCutAndCleaned) {
  opentelemetry::proto::resource::v1::Resource resource;
  EXPECT_EQ(ServiceNameOf(resource), kUnknownService);
  auto* attr = resource.add_attributes();
  attr->set_key(semconv::kServiceName);
  attr->mutable_value()->set_string_value(std::string("a\0b", 3) + std::string(300, 'x'));
  const std::string name = ServiceNameOf(resource);
  EXPECT_EQ(name.size(), kMaxServiceNameBytes);
  EXPECT_EQ(name.substr(0, 3), "a?b");
}

}  // namespace
}  // namespace tracer::otlp
