#include "tests/bench/export/wire_span_count.h"

#include <string>

#include "gtest/gtest.h"
#include "otlp/exporter.h"
#include "otlp/test_requests.h"
#include "tests/bench/export/agent_like_spans.h"

namespace tracer::bench {
namespace {

TEST(WireSpanCountTest, AgreesWithTheParsedCountOnRealRequests) {
  for (const auto& req :
       {otlp::testing::MakeRichRequest(), otlp::testing::MakeSyscallRequest(300, 9),
        MakeAgentLikeRequest(512, 3, 1700000000000000000ull), MakeAgentLikeRequest(0, 1, 1),
        otlp::ExportTraceServiceRequest()}) {
    auto n = CountSpansOnTheWire(req.SerializeAsString());
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_EQ(*n, otlp::CountSpans(req));
  }
}

TEST(WireSpanCountTest, TruncatedInputIsAnError) {
  const std::string wire = MakeAgentLikeRequest(64, 2, 1).SerializeAsString();
  for (size_t cut : {wire.size() - 1, wire.size() / 2, size_t{3}}) {
    EXPECT_FALSE(CountSpansOnTheWire(wire.substr(0, cut)).ok()) << cut;
  }
}

TEST(WireSpanCountTest, AgentLikeSpansHaveTheDocumentedShape) {
  auto req = MakeAgentLikeRequest(16, 5, 1000);
  ASSERT_EQ(req.resource_spans_size(), 1);
  EXPECT_EQ(req.resource_spans(0).resource().attributes_size(), 8);
  const auto& spans = req.resource_spans(0).scope_spans(0).spans();
  ASSERT_EQ(spans.size(), 16);
  int errors = 0, servers = 0;
  for (const auto& s : spans) {
    EXPECT_EQ(s.attributes_size(), 10);
    EXPECT_EQ(s.trace_id().size(), 16u);
    EXPECT_EQ(s.span_id().size(), 8u);
    errors += s.status().code() == opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR;
    servers += s.kind() == opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER;
  }
  EXPECT_EQ(errors, 1);
  EXPECT_EQ(servers, 4);
  EXPECT_TRUE(spans[0].parent_span_id().empty());
  EXPECT_EQ(spans[1].parent_span_id(), spans[0].span_id());
  const double per_span =
      static_cast<double>(MakeAgentLikeRequest(4096, 1, 1).ByteSizeLong()) / 4096;
  EXPECT_GT(per_span, 250);
  EXPECT_LT(per_span, 450);
}

}  // namespace
}  // namespace tracer::bench
