#include "controlplane/store/trace_store.h"

#include <atomic>

#include "controlplane/store/testing/test_spans.h"
#include "gtest/gtest.h"
#include "otlp/batch_summary.h"
#include "otlp/parse_counter.h"
#include "rocksdb/db.h"
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
  EXPECT_EQ(store->ListTraces(0, "", 0).status().code(), absl::StatusCode::kInvalidArgument);
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
  EXPECT_EQ(store->GetTrace(TraceId(9)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store->GetTrace("short").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(TraceStoreTest, RetentionByAge) {
  auto store = OpenStore(absl::Seconds(100));
  ExportTraceServiceRequest req;
  AddSpan(&req, "api", 1, 1, 0, 850 * kSecond, "old");
  AddSpan(&req, "api", 2, 2, 0, 950 * kSecond, "new");
  ASSERT_TRUE(store->Write(req, "", 0).ok());
  EXPECT_EQ(*store->ApplyRetention(), 1u);
  EXPECT_EQ(store->Stats().spans, 1u);
  EXPECT_EQ(store->GetTrace(TraceId(1)).status().code(), absl::StatusCode::kNotFound);
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

// The spans of one trace written in three batches (the last one repeating
// a span of the first): GetTrace returns each span once, reading only the
// trace's batches, one parse each; WriteSummarized parses nothing.
TEST_F(TraceStoreTest, TraceSpreadOverBatchesReadsOnlyItsBatches) {
  auto store = OpenStore();
  ExportTraceServiceRequest b1, b2, b3, other;
  AddSpan(&b1, "api", 1, 10, 0, 100, "root");
  AddSpan(&b1, "api", 2, 20, 0, 100, "elsewhere");
  AddSpan(&b2, "db", 1, 11, 10, 101, "query");
  AddSpan(&b3, "api", 1, 12, 10, 102, "child");
  AddSpan(&b3, "api", 1, 10, 0, 100, "root");  // stored with b1 already
  AddSpan(&other, "api", 3, 30, 0, 100, "unrelated");
  const otlp::ParseCounts before = otlp::GetParseCounts();
  for (const ExportTraceServiceRequest* b : {&b1, &b2, &other}) {
    auto stored =
        store->WriteSummarized(b->SerializeAsString(), otlp::SummarizeBatch(*b), "agent", 1);
    ASSERT_TRUE(stored.ok()) << stored.status();
  }
  EXPECT_EQ(otlp::GetParseCounts().at(otlp::ParseSite::kStore),
            before.at(otlp::ParseSite::kStore));  // nothing stored before: no parse
  // b3 repeats span 10: the store parses it once to summarize the rest.
  EXPECT_EQ(*store->WriteSummarized(b3.SerializeAsString(), otlp::SummarizeBatch(b3), "agent", 2),
            1u);
  EXPECT_EQ(otlp::GetParseCounts().at(otlp::ParseSite::kStore) - before.at(otlp::ParseSite::kStore),
            1u);
  EXPECT_EQ(store->Stats().spans, 5u);

  const uint64_t queries = otlp::GetParseCounts().at(otlp::ParseSite::kQuery);
  auto trace = store->GetTrace(TraceId(1));
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(otlp::GetParseCounts().at(otlp::ParseSite::kQuery) - queries, 3u);  // b1, b2, b3
  std::vector<std::string> names;
  for (const auto& rs : *trace) {
    for (const auto& span : rs.scope_spans(0).spans()) {
      EXPECT_EQ(span.trace_id(), TraceId(1));
      names.push_back(span.name());
    }
  }
  // Two groups (api, db), groups in span-id order of their first span.
  ASSERT_EQ(trace->size(), 2u);
  EXPECT_EQ(names, (std::vector<std::string>{"root", "child", "query"}));

  auto list = store->ListTraces(0, "", 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  const v1::TraceSummary& t1 = (*list)[0];  // newest span: "child" at 102
  EXPECT_EQ(t1.trace_id(), TraceId(1));
  EXPECT_EQ(t1.span_count(), 3u);
  EXPECT_EQ(t1.root_name(), "root");
  EXPECT_EQ(t1.root_service(), "api");
  EXPECT_EQ(t1.start_unix_nano(), 100u);
  EXPECT_EQ(t1.end_unix_nano(), 1102u);
  EXPECT_EQ(store->ListTraces(0, "db", 10)->size(), 1u);
}

// Deleting every part of a batch deletes the batch and gives back exactly
// the bytes it was accounted.
TEST_F(TraceStoreTest, RetentionDeletesABatchWithItsLastPart) {
  auto store = OpenStore(absl::Seconds(100));
  ExportTraceServiceRequest req;
  AddSpan(&req, "api", 1, 1, 0, 850 * kSecond, "old");
  AddSpan(&req, "api", 1, 2, 1, 851 * kSecond, "old child");
  AddSpan(&req, "api", 2, 3, 0, 950 * kSecond, "new");
  ASSERT_TRUE(store->Write(req, "", 0).ok());
  EXPECT_EQ(*store->ApplyRetention(), 2u);  // trace 1's part: both spans
  EXPECT_EQ(store->Stats().spans, 1u);
  EXPECT_GT(store->Stats().bytes, 0u);
  EXPECT_TRUE(store->GetTrace(TraceId(2)).ok());  // its batch is still there
  now_ += 200 * kSecond;
  EXPECT_EQ(*store->ApplyRetention(), 1u);
  EXPECT_EQ(store->Stats().bytes, 0u);
  EXPECT_EQ(store->Stats().retained_out, 3u);
  EXPECT_TRUE(store->ListTraces(0, "", 10)->empty());
  EXPECT_EQ(*store->Write(req, "", 0), 3u);  // deleted spans are not "stored before"
}

// A store of the per-span format of earlier versions: its spans are
// dropped, its high-water marks kept.
TEST_F(TraceStoreTest, OpensAPerSpanStoreDroppingSpansKeepingHighWaterMarks) {
  const std::string path = dir_.path() + "/traces";
  {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {"by_time", rocksdb::ColumnFamilyOptions()},
        {"by_service", rocksdb::ColumnFamilyOptions()},
        {"meta", rocksdb::ColumnFamilyOptions()},
    };
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, path, cfs, &handles, &db).ok());
    const std::string span_key = TraceId(1) + testing::SpanId(1);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[0], span_key, "old span").ok());
    ASSERT_TRUE(
        db->Put(rocksdb::WriteOptions(), handles[1], std::string(8, '\0') + span_key, "").ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[3], "hwm/agent-a",
                        std::string("\0\0\0\0\0\0\0\x07", 8))
                    .ok());
    ASSERT_TRUE(
        db->Put(rocksdb::WriteOptions(), handles[3], "stats", std::string(16, '\x01')).ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Stats().spans, 0u);
  EXPECT_EQ(store->Stats().bytes, 0u);
  EXPECT_EQ(store->HighWaterMarks().at("agent-a"), 7u);
  EXPECT_TRUE(store->ListTraces(0, "", 10)->empty());
  EXPECT_EQ(store->GetTrace(TraceId(1)).status().code(), absl::StatusCode::kNotFound);
  ExportTraceServiceRequest req;
  AddSpan(&req, "api", 1, 1, 0, kSecond, "new");
  EXPECT_EQ(*store->Write(req, "agent-a", 8), 1u);
  store.reset();
  store = OpenStore();  // converted once: the new span stays
  EXPECT_EQ(store->Stats().spans, 1u);
  EXPECT_TRUE(store->GetTrace(TraceId(1)).ok());
}

TEST_F(TraceStoreTest, RefusesAnUnknownFormat) {
  OpenStore().reset();
  {
    rocksdb::DBOptions options;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "traces", "by_time", "by_service", "meta", "spans"}) {
      cfs.push_back({name, rocksdb::ColumnFamilyOptions()});
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.path() + "/traces", cfs, &handles, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[4], "format", "9").ok());
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    delete db;
  }
  TraceStoreOptions options;
  options.path = dir_.path() + "/traces";
  EXPECT_EQ(TraceStore::Open(options).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace tracer::controlplane
