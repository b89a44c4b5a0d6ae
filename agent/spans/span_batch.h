// SpanBatch: one batch of spans ready to store and export, as compact span
// records (otlp/wire/span_record.h) whose strings and arrays live in the
// batch's own SpanArena. No message objects: the OTLP protobuf bytes (the
// WAL payload, what wire-form exporters send) and OTLP/JSON are encoded
// straight from the records (otlp/wire encoders); the protobuf message form
// exists only when a reader asks for it (request()).
//
// A batch is one ExportTraceServiceRequest holding one ResourceSpans per
// traced process that has spans in it (in the order of each process's first
// span), each with exactly one ScopeSpans; the spans of a process keep the
// order they were added in.
//
// Life cycle: the producer (SpanBuilder, or a test) fills the batch with
// AddResource / AddSpan / SetResourceAttributes, then Seal()s it and hands
// it out as shared_ptr<const SpanBatch>; from then on it is immutable and
// any number of threads may read it (the lazily encoded forms are built
// once, under absl::call_once).
#ifndef TRACER_AGENT_SPANS_SPAN_BATCH_H_
#define TRACER_AGENT_SPANS_SPAN_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/types/span.h"
#include "agent/spans/span_arena.h"
#include "google/protobuf/arena.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "otlp/wire/span_record.h"

namespace tracer::spans {

// InstrumentationScope of the spans (OTLP ScopeSpans.scope) and the
// telemetry.sdk.* identity in every resource.
inline constexpr char kScopeName[] = "tracer.syscalls";
inline constexpr char kScopeVersion[] = "0.1.0";
inline constexpr char kSdkName[] = "tracer";
inline constexpr char kSdkLanguage[] = "cpp";

class SpanBatch {
 public:
  // `expected_spans`: room reserved up front for this many spans (more may
  // be added; the record array then grows).
  explicit SpanBatch(size_t expected_spans = 512);
  SpanBatch(const SpanBatch&) = delete;
  SpanBatch& operator=(const SpanBatch&) = delete;
  ~SpanBatch();

  // ---- producer side (one thread, before the batch is shared) ----

  // Storage for everything the records point at (strings, attribute and
  // event arrays) that is not static.
  SpanArena& arena() { return arena_; }

  // Opens the next ResourceSpans (scope kScopeName / kScopeVersion, no
  // resource attributes yet) and returns its index (0, 1, ...).
  size_t AddResource();

  // Appends a default span record to resource `resource` (< the number of
  // resources) and returns it for filling. The reference is valid until the
  // next AddSpan. Its views must point into arena() or static storage.
  otlp::wire::SpanRecord& AddSpan(size_t resource);

  // The attributes of resource `resource`'s Resource; `attributes` must
  // point into arena() or static storage.
  void SetResourceAttributes(size_t resource, absl::Span<const otlp::wire::Attribute> attributes);

  // Ends writing: lays the spans out per resource for the encoders. Called
  // once, before the batch is shared; nothing may be added afterwards.
  void Seal();

  // False when the parent context's sampled flag is off: the spans exist for
  // local display but must not be exported (W3C Trace Context §3.2.2.5.1).
  bool sampled = true;

  // ---- reader side (any thread, after Seal) ----

  // Number of spans across all resources.
  size_t span_count() const { return records_.size(); }

  // One otlp::wire::SpanBatch per resource, in order, viewing this batch's
  // storage (valid as long as the batch is).
  absl::Span<const otlp::wire::SpanBatch> resources() const { return parts_; }

  // The OTLP ExportTraceServiceRequest protobuf bytes, encoded on the first
  // call (otlp::wire::AppendProtobuf), the same for every caller.
  const std::string& protobuf() const;

  // Appends the batch's OTLP/JSON document (one line, no newline) to `*out`.
  void AppendJson(std::string* out) const;

  // The batch as a protobuf message, built on the first call (tests and
  // rare paths only: it copies every span into message objects).
  const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest& request() const;

 private:
  SpanArena arena_;
  std::vector<otlp::wire::SpanRecord> records_;  // in the order they were added
  std::vector<uint32_t> resource_of_;            // records_[i]'s resource
  std::vector<otlp::wire::SpanBatch> parts_;     // one per resource
  std::vector<otlp::wire::SpanRecord> ordered_;  // records_ per resource, when > 1 resource
  bool sealed_ = false;

  mutable absl::once_flag protobuf_once_;
  mutable std::string protobuf_;
  mutable absl::once_flag request_once_;
  mutable std::unique_ptr<google::protobuf::Arena> request_arena_;
  mutable const opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest* request_ =
      nullptr;
};

}  // namespace tracer::spans

#endif  // TRACER_AGENT_SPANS_SPAN_BATCH_H_
