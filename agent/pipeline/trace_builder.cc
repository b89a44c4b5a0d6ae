#include "agent/pipeline/trace_builder.h"

#include <utility>

#include "agent/protocols/http1/process_parent.h"
#include "otlp/wire/to_message.h"

namespace tracer::pipeline {

TraceBuilder::TraceBuilder(TraceBuilderOptions options, spans::BatchSink* downstream)
    : options_(std::move(options)) {
  gate_.owner = this;
  gate_.downstream = downstream;
  builder_ = std::make_unique<spans::SpanBuilder>(options_.spans, &gate_);
  if (options_.sampler) gate_.sampled = options_.sampler(builder_->trace_id());
  if (options_.http) {
    http_sink_.owner = this;
    http::HttpFlowOptions ho = options_.http_options;
    ho.clock = options_.spans.clock;
    if (options_.build_spans) {
      ho.parent_lookup = http::ProcessSpanParent(builder_.get(), options_.spans.parent);
    }
    http_ = std::make_unique<http::HttpFlowTracker>(std::move(ho), &http_sink_);
  }
}

// The tracker goes first: its last spans still reach the builder.
TraceBuilder::~TraceBuilder() { http_.reset(); }

void TraceBuilder::OnSyscall(const capture::SyscallEvent& e) {
  if (options_.build_spans) builder_->OnSyscall(e);
}

void TraceBuilder::OnProcess(const capture::ProcessEvent& e) {
  if (options_.build_spans) builder_->OnProcess(e);
}

void TraceBuilder::OnSocketOpen(const capture::SocketOpenEvent& e) {
  if (http_) http_->OnSocketOpen(e);
}

void TraceBuilder::OnSocketData(const capture::SocketDataEvent& e) {
  if (http_) http_->OnSocketData(e);
}

void TraceBuilder::OnSocketClose(const capture::SocketCloseEvent& e) {
  if (http_) http_->OnSocketClose(e);
}

void TraceBuilder::Tick(uint64_t now_mono_ns) {
  if (http_) http_->Tick(now_mono_ns);
}

void TraceBuilder::FinishHttp(uint64_t now_mono_ns) {
  if (http_) http_->Finish(now_mono_ns);
}

void TraceBuilder::Finish(uint64_t now_mono_ns) {
  // Exchanges still open end as closed, before the process spans end.
  FinishHttp(now_mono_ns);
  builder_->Finish(now_mono_ns);
}

void TraceBuilder::Gate::OnBatch(std::shared_ptr<const spans::SpanBatch> batch) {
  TraceBuilderCounters& c = owner->counters_;
  const uint64_t n = batch->span_count();
  c.spans_batched += n;
  const bool pass = sampled && batch->sampled && downstream != nullptr;
  if (!pass) c.spans_sampled_out += n;
  if (owner->options_.on_batch) owner->options_.on_batch(*batch, pass);
  if (pass) downstream->OnBatch(std::move(batch));
}

void TraceBuilder::HttpSink::OnHttpSpanRecord(uint32_t tgid, const otlp::wire::SpanRecord& span) {
  const TraceBuilderOptions& o = owner->options_;
  if (o.on_http_record) o.on_http_record(tgid, span);
  TraceBuilderCounters& c = owner->counters_;
  ++c.http_spans;
  if (span.kind == otlp::wire::SpanKind::kServer) ++c.http_server_spans;
  if (o.on_http_span) {
    // The observer takes messages: one is built for it alone; the span
    // joins the batch as the record either way.
    otlp::wire::ToMessage(span, &observed_);
    o.on_http_span(tgid, observed_);
  }
  if (o.build_spans) owner->builder_->AddSpan(tgid, span);
}

google::protobuf::Arena* TraceBuilder::HttpSink::SpanArena() {
  return owner->options_.build_spans ? owner->builder_->span_arena() : nullptr;
}

void TraceBuilder::HttpSink::OnHttpSpan(uint32_t tgid,
                                        opentelemetry::proto::trace::v1::Span* span) {
  TraceBuilderCounters& c = owner->counters_;
  ++c.http_spans;
  if (span->kind() == opentelemetry::proto::trace::v1::Span::SPAN_KIND_SERVER) {
    ++c.http_server_spans;
  }
  if (owner->options_.on_http_span) owner->options_.on_http_span(tgid, *span);
  if (owner->options_.build_spans) {
    owner->builder_->AddSpan(tgid, span);
  } else {
    delete span;  // on the heap: SpanArena() said so
  }
}

}  // namespace tracer::pipeline
