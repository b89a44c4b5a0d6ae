#include "otlp/json_string.h"

#include <string>

#include "gtest/gtest.h"

namespace tracer::otlp {
namespace {

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

TEST(Utf8SequenceLength, WellFormedOnly) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xc3\xbc", 0), 2u);          // ü
  EXPECT_EQ(Utf8SequenceLength("\xe2\x9c\x93", 0), 3u);      // ✓
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x90\x9d", 0), 4u);  // 🐝
  EXPECT_EQ(Utf8SequenceLength("\xc0\xaf", 0), 0u);          // overlong '/'
  EXPECT_EQ(Utf8SequenceLength("\xed\xa0\x80", 0), 0u);      // surrogate U+D800
  EXPECT_EQ(Utf8SequenceLength("\xf4\x90\x80\x80", 0), 0u);  // above U+10FFFF
  EXPECT_EQ(Utf8SequenceLength("\xe2\x9c", 0), 0u);          // truncated
  EXPECT_EQ(Utf8SequenceLength("\x80", 0), 0u);              // lone continuation
  EXPECT_EQ(Utf8SequenceLength("ab", 2), 0u);                // past the end
}

TEST(ReplaceInvalidUtf8, OneReplacementPerBadByte) {
  EXPECT_EQ(ReplaceInvalidUtf8("gr\xc3\xbc\xc3\x9f"), "gr\xc3\xbc\xc3\x9f");
  EXPECT_EQ(ReplaceInvalidUtf8("a\xff"
                               "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(ReplaceInvalidUtf8("\xe2\x9c"), "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(AppendJsonString, EscapesPerRfc8259) {
  EXPECT_EQ(Json(""), "\"\"");
  EXPECT_EQ(Json("say \"hi\"\\"), R"("say \"hi\"\\")");
  EXPECT_EQ(Json("a\nb\tc\r\b\f"), R"("a\nb\tc\r\b\f")");
  EXPECT_EQ(Json(std::string("\x01\x1f", 2)), R"("\u0001\u001f")");
  EXPECT_EQ(Json(std::string("nul\0x", 5)), R"("nul\u0000x")");
  EXPECT_EQ(Json("\xe2\x9c\x93 ok"), "\"\xe2\x9c\x93 ok\"");
  EXPECT_EQ(Json("bad\xff"), "\"bad\xef\xbf\xbd\"");
}

}  // namespace
}  // namespace tracer::otlp
