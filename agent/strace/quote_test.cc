#include "agent/strace/quote.h"

#include <string>

#include "gtest/gtest.h"

namespace tracer::strace {
namespace {

using std::string_literals::operator""s;

TEST(QuoteBytes, PrintableAsIs) { EXPECT_EQ(QuoteBytes("hello world", false), "\"hello world\""); }

TEST(QuoteBytes, CEscapes) {
  EXPECT_EQ(QuoteBytes("a\tb\nc\vd\fe\rf", false), R"("a\tb\nc\vd\fe\rf")");
  EXPECT_EQ(QuoteBytes("say \"hi\" \\o/", false), R"("say \"hi\" \\o/")");
}

// The same bytes strace 6.1 printed for write(1, "a\1\377\"\\\n\t\177\0z\0", 11).
TEST(QuoteBytes, OctalLikeStrace) {
  EXPECT_EQ(QuoteBytes("a\x01\xff\"\\\n\t\x7f\0z\0"s, false), R"("a\1\377\"\\\n\t\177\0z\0")");
  EXPECT_EQ(QuoteBytes("\x1b[0m", false), R"("\33[0m")");
}

TEST(QuoteBytes, ThreeDigitsBeforeADigit) {
  EXPECT_EQ(QuoteBytes("\0001"s, false), R"("\0001")");
  EXPECT_EQ(QuoteBytes("\x01"
                       "9",
                       false),
            R"("\0019")");
  EXPECT_EQ(QuoteBytes("\x01"
                       "a",
                       false),
            R"("\1a")");
}

TEST(QuoteBytes, EllipsisWhenMore) {
  EXPECT_EQ(QuoteBytes("abc", true), "\"abc\"...");
  EXPECT_EQ(QuoteBytes("", true), "\"\"...");
  EXPECT_EQ(QuoteBytes("", false), "\"\"");
}

TEST(QuoteBytes, EveryByteValueIsPrintableOutput) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string q = QuoteBytes(all, false);
  for (char c : q) EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << static_cast<int>(c);
}

}  // namespace
}  // namespace tracer::strace
