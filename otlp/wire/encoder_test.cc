// The direct encoders against the message-built encodings, for the corpus
// of test_records.h: protobuf bytes equal SerializeToString of ToMessage and
// parse back (official messages) to an equal message; JSON equals
// otlp_json's AppendOtlpJson of the same message.
#include <string>

#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "otlp/otlp_json.h"
#include "otlp/wire/json_encoder.h"
#include "otlp/wire/protobuf_encoder.h"
#include "otlp/wire/test_records.h"
#include "otlp/wire/to_message.h"

namespace tracer::otlp::wire {
namespace {

bool MessagesEqual(const ExportTraceServiceRequest& a, const ExportTraceServiceRequest& b) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  return differencer.Compare(a, b);
}

TEST(ProtobufEncoder, EqualsMessageSerializationForCorpus) {
  auto corpus = testing::MakeCorpus();
  ASSERT_GE(corpus.size(), 4u);
  for (size_t i = 0; i < corpus.size(); ++i) {
    SCOPED_TRACE(i);
    const SpanBatch batch = corpus[i]->batch();
    google::protobuf::Arena arena;
    const ExportTraceServiceRequest* want = ToMessage(batch, &arena);
    std::string want_bytes;
    ASSERT_TRUE(want->SerializeToString(&want_bytes));

    std::string got;
    AppendProtobuf(batch, &got);
    EXPECT_EQ(got.size(), ProtobufSize(batch));
    EXPECT_EQ(got, want_bytes);

    // Proto3 parsers reject string fields that are not UTF-8; the
    // message-built bytes of such a batch fail the same way.
    ExportTraceServiceRequest parsed, reference;
    const bool parses = parsed.ParseFromString(got);
    EXPECT_EQ(parses, reference.ParseFromString(want_bytes));
    if (i != 3) {
      EXPECT_TRUE(parses) << "only corpus batch 3 has strings that are not UTF-8";
    }
    if (parses) {
      EXPECT_TRUE(MessagesEqual(parsed, *want));
      EXPECT_EQ(parsed.resource_spans(0).scope_spans(0).spans_size(),
                static_cast<int>(batch.spans.size()));
    }
  }
}

TEST(ProtobufEncoder, AppendsAfterExistingBytesAndWritesToCallerBuffer) {
  testing::RecordStore store;
  testing::MakeAgentLikeBatch(9, 3, &store);
  const SpanBatch batch = store.batch();
  std::string alone;
  AppendProtobuf(batch, &alone);

  std::string out = "prefix";
  AppendProtobuf(batch, &out);
  EXPECT_EQ(out, "prefix" + alone);

  std::string buf(ProtobufSize(batch), '\0');
  uint8_t* end = WriteProtobuf(batch, reinterpret_cast<uint8_t*>(buf.data()));
  EXPECT_EQ(end, reinterpret_cast<uint8_t*>(buf.data()) + buf.size());
  EXPECT_EQ(buf, alone);
}

TEST(JsonEncoder, EqualsOtlpJsonForCorpus) {
  auto corpus = testing::MakeCorpus();
  for (size_t i = 0; i < corpus.size(); ++i) {
    SCOPED_TRACE(i);
    const SpanBatch batch = corpus[i]->batch();
    google::protobuf::Arena arena;
    const ExportTraceServiceRequest* want = ToMessage(batch, &arena);
    std::string want_json;
    AppendOtlpJson(*want, &want_json);

    std::string got;
    AppendJson(batch, &got);
    EXPECT_EQ(got, want_json);
    EXPECT_EQ(got.find('\n'), std::string::npos);
    // And it is OTLP/JSON an OTLP/HTTP receiver reads back.
    auto decoded = FromOtlpJson(got);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(decoded->resource_spans(0).scope_spans(0).spans_size(),
              static_cast<int>(batch.spans.size()));
  }
}

TEST(JsonEncoder, AppendsAfterExistingBytes) {
  testing::RecordStore store;
  testing::MakeAgentLikeBatch(300, 5, &store);  // grows the buffer several times
  const SpanBatch batch = store.batch();
  std::string alone;
  AppendJson(batch, &alone);
  std::string out = "prefix";
  AppendJson(batch, &out);
  EXPECT_EQ(out, "prefix" + alone);
  std::string reused;
  reused.reserve(1 << 20);
  AppendJson(batch, &reused);
  EXPECT_EQ(reused, alone);
}

// A request of several ResourceSpans (one per traced process) equals the
// message-built one in both encodings; an empty list is an empty request.
TEST(Encoders, SeveralResourcesEqualMessageBuilt) {
  auto corpus = testing::MakeCorpus();
  for (size_t n = 0; n <= corpus.size(); ++n) {
    SCOPED_TRACE(n);
    std::vector<SpanBatch> parts;
    for (size_t i = 0; i < n; ++i) parts.push_back(corpus[i]->batch());
    google::protobuf::Arena arena;
    const ExportTraceServiceRequest* want = ToMessage(parts, &arena);
    EXPECT_EQ(want->resource_spans_size(), static_cast<int>(n));
    std::string want_bytes;
    ASSERT_TRUE(want->SerializeToString(&want_bytes));
    std::string got;
    AppendProtobuf(parts, &got);
    EXPECT_EQ(got, want_bytes);

    std::string want_json;
    AppendOtlpJson(*want, &want_json);
    std::string got_json;
    AppendJson(parts, &got_json);
    EXPECT_EQ(got_json, want_json);
  }
}

}  // namespace
}  // namespace tracer::otlp::wire
