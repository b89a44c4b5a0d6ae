#include "agent/spans/trace_context.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::spans {
namespace {

using ::testing::HasSubstr;

// The examples of W3C Trace Context Level 1 §3.2.2.
constexpr char kTraceIdHex[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kParentIdHex[] = "00f067aa0ba902b7";
const std::string kValid = absl::StrCat("00-", kTraceIdHex, "-", kParentIdHex, "-01");

// Expects `tp` to be rejected with a message containing `why`.
void ExpectRejected(const std::string& tp, const std::string& why) {
  auto tc = ParseTraceparent(tp);
  ASSERT_FALSE(tc.ok()) << tp;
  EXPECT_EQ(tc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(tc.status().message()), HasSubstr(why)) << tp;
  EXPECT_THAT(std::string(tc.status().message()), HasSubstr("traceparent: "));
}

TEST(ParseTraceparentTest, SpecExampleSampled) {
  auto tc = ParseTraceparent(kValid);
  ASSERT_TRUE(tc.ok()) << tc.status();
  EXPECT_EQ(HexId(tc->trace_id), kTraceIdHex);
  EXPECT_EQ(HexId(tc->parent_span_id), kParentIdHex);
  EXPECT_EQ(tc->trace_id[0], 0x4b);
  EXPECT_EQ(tc->trace_id[15], 0x36);
  EXPECT_EQ(tc->parent_span_id[7], 0xb7);
  EXPECT_EQ(tc->flags, 0x01);
  EXPECT_TRUE(tc->sampled());
  EXPECT_EQ(tc->trace_state, "");
}

TEST(ParseTraceparentTest, SpecExampleNotSampled) {
  auto tc = ParseTraceparent(absl::StrCat("00-", kTraceIdHex, "-", kParentIdHex, "-00"));
  ASSERT_TRUE(tc.ok()) << tc.status();
  EXPECT_FALSE(tc->sampled());
  EXPECT_EQ(tc->flags, 0);
}

TEST(ParseTraceparentTest, UnknownFlagBitsAreCleared) {
  // §3.2.2.5: bits other than sampled are reserved; vendors MUST zero them.
  auto tc = ParseTraceparent(absl::StrCat("00-", kTraceIdHex, "-", kParentIdHex, "-ff"));
  ASSERT_TRUE(tc.ok()) << tc.status();
  EXPECT_EQ(tc->flags, 0x01);
  tc = ParseTraceparent(absl::StrCat("00-", kTraceIdHex, "-", kParentIdHex, "-02"));
  ASSERT_TRUE(tc.ok()) << tc.status();
  EXPECT_EQ(tc->flags, 0x00);
}

TEST(ParseTraceparentTest, FutureVersionSameLengthParses) {
  auto tc = ParseTraceparent(absl::StrCat("cc-", kTraceIdHex, "-", kParentIdHex, "-01"));
  ASSERT_TRUE(tc.ok()) << tc.status();
  EXPECT_EQ(HexId(tc->trace_id), kTraceIdHex);
  EXPECT_TRUE(tc->sampled());
}

TEST(ParseTraceparentTest, FutureVersionWithExtraFieldsParses) {
  // §3.2.4: after the flags, a higher version may carry "-" and more data.
  auto tc = ParseTraceparent(
      absl::StrCat("01-", kTraceIdHex, "-", kParentIdHex, "-09-what-the-future-holds"));
  ASSERT_TRUE(tc.ok()) << tc.status();
  EXPECT_EQ(HexId(tc->parent_span_id), kParentIdHex);
  EXPECT_EQ(tc->flags, 0x01);  // only the sampled bit is understood
}

TEST(ParseTraceparentTest, RejectsFutureVersionWithoutDashAfterFlags) {
  ExpectRejected(absl::StrCat("01-", kTraceIdHex, "-", kParentIdHex, "-01x"),
                 "trace-flags must be 2 hex digits");
}

TEST(ParseTraceparentTest, RejectsFutureVersionShorterThan55) {
  ExpectRejected(absl::StrCat("01-", kTraceIdHex, "-", kParentIdHex, "-1"),
                 "shorter than 55 characters");
}

TEST(ParseTraceparentTest, RejectsVersionFf) {
  ExpectRejected(absl::StrCat("ff-", kTraceIdHex, "-", kParentIdHex, "-01"),
                 "version ff is invalid");
}

TEST(ParseTraceparentTest, RejectsUppercaseVersion) {
  ExpectRejected(absl::StrCat("0A-", kTraceIdHex, "-", kParentIdHex, "-01"),
                 "version must be lowercase hex");
}

TEST(ParseTraceparentTest, RejectsWrongVersionLength) {
  ExpectRejected(absl::StrCat("000-", kTraceIdHex, "-", kParentIdHex, "-01"),
                 "version must be 2 hex digits");
}

TEST(ParseTraceparentTest, RejectsEmpty) { ExpectRejected("", "empty"); }

TEST(ParseTraceparentTest, RejectsNoDashes) {
  ExpectRejected(absl::StrCat("00", kTraceIdHex, kParentIdHex, "01"), "expected '-'");
}

TEST(ParseTraceparentTest, RejectsAllZeroTraceId) {
  ExpectRejected(absl::StrCat("00-", std::string(32, '0'), "-", kParentIdHex, "-01"),
                 "trace-id is all zeros");
}

TEST(ParseTraceparentTest, RejectsAllZeroParentId) {
  ExpectRejected(absl::StrCat("00-", kTraceIdHex, "-", std::string(16, '0'), "-01"),
                 "parent-id is all zeros");
}

TEST(ParseTraceparentTest, RejectsShortTraceId) {
  ExpectRejected(absl::StrCat("00-", std::string(kTraceIdHex).substr(2), "-", kParentIdHex, "-01"),
                 "trace-id must be 32 hex digits, got 30");
}

TEST(ParseTraceparentTest, RejectsLongTraceId) {
  ExpectRejected(absl::StrCat("00-", kTraceIdHex, "ab-", kParentIdHex, "-01"),
                 "trace-id must be 32 hex digits, got 34");
}

TEST(ParseTraceparentTest, RejectsShortParentId) {
  ExpectRejected(absl::StrCat("00-", kTraceIdHex, "-", "00f067aa0ba902", "-01"),
                 "parent-id must be 16 hex digits, got 14");
}

TEST(ParseTraceparentTest, RejectsUppercaseTraceId) {
  ExpectRejected(absl::StrCat("00-4BF92F3577B34DA6A3CE929D0E0E4736-", kParentIdHex, "-01"),
                 "trace-id must be lowercase hex");
}

TEST(ParseTraceparentTest, RejectsNonHexTraceId) {
  ExpectRejected(
      absl::StrCat("00-", std::string(kTraceIdHex).substr(0, 31), "g-", kParentIdHex, "-01"),
      "trace-id must be lowercase hex");
}

TEST(ParseTraceparentTest, RejectsNonHexParentId) {
  ExpectRejected(absl::StrCat("00-", kTraceIdHex, "-00f067aa0ba902bz-01"),
                 "parent-id must be lowercase hex");
}

TEST(ParseTraceparentTest, RejectsNonHexFlags) {
  ExpectRejected(absl::StrCat("00-", kTraceIdHex, "-", kParentIdHex, "-0x"),
                 "trace-flags must be lowercase hex");
}

TEST(ParseTraceparentTest, RejectsShortFlags) {
  ExpectRejected(absl::StrCat("00-", kTraceIdHex, "-", kParentIdHex, "-1"),
                 "trace-flags must be 2 hex digits, got 1");
}

TEST(ParseTraceparentTest, RejectsMissingFlags) {
  ExpectRejected(absl::StrCat("00-", kTraceIdHex, "-", kParentIdHex),
                 "expected '-' after parent-id");
}

TEST(ParseTraceparentTest, RejectsExtraDataForVersion00) {
  ExpectRejected(absl::StrCat(kValid, "-what-the-future-holds"), "extra data after trace-flags");
  ExpectRejected(absl::StrCat(kValid, "-"), "extra data after trace-flags");
}

TEST(ParseTraceparentTest, RejectsSurroundingWhitespace) {
  ExpectRejected(absl::StrCat(" ", kValid), "version");
  ExpectRejected(absl::StrCat(kValid, " "), "trace-flags must be 2 hex digits, got 3");
}

TEST(ParseTraceparentTest, KeepsValidTracestate) {
  auto tc = ParseTraceparent(kValid, "rojo=00f067aa0ba902b7 ,\tcongo=t61rcWkgMzE");
  ASSERT_TRUE(tc.ok()) << tc.status();
  EXPECT_EQ(tc->trace_state, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
}

TEST(ParseTraceparentTest, InvalidTracestateIsDroppedNotFatal) {
  auto tc = ParseTraceparent(kValid, "Rojo=1");
  ASSERT_TRUE(tc.ok()) << tc.status();
  EXPECT_EQ(tc->trace_state, "");
  EXPECT_EQ(HexId(tc->trace_id), kTraceIdHex);
}

TEST(ValidateTracestateTest, AcceptsMultiTenantKeysAndEmptyMembers) {
  auto ts = ValidateTracestate("foo@bar=1 , ,tenant1@vendor=x y,a*b/c_d-e=%7E,0t@s=v");
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(*ts, "foo@bar=1,tenant1@vendor=x y,a*b/c_d-e=%7E,0t@s=v");
  EXPECT_EQ(*ValidateTracestate(""), "");
  EXPECT_EQ(*ValidateTracestate(" , "), "");
}

TEST(ValidateTracestateTest, RejectsMoreThan32Members) {
  std::string s;
  for (int i = 0; i < 32; ++i) absl::StrAppend(&s, i ? "," : "", "k", i, "=v");
  EXPECT_TRUE(ValidateTracestate(s).ok());
  absl::StrAppend(&s, ",k32=v");
  auto ts = ValidateTracestate(s);
  ASSERT_FALSE(ts.ok());
  EXPECT_THAT(std::string(ts.status().message()), HasSubstr("more than 32 list members"));
}

TEST(ValidateTracestateTest, RejectsUppercaseKey) {
  EXPECT_THAT(std::string(ValidateTracestate("Rojo=1").status().message()),
              HasSubstr("invalid key 'Rojo'"));
}

TEST(ValidateTracestateTest, RejectsKeyStartingWithDigitWithoutTenant) {
  EXPECT_FALSE(ValidateTracestate("1abc=v").ok());
}

TEST(ValidateTracestateTest, RejectsTooLongKeys) {
  EXPECT_TRUE(ValidateTracestate(std::string(256, 'a') + "=v").ok());
  EXPECT_FALSE(ValidateTracestate(std::string(257, 'a') + "=v").ok());
  EXPECT_TRUE(ValidateTracestate(std::string(241, 't') + "@" + std::string(14, 's') + "=v").ok());
  EXPECT_FALSE(ValidateTracestate(std::string(242, 't') + "@s=v").ok());
  EXPECT_FALSE(ValidateTracestate("t@" + std::string(15, 's') + "=v").ok());
}

TEST(ValidateTracestateTest, RejectsBadSystemId) {
  EXPECT_FALSE(ValidateTracestate("t@1sys=v").ok());
  EXPECT_FALSE(ValidateTracestate("t@=v").ok());
  EXPECT_FALSE(ValidateTracestate("@sys=v").ok());
}

TEST(ValidateTracestateTest, RejectsBadValues) {
  EXPECT_FALSE(ValidateTracestate("k=").ok());             // empty
  EXPECT_FALSE(ValidateTracestate("k=a=b").ok());          // '='
  EXPECT_FALSE(ValidateTracestate("k=a\x01").ok());        // control character
  EXPECT_FALSE(ValidateTracestate("k=caf\xc3\xa9").ok());  // non-ASCII
  EXPECT_TRUE(ValidateTracestate(std::string("k=") + std::string(256, 'v')).ok());
  EXPECT_FALSE(ValidateTracestate(std::string("k=") + std::string(257, 'v')).ok());
  // A trailing space is optional whitespace around the comma, not value.
  EXPECT_EQ(*ValidateTracestate("k=a b "), "k=a b");
}

TEST(ValidateTracestateTest, RejectsMemberWithoutEquals) {
  EXPECT_THAT(std::string(ValidateTracestate("a=1,junk").status().message()),
              HasSubstr("'junk' has no '='"));
}

TEST(ValidateTracestateTest, RejectsDuplicateKeys) {
  EXPECT_THAT(std::string(ValidateTracestate("a=1,b=2,a=3").status().message()),
              HasSubstr("duplicate key 'a'"));
}

TEST(FormatTraceparentTest, RoundTrip) {
  auto tc = ParseTraceparent(kValid, "congo=t61rcWkgMzE");
  ASSERT_TRUE(tc.ok());
  EXPECT_EQ(FormatTraceparent(*tc), kValid);
  auto again = ParseTraceparent(FormatTraceparent(*tc), tc->trace_state);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->trace_id, tc->trace_id);
  EXPECT_EQ(again->parent_span_id, tc->parent_span_id);
  EXPECT_EQ(again->flags, tc->flags);
  EXPECT_EQ(again->trace_state, tc->trace_state);
}

TEST(FormatTraceparentTest, FutureVersionFormatsAsVersion00) {
  auto tc = ParseTraceparent(absl::StrCat("cc-", kTraceIdHex, "-", kParentIdHex, "-01-extra"));
  ASSERT_TRUE(tc.ok());
  EXPECT_EQ(FormatTraceparent(*tc), kValid);
}

TEST(HexTest, ParseLowerHex) {
  uint8_t out[2];
  EXPECT_TRUE(ParseLowerHex("0aff", out, 2));
  EXPECT_EQ(out[0], 0x0a);
  EXPECT_EQ(out[1], 0xff);
  EXPECT_FALSE(ParseLowerHex("0aFF", out, 2));
  EXPECT_FALSE(ParseLowerHex("0af", out, 2));
  EXPECT_FALSE(ParseLowerHex("0ag0", out, 2));
}

TEST(IdGeneratorTest, IdsAreNonZeroAndUnique) {
  IdGenerator gen;
  std::set<TraceId> traces;
  std::set<SpanId> spans;
  for (int i = 0; i < 10000; ++i) {
    TraceId t = gen.NewTraceId();
    SpanId s = gen.NewSpanId();
    EXPECT_FALSE(IsZero(t));
    EXPECT_FALSE(IsZero(s));
    traces.insert(t);
    spans.insert(s);
  }
  EXPECT_EQ(traces.size(), 10000u);
  EXPECT_EQ(spans.size(), 10000u);
}

TEST(IdGeneratorTest, TwoGeneratorsDiffer) {
  IdGenerator a, b;
  EXPECT_NE(a.NewTraceId(), b.NewTraceId());
}

TEST(IdGeneratorTest, SeededIsRepeatable) {
  IdGenerator a(42), b(42);
  EXPECT_EQ(a.NewSpanId(), b.NewSpanId());
  EXPECT_EQ(a.NewTraceId(), b.NewTraceId());
}

TEST(IdGeneratorTest, ThreadSafeUnderContention) {
  IdGenerator gen;
  std::vector<std::vector<SpanId>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& ids : per_thread) {
    threads.emplace_back([&gen, &ids] {
      for (int i = 0; i < 5000; ++i) ids.push_back(gen.NewSpanId());
    });
  }
  for (auto& t : threads) t.join();
  std::set<SpanId> all;
  for (auto& ids : per_thread) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), 20000u);
  EXPECT_EQ(all.count(SpanId{}), 0u);
}

}  // namespace
}  // namespace tracer::spans
