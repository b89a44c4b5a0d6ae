// Helpers that append OTLP attributes (opentelemetry.proto.common.v1.KeyValue)
// to a repeated field, on the field's arena when it has one. Not thread-safe
// (they mutate `attrs`).
#ifndef TRACER_AGENT_SPANS_ATTRIBUTES_H_
#define TRACER_AGENT_SPANS_ATTRIBUTES_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "google/protobuf/repeated_ptr_field.h"
#include "opentelemetry/proto/common/v1/common.pb.h"

namespace tracer::spans {

using Attributes = google::protobuf::RepeatedPtrField<opentelemetry::proto::common::v1::KeyValue>;

// AnyValue.string_value. The std::string&& overload moves the value in; the
// const char* one (NUL-terminated) keeps literals unambiguous.
inline void AddString(Attributes& attrs, std::string_view key, std::string_view value) {
  auto* kv = attrs.Add();
  kv->set_key(key.data(), key.size());
  kv->mutable_value()->set_string_value(value.data(), value.size());
}
inline void AddString(Attributes& attrs, std::string_view key, std::string&& value) {
  auto* kv = attrs.Add();
  kv->set_key(key.data(), key.size());
  kv->mutable_value()->set_string_value(std::move(value));
}
inline void AddString(Attributes& attrs, std::string_view key, const char* value) {
  AddString(attrs, key, std::string_view(value));
}

// AnyValue.int_value.
inline void AddInt(Attributes& attrs, std::string_view key, int64_t value) {
  auto* kv = attrs.Add();
  kv->set_key(key.data(), key.size());
  kv->mutable_value()->set_int_value(value);
}

// AnyValue.double_value.
inline void AddDouble(Attributes& attrs, std::string_view key, double value) {
  auto* kv = attrs.Add();
  kv->set_key(key.data(), key.size());
  kv->mutable_value()->set_double_value(value);
}

// Sets `key` to the string `value`, replacing an existing entry with that
// key (the first one) or appending. Linear in attrs.size().
inline void SetString(Attributes& attrs, std::string_view key, std::string_view value) {
  for (auto& kv : attrs) {
    if (kv.key() == key) {
      kv.mutable_value()->set_string_value(value.data(), value.size());
      return;
    }
  }
  AddString(attrs, key, value);
}

}  // namespace tracer::spans

#endif  // TRACER_AGENT_SPANS_ATTRIBUTES_H_
