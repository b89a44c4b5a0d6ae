// OTLP/HTTP span exporter over libcurl: POST of binary protobuf
// (application/x-protobuf) or OTLP/JSON (application/json).
//
// Follows the OTLP specification, protocol/otlp.md "OTLP/HTTP": request and
// response bodies in the same encoding, optional "Content-Encoding: gzip",
// a 2xx answer carries ExportTraceServiceResponse (partial_success), a
// failure answer carries google.rpc.Status whose message is reported;
// 429/502/503/504 are retryable honouring Retry-After ("OTLP/HTTP
// Throttling"); a failed connection is retryable too ("Failures").
#ifndef TRACER_OTLP_OTLP_HTTP_EXPORTER_H_
#define TRACER_OTLP_OTLP_HTTP_EXPORTER_H_

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "otlp/exporter.h"
#include "otlp/exporter_config.h"

namespace tracer::otlp {

// Exports over OTLP/HTTP to the URL config.endpoint (already including
// "/v1/traces"); config.protocol picks protobuf or JSON. TLS for https URLs
// with config.certificate_file (PEM CAs, else the system roots) and the
// optional client key/certificate; headers are sent as is; one attempt is
// bounded by config.timeout (connect + transfer); gzip request bodies when
// config.compression says so. Connections are kept alive between exports.
//
// Thread-safe: Export() calls are serialised (one curl handle); Cancel()
// aborts the transfer in flight (CANCELLED) from any thread.
class OtlpHttpExporter : public SpanExporter {
 public:
  // Validates the endpoint and TLS files; no connection yet.
  // Errors: INVALID_ARGUMENT (endpoint or protocol), file errors.
  static absl::StatusOr<std::unique_ptr<OtlpHttpExporter>> Create(const ExporterConfig& config);
  ~OtlpHttpExporter() override;

  absl::StatusOr<ExportResult> Export(const ExportTraceServiceRequest& request) override;
  // kWire for http/protobuf (the body is the serialized request), kParsed
  // for http/json.
  RequestForm request_form() const override;
  // http/protobuf: posts `serialized` as the body without parsing it;
  // http/json: parses it (SpanExporter's default).
  absl::StatusOr<ExportResult> ExportSerialized(std::string serialized) override;
  absl::Status Shutdown() override;
  void Cancel() override;
  std::string Describe() const override;

 private:
  explicit OtlpHttpExporter(const ExporterConfig& config);
  // Posts `body` (the request in config_.protocol's encoding, not yet
  // compressed) and reads the answer.
  absl::StatusOr<ExportResult> Post(absl::string_view body);

  const ExporterConfig config_;
  absl::Mutex mu_;
  void* curl_ ABSL_GUARDED_BY(mu_) = nullptr;  // CURL*, created on first use
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> cancel_{false};
};

// zlib level of gzip request bodies: 1, zlib's fastest. On agent-like spans
// it makes bodies 7.6x smaller where level 6 (zlib's default) makes them
// 8.8x smaller, for less than half the CPU (BENCHMARKS.md, "OTLP export
// throughput").
inline constexpr int kGzipLevel = 1;

// Compresses `data` into the gzip format (RFC 1952) with zlib at `level`
// (0..9, or -1 for zlib's default). Exposed for tests and benchmarks.
// Errors: INTERNAL if zlib refuses the level or cannot finish.
absl::StatusOr<std::string> GzipCompress(std::string_view data, int level = kGzipLevel);

// The error text of an OTLP/HTTP failure body: google.rpc.Status.message when
// `body` is one in `content_type` (protobuf or JSON), else the body itself
// (control characters replaced, at most 512 bytes). Exposed for tests.
std::string HttpErrorMessage(std::string_view content_type, std::string_view body);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_OTLP_HTTP_EXPORTER_H_
