#include "agent/protocols/http1/process_parent.h"

#include "agent/protocols/http1/http_flow_tracker.h"
#include "agent/protocols/http1/testing/flow_testing.h"
#include "gtest/gtest.h"

namespace tracer::http {
namespace {

using capture::SocketRole;
using testing::CollectingSink;
using testing::ScriptedConnection;

std::string Bytes(const spans::TraceId& id) { return std::string(id.begin(), id.end()); }
std::string Bytes(const spans::SpanId& id) { return std::string(id.begin(), id.end()); }

TEST(ProcessSpanParentTest, HttpSpansAreChildrenOfTheProcessSpan) {
  spans::SpanBuilderOptions bo;
  bo.read_proc = false;
  bo.clock = common::ClockOffset::FromOffset(0);
  spans::SpanBuilder builder(bo, nullptr);
  builder.AddRootProcess(100, 1000);

  CollectingSink sink;
  HttpFlowOptions options;
  options.clock = bo.clock;
  options.parent_lookup = ProcessSpanParent(&builder, bo.parent);
  HttpFlowTracker tracker(options, &sink);

  ScriptedConnection known(&tracker, 1, SocketRole::kServer, /*tgid=*/100);
  known.Open();
  known.In("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  known.Out("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ScriptedConnection unknown(&tracker, 2, SocketRole::kClient, /*tgid=*/999);
  unknown.Open();
  unknown.Out("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
  unknown.In("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

  ASSERT_EQ(sink.spans.size(), 2u);
  const auto& s = sink.spans[0].span;
  EXPECT_EQ(s.trace_id(), Bytes(builder.trace_id()));
  EXPECT_EQ(s.parent_span_id(), Bytes(*builder.ProcessSpanId(100)));
  EXPECT_EQ(s.flags() & 0xff, spans::kTraceFlagSampled);
  const auto& other = sink.spans[1].span;
  EXPECT_NE(other.trace_id(), Bytes(builder.trace_id()));
  EXPECT_TRUE(other.parent_span_id().empty());
}

TEST(ProcessSpanParentTest, CarriesTheBuilderParentsFlagsAndState) {
  auto parent = spans::ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
                                        "vendor=x");
  ASSERT_TRUE(parent.ok());
  spans::SpanBuilderOptions bo;
  bo.read_proc = false;
  bo.parent = *parent;
  spans::SpanBuilder builder(bo, nullptr);
  builder.AddRootProcess(7, 1);
  auto ctx = ProcessSpanParent(&builder, bo.parent)(7, 7, 5);
  ASSERT_TRUE(ctx.has_value());
  EXPECT_EQ(ctx->trace_id, parent->trace_id);
  EXPECT_EQ(ctx->parent_span_id, *builder.ProcessSpanId(7));
  EXPECT_EQ(ctx->flags, 0);
  EXPECT_EQ(ctx->trace_state, "vendor=x");
}

}  // namespace
}  // namespace tracer::http
