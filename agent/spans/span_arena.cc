#include "agent/spans/span_arena.h"

#include <algorithm>
#include <cstdint>

namespace tracer::spans {
namespace {
constexpr size_t kMaxBlock = 1 << 20;
}  // namespace

SpanArena::SpanArena(size_t first_block_bytes)
    : next_block_(std::max<size_t>(first_block_bytes, 256)) {}

void* SpanArena::AllocateSlow(size_t n, size_t align) {
  const size_t need = n + align;
  size_t size = std::max(next_block_, need);
  next_block_ = std::min(next_block_ * 2, kMaxBlock);
  // new char[] is aligned for any fundamental type.
  blocks_.emplace_back(new char[size]);
  reserved_ += size;
  ptr_ = blocks_.back().get();
  end_ = ptr_ + size;
  char* p = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(ptr_) + align - 1) &
                                    ~(uintptr_t{align} - 1));
  ptr_ = p + n;
  return p;
}

}  // namespace tracer::spans
