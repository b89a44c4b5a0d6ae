// Decompresses a gzip stream (RFC 1952) with zlib, for tests and benchmark
// peers that check what our OTLP/HTTP exporter sends. Thread-safe (no
// shared state).
#ifndef TESTS_TESTING_GUNZIP_H_
#define TESTS_TESTING_GUNZIP_H_

#include <zlib.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace tracer::testing {

// Inflates the whole gzip stream `in` into `out` (replaced; grown as needed).
// Returns false if `in` is not one complete gzip stream (bad header, corrupt
// data, truncated); `out` then holds what was inflated so far.
inline bool Gunzip(std::string_view in, std::string* out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return false;  // gzip wrapper only
  out->resize(std::max<size_t>(in.size() * 4, 4096));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (zs.total_out == out->size()) out->resize(out->size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out->data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(out->size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) rc = Z_OK;  // grow and go on
  }
  out->resize(zs.total_out);
  inflateEnd(&zs);
  return rc == Z_STREAM_END;
}

}  // namespace tracer::testing

#endif  // TESTS_TESTING_GUNZIP_H_
