// The settings of one OTLP exporter (a plain struct; config.h fills it from
// the OTEL_EXPORTER_OTLP_* environment variables and builds exporters).
#ifndef TRACER_OTLP_EXPORTER_CONFIG_H_
#define TRACER_OTLP_EXPORTER_CONFIG_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "otlp/retry_policy.h"

namespace tracer::otlp {

enum class Protocol {
  kGrpc,          // "grpc": OTLP/gRPC, TraceService/Export
  kHttpProtobuf,  // "http/protobuf": POST application/x-protobuf
  kHttpJson,      // "http/json": POST application/json (OTLP/JSON)
};

enum class Compression {
  kNone,  // "none"
  kGzip,  // "gzip"
};

// An ordered list of request headers (gRPC metadata for OTLP/gRPC). Keys are
// as the user wrote them; the gRPC exporter lower-cases them.
using Headers = std::vector<std::pair<std::string, std::string>>;

// Everything needed to build one OTLP exporter.
struct ExporterConfig {
  Protocol protocol = Protocol::kGrpc;
  // OTLP/gRPC: "host:port", "http://host:port" or "https://host:port" (a path
  // is ignored). OTLP/HTTP: the full URL the POST goes to, e.g.
  // "http://localhost:4318/v1/traces".
  std::string endpoint;
  Headers headers;
  // Deadline of one export attempt (gRPC deadline; HTTP total transfer time).
  absl::Duration timeout = absl::Seconds(10);
  Compression compression = Compression::kNone;
  // PEM file of the CA(s) that verify the server ("" = system roots).
  std::string certificate_file;
  // PEM files of the client's key and certificate for mutual TLS ("" = none;
  // both or neither).
  std::string client_key_file;
  std::string client_certificate_file;
  // OTLP/gRPC with an endpoint without scheme: plain text when true, TLS
  // otherwise. An "http://" endpoint is always plain text and "https://"
  // always TLS, whatever this says.
  bool insecure = false;
  RetryPolicy retry;
};

// The protocol's name as in OTEL_EXPORTER_OTLP_PROTOCOL.
inline std::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kGrpc:
      return "grpc";
    case Protocol::kHttpProtobuf:
      return "http/protobuf";
    case Protocol::kHttpJson:
      return "http/json";
  }
  return "?";
}

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_EXPORTER_CONFIG_H_
