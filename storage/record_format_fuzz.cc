// libFuzzer target for WAL record decoding (storage/record_format.h): any
// bytes must decode to an error or to a record that re-encodes to exactly the
// same bytes; decoding must never read outside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/record_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tracer::storage::DecodeRecord;
  using tracer::storage::EncodeRecord;
  using tracer::storage::RecordError;
  using tracer::storage::RecordView;
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  RecordView view;
  const RecordError error = DecodeRecord(value, &view);
  if (error == RecordError::kOk) {
    // A valid record is fully determined by its fields.
    const std::string again =
        EncodeRecord(view.type, view.span_count, view.create_unix_nanos, view.payload);
    if (again != value) std::abort();
  } else if (error >= RecordError::kNumRecordErrors) {
    std::abort();
  }
  uint64_t seq = 0;
  if (tracer::storage::DecodeSeqKey(value, &seq) && tracer::storage::EncodeSeqKey(seq) != value) {
    std::abort();
  }
  return 0;
}
