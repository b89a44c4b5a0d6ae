#include "otlp/otlp_json.h"

#include <cmath>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "otlp/test_requests.h"

namespace tracer::otlp {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;
namespace trace = ::opentelemetry::proto::trace::v1;

ExportTraceServiceRequest SmallRequest() {
  ExportTraceServiceRequest req;
  auto* rs = req.add_resource_spans();
  auto* kv = rs->mutable_resource()->add_attributes();
  kv->set_key("service.name");
  kv->mutable_value()->set_string_value("svc");
  auto* ss = rs->add_scope_spans();
  ss->mutable_scope()->set_name("lib");
  auto* s = ss->add_spans();
  s->set_trace_id(
      std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\xf0", 16));
  s->set_span_id(std::string("\xaa\xbb\xcc\xdd\xee\xff\x00\x11", 8));
  s->set_parent_span_id(std::string("\x00\x00\x00\x00\x00\x00\x00\x01", 8));
  s->set_name("a\"b\\c\n");
  s->set_kind(trace::Span::SPAN_KIND_SERVER);
  s->set_start_time_unix_nano(1700000000000000001ULL);
  s->set_end_time_unix_nano(1700000000000000002ULL);
  auto* a = s->add_attributes();
  a->set_key("i");
  a->mutable_value()->set_int_value(-5);
  a = s->add_attributes();
  a->set_key("d");
  a->mutable_value()->set_double_value(1.5);
  a = s->add_attributes();
  a->set_key("b");
  a->mutable_value()->set_bool_value(false);
  a = s->add_attributes();
  a->set_key("bytes");
  a->mutable_value()->set_bytes_value("hi");
  auto* ev = s->add_events();
  ev->set_time_unix_nano(5);
  ev->set_name("e");
  s->mutable_status()->set_code(trace::Status::STATUS_CODE_ERROR);
  s->mutable_status()->set_message("bad");
  return req;
}

// The expected text is written by hand from the OTLP specification's JSON
// rules (hex ids, lowerCamelCase, integer enums, 64-bit ints as strings).
TEST(OtlpJson, GoldenSmallRequest) {
  EXPECT_EQ(
      ToOtlpJson(SmallRequest()),
      R"({"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},)"
      R"("scopeSpans":[{"scope":{"name":"lib"},"spans":[{"traceId":"0102030405060708090a0b0c0d0e0ff0",)"
      R"("spanId":"aabbccddeeff0011","parentSpanId":"0000000000000001","name":"a\"b\\c\n","kind":2,)"
      R"("startTimeUnixNano":"1700000000000000001","endTimeUnixNano":"1700000000000000002",)"
      R"("attributes":[{"key":"i","value":{"intValue":"-5"}},{"key":"d","value":{"doubleValue":1.5}},)"
      R"({"key":"b","value":{"boolValue":false}},{"key":"bytes","value":{"bytesValue":"aGk="}}],)"
      R"("events":[{"timeUnixNano":"5","name":"e"}],"status":{"message":"bad","code":2}}]}]}]})");
}

TEST(OtlpJson, EmptyRequest) { EXPECT_EQ(ToOtlpJson(ExportTraceServiceRequest()), "{}"); }

TEST(OtlpJson, SingleLineNoTrailingNewline) {
  std::string json = ToOtlpJson(testing::MakeRichRequest());
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_EQ(json.front(), '{');
  EXPECT_EQ(json.back(), '}');
}

TEST(OtlpJson, EscapesControlCharactersAndRepairsInvalidUtf8) {
  ExportTraceServiceRequest req;
  req.add_resource_spans()->add_scope_spans()->add_spans()->set_name(
      std::string("a\x01\x1f\x7f\xc3\xbc\xff\xc3z", 9));
  EXPECT_THAT(ToOtlpJson(req), HasSubstr(R"("name":"a\u0001\u001f)"
                                         "\x7f\xc3\xbc\xef\xbf\xbd\xef\xbf\xbdz\""));
}

TEST(OtlpJson, NonFiniteDoubles) {
  ExportTraceServiceRequest req;
  auto* s = req.add_resource_spans()->add_scope_spans()->add_spans();
  s->add_attributes()->mutable_value()->set_double_value(NAN);
  s->add_attributes()->mutable_value()->set_double_value(-INFINITY);
  std::string json = ToOtlpJson(req);
  EXPECT_THAT(json, HasSubstr(R"({"doubleValue":"NaN"})"));
  EXPECT_THAT(json, HasSubstr(R"({"doubleValue":"-Infinity"})"));
  auto back = FromOtlpJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  const auto& attrs = back->resource_spans(0).scope_spans(0).spans(0).attributes();
  EXPECT_TRUE(std::isnan(attrs[0].value().double_value()));
  EXPECT_EQ(attrs[1].value().double_value(), -INFINITY);
}

TEST(OtlpJson, RoundTripsEveryField) {
  ExportTraceServiceRequest req = testing::MakeRichRequest();
  auto back = FromOtlpJson(ToOtlpJson(req));
  ASSERT_TRUE(back.ok()) << back.status();
  std::string diff;
  MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  EXPECT_TRUE(d.Compare(req, *back)) << diff;
}

TEST(OtlpJson, Fixed64AboveInt64Max) {
  ExportTraceServiceRequest req;
  req.add_resource_spans()->add_scope_spans()->add_spans()->set_end_time_unix_nano(
      18446744073709551615ULL);
  std::string json = ToOtlpJson(req);
  EXPECT_THAT(json, HasSubstr(R"("endTimeUnixNano":"18446744073709551615")"));
  auto back = FromOtlpJson(json);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->resource_spans(0).scope_spans(0).spans(0).end_time_unix_nano(),
            18446744073709551615ULL);
}

TEST(OtlpJson, DecodesSnakeCaseNumbersAndEnumNames) {
  auto req = FromOtlpJson(
      R"({"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"0102030405060708090A0B0C0D0E0FF0",)"
      R"("span_id":"aabbccddeeff0011","kind":"SPAN_KIND_CLIENT","start_time_unix_nano":1700000000000000001,)"
      R"("attributes":[{"key":"i","value":{"intValue":9007199254740993}}],"unknownField":{"x":[1]}}]}]}]})");
  ASSERT_TRUE(req.ok()) << req.status();
  const auto& s = req->resource_spans(0).scope_spans(0).spans(0);
  EXPECT_EQ(s.trace_id(),
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\xf0", 16));
  EXPECT_EQ(s.span_id(), std::string("\xaa\xbb\xcc\xdd\xee\xff\x00\x11", 8));
  EXPECT_EQ(s.kind(), trace::Span::SPAN_KIND_CLIENT);
  EXPECT_EQ(s.start_time_unix_nano(), 1700000000000000001ULL);  // no double rounding
  EXPECT_EQ(s.attributes(0).value().int_value(), 9007199254740993LL);
}

TEST(OtlpJson, RejectsBase64Ids) {
  // 16 bytes as base64 (what a generic Proto3 JSON encoder would write).
  auto req = FromOtlpJson(
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"AQIDBAUGBwgJCgsMDQ4P8A=="}]}]}]})");
  ASSERT_FALSE(req.ok());
  EXPECT_EQ(req.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(req.status().message(), HasSubstr("traceId must be 32 hex digits"));
}

TEST(OtlpJson, RejectsWrongIdLengthsAndNonHex) {
  for (
      const char* bad : {
          R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"aabbccddeeff00"}]}]}]})",
          R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"aabbccddeeff00112233"}]}]}]})",
          R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"parentSpanId":"zzbbccddeeff0011"}]}]}]})",
          R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"links":[{"traceId":"01"}]}]}]}]})",
      }) {
    auto req = FromOtlpJson(bad);
    EXPECT_FALSE(req.ok()) << bad;
  }
}

TEST(OtlpJson, RejectsMalformedJson) {
  for (const char* bad : {"", "{", "[]", R"({"resourceSpans":7})", "{\"resourceSpans\":[}"}) {
    auto req = FromOtlpJson(bad);
    ASSERT_FALSE(req.ok()) << bad;
    EXPECT_EQ(req.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace tracer::otlp
