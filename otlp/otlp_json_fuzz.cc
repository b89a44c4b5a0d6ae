// Fuzzes the OTLP/JSON decoder: any input either fails cleanly or decodes to
// a request that re-encodes and decodes to the same message.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "otlp/otlp_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto req = tracer::otlp::FromOtlpJson(input);
  if (!req.ok()) return 0;
  std::string json = tracer::otlp::ToOtlpJson(*req);
  auto again = tracer::otlp::FromOtlpJson(json);
  if (!again.ok()) abort();                               // our own output must always decode
  if (tracer::otlp::ToOtlpJson(*again) != json) abort();  // and be stable
  return 0;
}
