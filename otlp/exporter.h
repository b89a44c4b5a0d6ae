// The interface every OTLP span exporter implements (OTLP/gRPC, OTLP/HTTP,
// file), and the result of one export.
//
// Namespace tracer::otlp.
//
// Follows the OpenTelemetry trace SDK's SpanExporter contract
// (specification/trace/sdk.md, "Span Exporter"): Export() is called with one
// batch at a time, returns success or failure, and must not block forever
// (every implementation here bounds it by a configured timeout); Shutdown()
// flushes and releases resources, after which Export() fails.
#ifndef TRACER_OTLP_EXPORTER_H_
#define TRACER_OTLP_EXPORTER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace tracer::otlp {

using ExportTraceServiceRequest =
    ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using ExportTraceServiceResponse =
    ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;

// What a successful export reported back. A backend that accepted the request
// but refused some spans answers with `partial_success` (OTLP specification,
// protocol/otlp.md "Partial Success"): that is still a success (the request
// must not be retried), and the refused spans are counted here.
struct ExportResult {
  // ExportTracePartialSuccess.rejected_spans: spans the backend refused (>= 0).
  int64_t rejected_spans = 0;
  // ExportTracePartialSuccess.error_message (may be set with 0 rejected spans
  // as a warning); empty when the backend sent none.
  std::string partial_success_message;
};

// The form of a request an exporter takes (SpanExporter::request_form).
enum class RequestForm {
  // The messages: the exporter reads them (OTLP/JSON, files). Export().
  kParsed,
  // The protobuf wire form, sent as is (OTLP/gRPC, OTLP/HTTP protobuf):
  // ExportSerialized() sends bytes without parsing them, and Export() only
  // serializes the message it is given.
  kWire,
};

// Exports ExportTraceServiceRequest messages to one destination.
//
// Thread-safety: implementations serialise concurrent Export() calls
// internally (callers may call from several threads, but exports to one
// destination never overlap). Cancel() may be called from any thread.
class SpanExporter {
 public:
  virtual ~SpanExporter() = default;

  // Sends `request` (not retained after return). Returns the backend's
  // partial-success report, or an error whose message names the destination
  // and carries the backend's own message. Error codes: UNAVAILABLE /
  // DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED ... as the transport reported
  // them (see retry_policy.h for which ones are marked retryable);
  // FAILED_PRECONDITION after Shutdown().
  virtual absl::StatusOr<ExportResult> Export(const ExportTraceServiceRequest& request) = 0;

  // Which form this exporter takes a request in most cheaply. Callers that
  // hold serialized requests (a write-ahead log) give a kWire exporter the
  // bytes through ExportSerialized() and parse only for kParsed ones.
  // Default: kParsed.
  virtual RequestForm request_form() const { return RequestForm::kParsed; }

  // Sends the serialized ExportTraceServiceRequest `serialized` (protobuf
  // wire form; the exporter owns it, and a transport may hand the buffer
  // itself to the wire instead of copying it). Same results and errors as
  // Export(). kWire exporters send the bytes as they are; the default parses
  // them and calls Export(), failing with INVALID_ARGUMENT (naming the
  // destination) when they are not an ExportTraceServiceRequest.
  virtual absl::StatusOr<ExportResult> ExportSerialized(std::string serialized);

  // Flushes buffered data and releases the transport. Idempotent; Export()
  // fails afterwards. Returns the first error met while flushing/closing.
  virtual absl::Status Shutdown() = 0;

  // Asks an Export() in progress to end with CANCELLED as soon as possible
  // (the OTLP/gRPC and OTLP/HTTP transports abort the attempt on the wire;
  // an export that cannot be interrupted ends at its own timeout). Default:
  // nothing to cancel.
  virtual void Cancel() {}

  // A short human-readable name of the destination for error messages and
  // logs, e.g. "otlp/grpc http://collector:4317" or "file spans.jsonl".
  virtual std::string Describe() const = 0;
};

// Number of spans in `request` (sum over resource_spans/scope_spans).
int64_t CountSpans(const ExportTraceServiceRequest& request);

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_EXPORTER_H_
