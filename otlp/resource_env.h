// Resource attributes from the OpenTelemetry SDK environment variables
// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME, and their merge into an
// OTLP Resource.
//
// Follows the OpenTelemetry specification:
//   * resource/sdk.md "Specifying resource information via an environment
//     variable": OTEL_RESOURCE_ATTRIBUTES is a list "key1=value1,key2=value2"
//     in the format of the W3C Baggage header (W3C Baggage, "Definition"),
//     without the ";"-delimited metadata; every value is a string; characters
//     outside the baggage-octet range are percent-encoded. "In case of any
//     error, e.g. failure in decoding, the entire environment variable value
//     SHOULD be discarded and an error SHOULD be reported."
//   * configuration/sdk-environment-variables.md: OTEL_SERVICE_NAME sets
//     service.name and takes precedence over a service.name given in
//     OTEL_RESOURCE_ATTRIBUTES.
//   * resource/sdk.md "Merge": when two resources share a key, the value of
//     the "updating" resource wins. Here the resource a span batch already
//     carries is the updating one (what the agent observed about the traced
//     process beats a fleet-wide default), so MergeResourceAttributes only
//     adds keys the resource does not have.
#ifndef TRACER_OTLP_RESOURCE_ENV_H_
#define TRACER_OTLP_RESOURCE_ENV_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"

namespace tracer::otlp {

// Ordered (key, value) string attributes; keys are unique.
using ResourceAttributes = std::vector<std::pair<std::string, std::string>>;

// Parses an OTEL_RESOURCE_ATTRIBUTES value. Members are separated by ",",
// optional whitespace (space, tab) around members and around "=" is
// trimmed, empty members (e.g. a trailing comma) are skipped. The first "="
// splits key and value. Keys are RFC 9110 tokens taken literally (W3C
// Baggage "key"); values are percent-decoded (RFC 3986 section 2.1), and
// decoded bytes that are not valid UTF-8 become U+FFFD (W3C Baggage,
// "value"). A key given twice keeps its last value, at the position of its
// first occurrence. Thread-safe (pure function).
//
// Errors: INVALID_ARGUMENT naming the 1-based member and its text for a
// member without "=", an empty key, a raw character outside baggage-octet
// in a value (space, '"', ';' (metadata is not supported), '\\', control
// characters, non-ASCII: percent-encode them), a key character that is not
// an RFC 9110 token character, or a bad percent escape. Per the
// specification the whole value is then to be discarded (nothing partial
// is returned).
absl::StatusOr<ResourceAttributes> ParseResourceAttributes(std::string_view value);

// What ResourceAttributesFromEnv found.
struct EnvResource {
  // The attributes to use: OTEL_RESOURCE_ATTRIBUTES' members (none when it
  // was discarded), with service.name set from OTEL_SERVICE_NAME when that
  // is set and non-empty (replacing a service.name from the list, or
  // appended last).
  ResourceAttributes attributes;
  // OK, or the INVALID_ARGUMENT (prefixed "OTEL_RESOURCE_ATTRIBUTES: ") of
  // a malformed list that was discarded as a whole. Callers report it (log
  // a warning, or refuse to start when they prefer strictness).
  absl::Status discarded;
};

// Reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME through `env` (which
// returns nullopt for unset variables; the same signature as
// otlp::EnvLookup in config.h and ctl::EnvLookup). Empty values count
// as unset. Thread-safe if `env` is.
EnvResource ResourceAttributesFromEnv(
    const std::function<std::optional<std::string>(const std::string&)>& env);

// Adds each of `attributes` whose key `resource` does not already have, as
// a string AnyValue, in order (existing keys win; see the file comment).
// `resource` must not be null. Not thread-safe for the same `resource`.
void MergeResourceAttributes(const ResourceAttributes& attributes,
                             ::opentelemetry::proto::resource::v1::Resource* resource);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_RESOURCE_ENV_H_
