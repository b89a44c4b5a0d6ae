#include "otlp/trace_extract.h"

#include "gtest/gtest.h"
#include "otlp/exporter.h"
#include "otlp/semconv.h"

namespace tracer::otlp {
namespace {

using opentelemetry::proto::trace::v1::ResourceSpans;

// Two resources, the first with two scopes; spans of traces 'A' and 'B'.
ExportTraceServiceRequest Batch() {
  ExportTraceServiceRequest request;
  for (int r = 0; r < 2; ++r) {
    ResourceSpans* rs = request.add_resource_spans();
    auto* attr = rs->mutable_resource()->add_attributes();
    attr->set_key(semconv::kServiceName);
    attr->mutable_value()->set_string_value(r == 0 ? "api" : "db");
    rs->set_schema_url("https://example.com/rs" + std::to_string(r));
    for (int s = 0; s < (r == 0 ? 2 : 1); ++s) {
      auto* ss = rs->add_scope_spans();
      ss->mutable_scope()->set_name("scope" + std::to_string(s));
      ss->set_schema_url("https://example.com/ss" + std::to_string(s));
      for (int i = 0; i < 4; ++i) {
        auto* span = ss->add_spans();
        span->set_trace_id(std::string(16, i % 2 == 0 ? 'A' : 'B'));
        span->set_span_id(std::string(7, 'x') + static_cast<char>('0' + r * 40 + s * 10 + i));
        span->set_name("span");
        span->set_start_time_unix_nano(1000 + i);
        span->add_attributes()->set_key("k");
      }
    }
  }
  return request;
}

TEST(TraceExtractTest, SameSpansAsParsingAndFiltering) {
  const ExportTraceServiceRequest request = Batch();
  auto got = ExtractTraceSpans(request.SerializeAsString(), std::string(16, 'A'));
  ASSERT_TRUE(got.ok()) << got.status();
  std::vector<ResourceSpans> want;
  for (const ResourceSpans& rs : request.resource_spans()) {
    for (const auto& ss : rs.scope_spans()) {
      ResourceSpans one;
      *one.mutable_resource() = rs.resource();
      one.set_schema_url(rs.schema_url());
      auto* out = one.add_scope_spans();
      *out->mutable_scope() = ss.scope();
      out->set_schema_url(ss.schema_url());
      for (const auto& span : ss.spans()) {
        if (span.trace_id() == std::string(16, 'A')) *out->add_spans() = span;
      }
      want.push_back(one);
    }
  }
  ASSERT_EQ(got->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*got)[i].SerializeAsString(), want[i].SerializeAsString()) << i;
  }
}

TEST(TraceExtractTest, WantFiltersSpanIdsAndEmptyGroupsAreLeftOut) {
  const ExportTraceServiceRequest request = Batch();
  const std::string only = std::string(7, 'x') + static_cast<char>('0' + 40 + 2);
  auto got = ExtractTraceSpans(request.SerializeAsString(), std::string(16, 'A'),
                               [&](absl::string_view id) { return id == only; });
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].scope_spans(0).spans(0).span_id(), only);
  EXPECT_TRUE(ExtractTraceSpans(request.SerializeAsString(), std::string(16, 'C'))->empty());
}

TEST(TraceExtractTest, DamagedBatchesAreDataLoss) {
  const std::string wire = Batch().SerializeAsString();
  EXPECT_EQ(
      ExtractTraceSpans(wire.substr(0, wire.size() - 3), std::string(16, 'A')).status().code(),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(ExtractTraceSpans("\x0a\x05\x12\x03\xff\xff\xff", std::string(16, 'A')).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tracer::otlp
