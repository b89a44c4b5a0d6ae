#include "otlp/delivery/batch_merge.h"

#include "gtest/gtest.h"
#include "otlp/delivery/queue_record.h"
#include "otlp/test_requests.h"

namespace tracer::otlp::delivery {
namespace {

storage::WalRecord Record(uint64_t seq, int spans) {
  storage::WalRecord r;
  r.seq = seq;
  r.span_count = static_cast<uint32_t>(spans);
  r.payload = EncodeQueueRecord("agent", seq,
                                otlp::testing::MakeSyscallRequest(spans, seq).SerializeAsString());
  return r;
}

TEST(BatchMergeTest, ConcatenatesResourceSpansInSeqOrderWithinTheSpanLimit) {
  std::vector<storage::WalRecord> records = {Record(4, 2), Record(5, 3), Record(7, 4)};
  MergedBatch b = MergeRecords(records, /*max_spans=*/5, /*max_bytes=*/1 << 20, {});
  EXPECT_EQ(b.records, 2u);
  EXPECT_EQ(b.first_seq, 4u);
  EXPECT_EQ(b.last_seq, 5u);
  EXPECT_EQ(b.spans, 5u);
  ASSERT_EQ(b.request.resource_spans_size(), 2);
  EXPECT_EQ(b.request.resource_spans(0).scope_spans(0).spans_size(), 2);
  EXPECT_EQ(b.request.resource_spans(1).scope_spans(0).spans_size(), 3);
  EXPECT_TRUE(b.bad.empty());
}

TEST(BatchMergeTest, FirstRecordIsTakenWhateverItsSize) {
  MergedBatch b = MergeRecords({Record(1, 10), Record(2, 1)}, 4, 10, {});
  EXPECT_EQ(b.records, 1u);
  EXPECT_EQ(b.spans, 10u);
  EXPECT_EQ(b.last_seq, 1u);
}

TEST(BatchMergeTest, ByteLimit) {
  std::vector<storage::WalRecord> records = {Record(1, 1), Record(2, 1), Record(3, 1)};
  MergedBatch b = MergeRecords(records, 100, records[0].payload.size() * 2, {});
  EXPECT_EQ(b.records, 2u);
}

TEST(BatchMergeTest, UndecodableRecordsAreReportedAndSkipped) {
  storage::WalRecord garbage;
  garbage.seq = 2;
  garbage.span_count = 6;
  garbage.payload = "not a queue record";
  storage::WalRecord bad_batch = Record(3, 1);
  bad_batch.payload = EncodeQueueRecord("agent", 3, "\xff\xff\xff");
  MergedBatch b = MergeRecords({Record(1, 1), garbage, bad_batch, Record(4, 2)}, 100, 1 << 20, {});
  EXPECT_EQ(b.records, 4u);
  EXPECT_EQ(b.last_seq, 4u);
  EXPECT_EQ(b.spans, 3u);
  ASSERT_EQ(b.bad.size(), 2u);
  EXPECT_EQ(b.bad[0].seq, 2u);
  EXPECT_EQ(b.bad[0].span_count, 6u);
  EXPECT_EQ(b.bad[1].seq, 3u);
}

TEST(BatchMergeTest, ResourceAttributesMergedIntoEveryResource) {
  MergedBatch b = MergeRecords({Record(1, 1), Record(2, 1)}, 100, 1 << 20,
                               {{"service.name", "x"}, {"k8s.cluster.name", "c1"}});
  for (const auto& rs : b.request.resource_spans()) {
    std::string service, cluster;
    for (const auto& kv : rs.resource().attributes()) {
      if (kv.key() == "service.name") service = kv.value().string_value();
      if (kv.key() == "k8s.cluster.name") cluster = kv.value().string_value();
    }
    EXPECT_EQ(service, "dd");
    EXPECT_EQ(cluster, "c1");
  }
}

// The unparsed form must put the same request on the wire as the parsed one.
TEST(BatchMergeTest, WireFormSerializesLikeTheParsedForm) {
  storage::WalRecord extra_field = Record(3, 2);
  // A top-level field the request does not define (99, varint 7): the
  // parsed form keeps only resource_spans, so must the wire form.
  extra_field.payload.append("\x98\x06\x07", 3);
  std::vector<storage::WalRecord> records = {Record(1, 3), Record(2, 1), extra_field, Record(4, 5)};
  MergedBatch parsed = MergeRecords(records, 9, 1 << 20, {}, MergeForm::kParsed);
  MergedBatch wire = MergeRecords(records, 9, 1 << 20, {}, MergeForm::kWire);
  EXPECT_EQ(parsed.form, MergeForm::kParsed);
  ASSERT_EQ(wire.form, MergeForm::kWire);
  EXPECT_EQ(wire.request.resource_spans_size(), 0);  // nothing parsed kept
  EXPECT_EQ(wire.records, 3u);
  EXPECT_EQ(wire.last_seq, 3u);
  EXPECT_EQ(wire.spans, 6u);
  EXPECT_EQ(wire.spans, parsed.spans);
  EXPECT_EQ(wire.resource_spans, 3u);
  EXPECT_EQ(parsed.resource_spans, 3u);
  EXPECT_TRUE(wire.bad.empty());
  const std::string bytes = wire.request.SerializeAsString();
  EXPECT_EQ(bytes, parsed.request.SerializeAsString());
  EXPECT_EQ(wire.request.ByteSizeLong(), bytes.size());

  ASSERT_TRUE(ToParsedForm(&wire).ok());
  EXPECT_EQ(wire.form, MergeForm::kParsed);
  ASSERT_EQ(wire.request.resource_spans_size(), 3);
  EXPECT_EQ(wire.request.resource_spans(2).scope_spans(0).spans_size(), 2);
  EXPECT_EQ(wire.request.SerializeAsString(), bytes);
}

TEST(BatchMergeTest, WireFormFindsTheSameBadRecords) {
  storage::WalRecord garbage;
  garbage.seq = 2;
  garbage.span_count = 6;
  garbage.payload = "not a queue record";
  storage::WalRecord bad_top = Record(3, 1);
  bad_top.payload = EncodeQueueRecord("agent", 3, "\xff\xff\xff");
  // Well-formed at the top level (field 1, 3 bytes) but the ResourceSpans
  // inside is not: only a full parse notices.
  storage::WalRecord bad_nested = Record(4, 1);
  bad_nested.payload = EncodeQueueRecord("agent", 4, std::string("\x0a\x03\xff\xff\xff", 5));
  std::vector<storage::WalRecord> records = {Record(1, 1), garbage, bad_top, bad_nested,
                                             Record(5, 2)};
  MergedBatch parsed = MergeRecords(records, 100, 1 << 20, {}, MergeForm::kParsed);
  MergedBatch wire = MergeRecords(records, 100, 1 << 20, {}, MergeForm::kWire);
  ASSERT_EQ(parsed.bad.size(), 3u);
  ASSERT_EQ(wire.bad.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(wire.bad[i].seq, parsed.bad[i].seq);
    EXPECT_EQ(wire.bad[i].error, parsed.bad[i].error);
  }
  EXPECT_EQ(wire.bad[2].seq, 4u);
  EXPECT_EQ(wire.spans, 3u);
  EXPECT_EQ(wire.resource_spans, 2u);
  EXPECT_EQ(wire.request.SerializeAsString(), parsed.request.SerializeAsString());
}

// Damage inside a Span passes the wire form's framing check (see kWire);
// ToParsedForm keeps what parses and says what it left out.
TEST(BatchMergeTest, ToParsedFormLeavesOutResourceSpansThatDoNotParse) {
  // ResourceSpans{scope_spans: ScopeSpans{spans: Span{name (5): "\xff"}}}:
  // framed correctly, but the name is not UTF-8.
  const std::string span("\x2a\x01\xff", 3);
  const std::string scope = std::string("\x12\x03", 2) + span;
  const std::string rs = std::string("\x12\x05", 2) + scope;
  storage::WalRecord damaged = Record(2, 1);
  damaged.payload = EncodeQueueRecord("agent", 2, std::string("\x0a\x07", 2) + rs);
  MergedBatch b = MergeRecords({Record(1, 2), damaged}, 100, 1 << 20, {}, MergeForm::kWire);
  EXPECT_TRUE(b.bad.empty());
  EXPECT_EQ(b.spans, 3u);
  EXPECT_EQ(b.resource_spans, 2u);
  absl::Status s = ToParsedForm(&b);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(b.form, MergeForm::kParsed);
  ASSERT_EQ(b.request.resource_spans_size(), 1);
  EXPECT_EQ(b.request.resource_spans(0).scope_spans(0).spans_size(), 2);
}

TEST(BatchMergeTest, WireFormMergesResourceAttributesLikeTheParsedForm) {
  const otlp::ResourceAttributes attrs = {{"service.name", "x"}, {"k8s.cluster.name", "c1"}};
  std::vector<storage::WalRecord> records = {Record(1, 2), Record(2, 3)};
  MergedBatch parsed = MergeRecords(records, 100, 1 << 20, attrs, MergeForm::kParsed);
  MergedBatch wire = MergeRecords(records, 100, 1 << 20, attrs, MergeForm::kWire);
  ASSERT_EQ(wire.form, MergeForm::kWire);
  EXPECT_EQ(wire.spans, 5u);
  EXPECT_EQ(wire.resource_spans, 2u);
  EXPECT_EQ(wire.request.SerializeAsString(), parsed.request.SerializeAsString());
  ASSERT_TRUE(ToParsedForm(&wire).ok());
  for (const auto& rs : wire.request.resource_spans()) {
    std::string service, cluster;
    for (const auto& kv : rs.resource().attributes()) {
      if (kv.key() == "service.name") service = kv.value().string_value();
      if (kv.key() == "k8s.cluster.name") cluster = kv.value().string_value();
    }
    EXPECT_EQ(service, "dd");  // the record's own value wins
    EXPECT_EQ(cluster, "c1");
  }
}

// A ResourceSpans without a Resource gets one holding the attributes.
TEST(BatchMergeTest, WireFormAddsAResourceWhereThereWasNone) {
  otlp::ExportTraceServiceRequest request = otlp::testing::MakeSyscallRequest(2, 1);
  request.mutable_resource_spans(0)->clear_resource();
  storage::WalRecord r;
  r.seq = 1;
  r.span_count = 2;
  r.payload = EncodeQueueRecord("agent", 1, request.SerializeAsString());
  const otlp::ResourceAttributes attrs = {{"k8s.cluster.name", "c1"}};
  MergedBatch parsed = MergeRecords({r}, 100, 1 << 20, attrs, MergeForm::kParsed);
  MergedBatch wire = MergeRecords({r}, 100, 1 << 20, attrs, MergeForm::kWire);
  EXPECT_EQ(wire.request.SerializeAsString(), parsed.request.SerializeAsString());
  ASSERT_EQ(parsed.request.resource_spans(0).resource().attributes_size(), 1);
}

TEST(BatchMergeTest, ReadLimits) {
  storage::ReadLimits l = BatchReadLimits(8192, 4 << 20);
  EXPECT_EQ(l.max_records, 8192u);
  EXPECT_EQ(l.max_bytes, size_t{4} << 20);
  EXPECT_EQ(BatchReadLimits(1000000, 1).max_records, 10000u);
}

}  // namespace
}  // namespace tracer::otlp::delivery
