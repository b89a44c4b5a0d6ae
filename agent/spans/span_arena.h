// SpanArena: the storage of one span batch's records (otlp/wire/span_record.h
// views): strings, attribute arrays and record arrays bump-allocated from a
// few large blocks, all freed together with the arena. Addresses never move
// (blocks are never reallocated), so views into the arena stay valid for its
// lifetime.
//
// Only trivially destructible objects go here (records, attributes and
// string views are); nothing is destroyed, memory is released when the
// arena is. Not thread-safe: one writer; readers may share it once writing
// is over.
#ifndef TRACER_AGENT_SPANS_SPAN_ARENA_H_
#define TRACER_AGENT_SPANS_SPAN_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

namespace tracer::spans {

class SpanArena {
 public:
  // The first block is `first_block_bytes`; later ones double up to 1 MiB
  // (or the size of a larger single request).
  explicit SpanArena(size_t first_block_bytes = 16 << 10);
  SpanArena(const SpanArena&) = delete;
  SpanArena& operator=(const SpanArena&) = delete;

  // `n` bytes aligned to `align` (a power of two, at most alignof(max_align_t)).
  void* Allocate(size_t n, size_t align) {
    char* p = reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(ptr_) + align - 1) &
                                      ~(uintptr_t{align} - 1));
    if (p + n > end_ || ptr_ == nullptr) return AllocateSlow(n, align);
    ptr_ = p + n;
    return p;
  }

  // Uninitialised room for `n` objects of T (trivially destructible).
  template <typename T>
  T* AllocateArray(size_t n) {
    static_assert(std::is_trivially_destructible_v<T>, "the arena never runs destructors");
    return static_cast<T*>(Allocate(n * sizeof(T), alignof(T)));
  }

  // A copy of `s` in the arena (the empty view for an empty string).
  std::string_view Copy(std::string_view s) {
    if (s.empty()) return {};
    char* p = static_cast<char*>(Allocate(s.size(), 1));
    std::memcpy(p, s.data(), s.size());
    return std::string_view(p, s.size());
  }

  // Bytes taken from the system so far (all blocks).
  size_t bytes_reserved() const { return reserved_; }

 private:
  void* AllocateSlow(size_t n, size_t align);

  std::vector<std::unique_ptr<char[]>> blocks_;
  char* ptr_ = nullptr;
  char* end_ = nullptr;
  size_t next_block_;
  size_t reserved_ = 0;
};

}  // namespace tracer::spans

#endif  // TRACER_AGENT_SPANS_SPAN_ARENA_H_
