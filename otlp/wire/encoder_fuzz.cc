// Fuzzes the direct OTLP encoders: a batch built from any input encodes to
// exactly the message-built protobuf bytes and OTLP/JSON text.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "otlp/otlp_json.h"
#include "otlp/wire/json_encoder.h"
#include "otlp/wire/protobuf_encoder.h"
#include "otlp/wire/test_records.h"
#include "otlp/wire/to_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace wire = tracer::otlp::wire;
  wire::testing::RecordStore store;
  wire::testing::MakeBatchFromBytes(std::string_view(reinterpret_cast<const char*>(data), size),
                                    &store);
  const wire::SpanBatch batch = store.batch();
  google::protobuf::Arena arena;
  const auto* message = wire::ToMessage(batch, &arena);

  std::string want_proto, got_proto;
  if (!message->SerializeToString(&want_proto)) abort();
  wire::AppendProtobuf(batch, &got_proto);
  if (got_proto != want_proto) abort();
  if (wire::ProtobufSize(batch) != got_proto.size()) abort();
  // Parses back exactly when the message-built bytes do (proto3 rejects
  // string fields that are not UTF-8), to a message that re-encodes the same.
  tracer::otlp::ExportTraceServiceRequest parsed, reference;
  const bool parses = parsed.ParseFromString(got_proto);
  if (parses != reference.ParseFromString(want_proto)) abort();
  if (parses && parsed.SerializeAsString() != want_proto) abort();

  std::string want_json, got_json;
  tracer::otlp::AppendOtlpJson(*message, &want_json);
  wire::AppendJson(batch, &got_json);
  if (got_json != want_json) abort();
  return 0;
}
