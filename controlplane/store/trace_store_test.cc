#include "controlplane/store/trace_store.h"

#include <atomic>

#include "controlplane/store/testing/test_spans.h"
#include "gtest/gtest.h"
#include "storage/testing/temp_dir.h"

namespace tracer::controlplane {
namespace {

using opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using testing::AddSpan;
using testing::TraceId;

constexpr int64_t kSecond = 1'000'000'000;

class TraceStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<TraceStore> OpenStore(absl::Duration max_age = absl::ZeroDuration(),
                                        uint64_t max_bytes = 0) {
    TraceStoreOptions options;
    options.path = dir_.path() + "/traces";
    options.max_age = max_age;
    options.max_bytes = max_bytes;
    options.now_unix_nanos = [this] { return now_.load(); };
    auto store = TraceStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }
  storage::testing::TempDir dir_;
  std::atomic<int64_t> now_{1000 * kSecond};
};

TEST_F(TraceStoreTest, WriteIsIdempotentBySpanIdAndKeepsHighWaterMark) {
  auto store = OpenStore();
  ExportTraceServiceRequest req;
  AddSpan(&req, "web", 1, 1, 0, 100 * kSecond, "GET /");
  AddSpan(&req, "web", 1, 2, 1, 101 * kSecond, "openat");
  EXPECT_EQ(*store->Write(req, "agent-a", 5), 2u);
  EXPECT_EQ(*store->Write(req, "agent-a", 6), 0u);  // same spans again
  EXPECT_EQ(store->Stats().spans, 2u);
  EXPECT_EQ(store->HighWaterMarks().at("agent-a"), 6u);
  EXPECT_EQ(*store->Write(ExportTraceServiceRequest(), "agent-a", 3), 0u);
  EXPECT_EQ(store->HighWaterMarks().at("agent-a"), 6u);  // never lowered
  const uint64_t bytes = store->Stats().bytes;
  EXPECT_GT(bytes, 0u);
  store.reset();
  store = OpenStore();
  EXPECT_EQ(store->Stats().spans, 2u);
  EXPECT_EQ(store->Stats().bytes, bytes);
  EXPECT_EQ(store->HighWaterMarks().at("agent-a"), 6u);
  EXPECT_EQ(*store->Write(req, "agent-b", 1), 0u);
  EXPECT_EQ(store->Stats().spans, 2u);
}

TEST_F(TraceStoreTest, SkipsSpansWithBadIds) {
  auto store = OpenStore();
  ExportTraceServiceRequest req;
  AddSpan(&req, "web", 1, 1, 0, kSecond, "ok");
  AddSpan(&req, "web", 1, 2, 0, kSecond, "bad");
  req.mutable_resource_spans(1)->mutable_scope_spans(0)->mutable_spans(0)->set_span_id("x");
  EXPECT_EQ(*store->Write(req, "", 0), 1u);
  EXPECT_EQ(store->Stats().invalid_spans, 1u);
}

TEST_F(TraceStoreTest, ListTracesNewestFirstWithSinceServiceAndLimit) {
  auto store = OpenStore();
  ExportTraceServiceRequest req;
  AddSpan(&req, "api", 1, 10, 0, 100 * kSecond, "GET /a");
  AddSpan(&req, "db", 1, 11, 10, 100 * kSecond + 5, "query", /*error=*/true);
  AddSpan(&req, "api", 2, 20, 0, 200 * kSecond, "GET /b");
  AddSpan(&req, "db", 3, 30, 0, 300 * kSecond, "vacuum");
  ASSERT_TRUE(store->Write(req, "a", 1).ok());

  auto all = store->ListTraces(0, "", 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].trace_id(), TraceId(3));
  EXPECT_EQ((*all)[1].trace_id(), TraceId(2));
  EXPECT_EQ((*all)[2].trace_id(), TraceId(1));
  const v1::TraceSummary& t1 = (*all)[2];
  EXPECT_EQ(t1.span_count(), 2u);
  EXPECT_EQ(t1.error_count(), 1u);
  EXPECT_EQ(t1.root_name(), "GET /a");
  EXPECT_EQ(t1.root_service(), "api");
  EXPECT_EQ(t1.start_unix_nano(), static_cast<uint64_t>(100 * kSecond));
  EXPECT_EQ(t1.end_unix_nano(), static_cast<uint64_t>(100 * kSecond + 1005));

  auto since = store->ListTraces(150 * kSecond, "", 100);
  ASSERT_EQ(since->size(), 2u);
  auto db = store->ListTraces(0, "db", 100);
  ASSERT_EQ(db->size(), 2u);
  EXPECT_EQ((*db)[0].trace_id(), TraceId(3));
  EXPECT_EQ((*db)[1].trace_id(), TraceId(1));
  EXPECT_EQ((*db)[1].span_count(), 2u);  // whole trace summarized
  EXPECT_TRUE(store->ListTraces(0, "nobody", 100)->empty());
  EXPECT_TRUE(store->ListTraces(0, "d", 100)->empty());  // not a prefix match
  EXPECT_EQ(store->ListTraces(0, "", 1)->size(), 1u);
  EXPECT_EQ(store->ListTraces(0, "", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TraceStoreTest, GetTraceGroupsByResource) {
  auto store = OpenStore();
  ExportTraceServiceRequest req;
  AddSpan(&req, "api", 1, 10, 0, 100, "root");
  AddSpan(&req, "api", 1, 12, 10, 101, "child2");
  AddSpan(&req, "db", 1, 11, 10, 102, "query");
  AddSpan(&req, "api", 2, 20, 0, 100, "other");
  ASSERT_TRUE(store->Write(req, "", 0).ok());
  auto trace = store->GetTrace(TraceId(1));
  ASSERT_TRUE(trace.ok()) << trace.status();
  ASSERT_EQ(trace->size(), 2u);
  int spans = 0;
  for (const auto& rs : *trace) spans += rs.scope_spans(0).spans_size();
  EXPECT_EQ(spans, 3);
  EXPECT_EQ(store->GetTrace(TraceId(9)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store->GetTrace("short").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TraceStoreTest, RetentionByAge) {
  auto store = OpenStore(absl::Seconds(100));
  ExportTraceServiceRequest req;
  AddSpan(&req, "api", 1, 1, 0, 850 * kSecond, "old");
  AddSpan(&req, "api", 2, 2, 0, 950 * kSecond, "new");
  ASSERT_TRUE(store->Write(req, "", 0).ok());
  EXPECT_EQ(*store->ApplyRetention(), 1u);
  EXPECT_EQ(store->Stats().spans, 1u);
  EXPECT_EQ(store->GetTrace(TraceId(1)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(store->GetTrace(TraceId(2)).ok());
  EXPECT_EQ(store->ListTraces(0, "api", 10)->size(), 1u);
  now_ += 200 * kSecond;
  EXPECT_EQ(*store->ApplyRetention(), 1u);
  EXPECT_EQ(store->Stats().spans, 0u);
  EXPECT_EQ(store->Stats().bytes, 0u);
}

TEST_F(TraceStoreTest, RetentionBySizeDeletesOldestFirst) {
  auto store = OpenStore(absl::ZeroDuration(), 0);
  ExportTraceServiceRequest one;
  AddSpan(&one, "api", 1, 1, 0, kSecond, "x");
  ASSERT_TRUE(store->Write(one, "", 0).ok());
  const uint64_t per_span = store->Stats().bytes;
  store.reset();
  store = OpenStore(absl::ZeroDuration(), per_span * 3);
  ExportTraceServiceRequest more;
  for (uint64_t i = 2; i <= 6; ++i) AddSpan(&more, "api", i, i, 0, i * kSecond, "x");
  ASSERT_TRUE(store->Write(more, "", 0).ok());
  EXPECT_EQ(store->Stats().spans, 6u);
  EXPECT_EQ(*store->ApplyRetention(), 3u);
  EXPECT_EQ(store->Stats().spans, 3u);
  EXPECT_LE(store->Stats().bytes, per_span * 3);
  EXPECT_FALSE(store->GetTrace(TraceId(3)).ok());
  EXPECT_TRUE(store->GetTrace(TraceId(4)).ok());
}

}  // namespace
}  // namespace tracer::controlplane
