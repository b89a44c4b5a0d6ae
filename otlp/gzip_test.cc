// GzipCompress (otlp_http_exporter.h): what it writes is gzip (RFC 1952)
// that zlib inflates back to the input at every level; a bad level is an
// error, not a crash.
#include <string>

#include "gtest/gtest.h"
#include "otlp/otlp_http_exporter.h"
#include "tests/testing/gunzip.h"

namespace tracer::otlp {
namespace {

std::string Gunzip(const std::string& gz) {
  std::string out;
  EXPECT_TRUE(tracer::testing::Gunzip(gz, &out));
  return out;
}

std::string SpanLikeBytes() {
  std::string s;
  for (int i = 0; i < 2000; ++i) {
    s += "\x0a\x10span-" + std::to_string(i) + "http.request.method GET url.path /index.html";
  }
  return s;
}

TEST(GzipCompressTest, RoundTripsAtEveryLevel) {
  const std::string in = SpanLikeBytes();
  for (int level : {-1, 0, 1, 6, 9}) {
    auto gz = GzipCompress(in, level);
    ASSERT_TRUE(gz.ok()) << level << ": " << gz.status();
    ASSERT_GE(gz->size(), 18u);
    EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1f) << "gzip magic";
    EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8b);
    EXPECT_EQ(Gunzip(*gz), in) << level;
  }
}

TEST(GzipCompressTest, DefaultLevelIsTheFastestAndStillCompresses) {
  const std::string in = SpanLikeBytes();
  auto fast = GzipCompress(in);
  auto best = GzipCompress(in, 9);
  ASSERT_TRUE(fast.ok() && best.ok());
  EXPECT_EQ(kGzipLevel, 1);
  EXPECT_LT(fast->size(), in.size() / 4);
  EXPECT_LE(best->size(), fast->size());
}

TEST(GzipCompressTest, EmptyInputAndBadLevel) {
  auto empty = GzipCompress("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(Gunzip(*empty), "");
  EXPECT_EQ(GzipCompress("x", 42).status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace tracer::otlp
