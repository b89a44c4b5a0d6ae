// Writes seed records for record_format_fuzz: each argument is an output
// path; the n-th gets a valid record of a real OTLP batch with n*7 spans
// (the first an empty payload).
#include <cstdio>
#include <fstream>
#include <string>

#include "storage/record_format.h"
#include "storage/testing/otlp_batch.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const uint32_t spans = static_cast<uint32_t>((i - 1) * 7);
    const std::string payload =
        spans == 0 ? std::string() : tracer::storage::testing::MakeOtlpBatch(i, spans);
    std::ofstream out(argv[i], std::ios::binary);
    out << tracer::storage::EncodeRecord(tracer::storage::RecordType::kSpanBatch, spans,
                                         1700000000000000000 + i, payload);
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", argv[i]);
      return 1;
    }
  }
  return 0;
}
