#include "agent/spans/span_arena.h"

#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tracer::spans {
namespace {

TEST(SpanArena, CopiesStayValidAsTheArenaGrows) {
  SpanArena arena(256);
  std::vector<std::string_view> views;
  std::vector<std::string> want;
  for (int i = 0; i < 2000; ++i) {
    want.push_back(std::string(static_cast<size_t>(i % 97), static_cast<char>('a' + i % 26)));
    views.push_back(arena.Copy(want.back()));
  }
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(views[i], want[i]) << i;
  EXPECT_GE(arena.bytes_reserved(), 2000u * 40);
}

TEST(SpanArena, ArraysAreAlignedAndLargeRequestsFit) {
  SpanArena arena(256);
  arena.Copy("x");  // misalign the cursor
  auto* a = arena.AllocateArray<uint64_t>(3);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % alignof(uint64_t), 0u);
  a[0] = 1;
  a[2] = 3;
  char* big = static_cast<char*>(arena.Allocate(1 << 20, 1));  // larger than any block so far
  big[0] = 'a';
  big[(1 << 20) - 1] = 'z';
  EXPECT_EQ(a[0], 1u);
  EXPECT_EQ(a[2], 3u);
  EXPECT_TRUE(arena.Copy("").empty());
}

}  // namespace
}  // namespace tracer::spans
