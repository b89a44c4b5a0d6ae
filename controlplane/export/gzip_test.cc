// GzipCompress (otlp_http_exporter.h): what it writes is gzip (RFC 1952)
// that zlib inflates back to the input at every level; a bad level is an
// error, not a crash.
#include <zlib.h>

#include <string>

#include "controlplane/export/otlp_http_exporter.h"
#include "gtest/gtest.h"

namespace tracer::exporting {
namespace {

std::string Gunzip(const std::string& gz) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);  // gzip wrapper only
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
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
}  // namespace tracer::exporting
