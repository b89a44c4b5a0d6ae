#include "agent/protocols/http1/detect.h"

#include "gtest/gtest.h"

namespace tracer::http {
namespace {

TEST(ClassifyStartTest, RequestsAndResponses) {
  EXPECT_EQ(ClassifyStart("GET / HTTP/1.1\r\n"), StartKind::kRequest);
  EXPECT_EQ(ClassifyStart("M-SEARCH * HTTP/1.1"), StartKind::kRequest);
  EXPECT_EQ(ClassifyStart("HTTP/1.0 200 OK"), StartKind::kResponse);
  EXPECT_EQ(ClassifyStart("HTTP/1.1 404"), StartKind::kResponse);
}

TEST(ClassifyStartTest, PrefixesNeedMoreData) {
  EXPECT_EQ(ClassifyStart(""), StartKind::kNeedMoreData);
  EXPECT_EQ(ClassifyStart("G"), StartKind::kNeedMoreData);
  EXPECT_EQ(ClassifyStart("GET"), StartKind::kNeedMoreData);
  EXPECT_EQ(ClassifyStart("PROPP"), StartKind::kNeedMoreData);
  EXPECT_EQ(ClassifyStart("HTTP/1."), StartKind::kNeedMoreData);
}

TEST(ClassifyStartTest, OtherProtocolsAreNotHttp) {
  // TLS ClientHello record header.
  EXPECT_EQ(ClassifyStart(std::string_view("\x16\x03\x01\x02\x00\x01", 6)), StartKind::kNotHttp);
  EXPECT_EQ(ClassifyStart("*1\r\n$4\r\nPING\r\n"), StartKind::kNotHttp);  // redis
  EXPECT_EQ(ClassifyStart("SSH-2.0-OpenSSH"), StartKind::kNotHttp);
  EXPECT_EQ(ClassifyStart("get / HTTP/1.1"), StartKind::kNotHttp);  // methods are case-sensitive
  EXPECT_EQ(ClassifyStart("GETX / HTTP/1.1"), StartKind::kNotHttp);
  EXPECT_EQ(ClassifyStart("HTTP/2.0 200"), StartKind::kNotHttp);
  EXPECT_EQ(ClassifyStart("PRI * HTTP/2.0"), StartKind::kNotHttp);  // h2 preface
}

TEST(StartsMessageTest, DirectionMatters) {
  EXPECT_TRUE(StartsMessage("POST /x HTTP/1.1", true));
  EXPECT_FALSE(StartsMessage("POST /x HTTP/1.1", false));
  EXPECT_TRUE(StartsMessage("HTTP/1.1 200 OK", false));
  EXPECT_FALSE(StartsMessage("GE", true));  // a prefix is not enough to resync
}

TEST(SemconvMethodTest, KnownSet) {
  EXPECT_TRUE(IsSemconvKnownMethod("GET"));
  EXPECT_TRUE(IsSemconvKnownMethod("PATCH"));
  EXPECT_FALSE(IsSemconvKnownMethod("PROPFIND"));
  EXPECT_FALSE(IsSemconvKnownMethod("get"));
}

}  // namespace
}  // namespace tracer::http
