// TraceBuilder: the span-building stage of the node pipeline for one trace.
//
// It owns one spans::SpanBuilder (process and syscall spans, batched) and,
// when HTTP is on, one http::HttpFlowTracker (the HTTP/1 stitcher) whose
// SERVER and CLIENT spans join the same trace: children of their process
// span (http::ProcessSpanParent) unless a request's traceparent says
// otherwise, added to the builder with SpanBuilder::AddSpan so they share
// the process's resource, sampling and batches. Finished batches pass the
// sampler hook (DESIGN.md "Data path": span builders -> sampler -> WAL):
// a batch of a trace the hook refused, or whose own `sampled` flag is off
// (a parent context with the sampled flag off), is counted and not passed
// on.
//
// Events: OnSyscall/OnProcess go to the span builder, OnSocket* to the HTTP
// tracker (dropped when HTTP is off).
//
// Thread-safety: none. One thread at a time calls everything (the node
// pipeline's worker thread while it runs, the owner after it stopped); the
// downstream sink and the hooks are called synchronously from that thread.
#ifndef TRACER_AGENT_PIPELINE_TRACE_BUILDER_H_
#define TRACER_AGENT_PIPELINE_TRACE_BUILDER_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "agent/capture/events.h"
#include "agent/protocols/http1/http_flow_tracker.h"
#include "agent/spans/span_builder.h"
#include "agent/spans/trace_context.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"
#include "otlp/wire/span_record.h"

namespace tracer::pipeline {

// The sampler hook: whether the trace with this id is exported. Called once,
// when the TraceBuilder is made (its trace id is drawn then).
using SamplerFn = std::function<bool(const spans::TraceId& trace_id)>;

struct TraceBuilderOptions {
  // Options of the span builder (parent context, resource, batch size,
  // clock). The HTTP tracker uses the same clock.
  spans::SpanBuilderOptions spans;
  // false: syscall and process events are not turned into spans, and HTTP
  // spans (if any) go only to `on_http_span`, then are deleted (a run that
  // only displays them).
  bool build_spans = true;
  // HTTP/1 exchanges from socket events. `http_options.clock` and, with
  // build_spans, `http_options.parent_lookup` are set by the TraceBuilder.
  bool http = false;
  http::HttpFlowOptions http_options;
  // The sampler hook; empty: every trace is sampled.
  SamplerFn sampler;
  // Observers, called on the building thread. `on_http_span` sees every
  // HTTP span before it joins the trace (`tgid`: the process whose socket
  // carried it); `on_batch` every finished batch with whether it was passed
  // on. Either may be empty.
  std::function<void(uint32_t tgid, const opentelemetry::proto::trace::v1::Span& span)>
      on_http_span;
  // Sees every HTTP span as a record (valid for the call only), before
  // `on_http_span`. Unlike `on_http_span` it costs no message: prefer it
  // for counting.
  std::function<void(uint32_t tgid, const otlp::wire::SpanRecord& span)> on_http_record;
  std::function<void(const spans::SpanBatch& batch, bool passed_on)> on_batch;
};

// What one TraceBuilder produced.
struct TraceBuilderCounters {
  uint64_t spans_batched = 0;      // spans in finished batches, sampled or not
  uint64_t spans_sampled_out = 0;  // of spans_batched: not passed on
  uint64_t http_spans = 0;         // HTTP spans from the tracker
  uint64_t http_server_spans = 0;  // of http_spans: kind SERVER
};

class TraceBuilder : public capture::EventSink {
 public:
  // `downstream` receives the sampled batches (the node pipeline's
  // NodePipeline::batch_sink()); nullptr: batches are built and dropped
  // (counted as sampled out). Not owned; must outlive the TraceBuilder.
  TraceBuilder(TraceBuilderOptions options, spans::BatchSink* downstream);
  ~TraceBuilder() override;

  TraceBuilder(const TraceBuilder&) = delete;
  TraceBuilder& operator=(const TraceBuilder&) = delete;

  void OnSyscall(const capture::SyscallEvent& e) override;
  void OnProcess(const capture::ProcessEvent& e) override;
  void OnSocketOpen(const capture::SocketOpenEvent& e) override;
  void OnSocketData(const capture::SocketDataEvent& e) override;
  void OnSocketClose(const capture::SocketCloseEvent& e) override;

  // Drives the HTTP tracker's timeouts (CLOCK_MONOTONIC ns); no-op without
  // HTTP.
  void Tick(uint64_t now_mono_ns);
  // Ends the open HTTP exchanges at `now_mono_ns` (as closed); no-op
  // without HTTP.
  void FinishHttp(uint64_t now_mono_ns);
  // FinishHttp, then ends every open process span and flushes
  // (SpanBuilder::Finish).
  void Finish(uint64_t now_mono_ns);
  // Hands the current partial batch on (SpanBuilder::Flush).
  void Flush() { builder_->Flush(); }

  bool has_http() const { return http_ != nullptr; }
  // Whether the sampler hook accepted this trace.
  bool sampled() const { return gate_.sampled; }
  spans::SpanBuilder& span_builder() { return *builder_; }
  const spans::SpanBuilder& span_builder() const { return *builder_; }
  // nullptr without HTTP.
  const http::HttpFlowTracker* http_tracker() const { return http_.get(); }
  const TraceBuilderCounters& counters() const { return counters_; }

 private:
  // Batches -> sampler gate -> downstream.
  struct Gate : spans::BatchSink {
    void OnBatch(std::shared_ptr<const spans::SpanBatch> batch) override;
    TraceBuilder* owner = nullptr;
    spans::BatchSink* downstream = nullptr;
    bool sampled = true;
  };
  // HTTP spans -> observer -> span builder.
  struct HttpSink : http::HttpSpanSink {
    // Records join the batch as records; the message form is built only
    // for `on_http_span` (into `observed_`, reused).
    void OnHttpSpanRecord(uint32_t tgid, const otlp::wire::SpanRecord& span) override;
    // The message form, for a caller that has a message (the tracker
    // itself always calls OnHttpSpanRecord).
    google::protobuf::Arena* SpanArena() override;
    void OnHttpSpan(uint32_t tgid, opentelemetry::proto::trace::v1::Span* span) override;
    TraceBuilder* owner = nullptr;
    opentelemetry::proto::trace::v1::Span observed_;
  };

  const TraceBuilderOptions options_;
  TraceBuilderCounters counters_;
  Gate gate_;  // outlives the builder
  std::unique_ptr<spans::SpanBuilder> builder_;
  HttpSink http_sink_;  // outlives the tracker
  std::unique_ptr<http::HttpFlowTracker> http_;
};

}  // namespace tracer::pipeline

#endif  // TRACER_AGENT_PIPELINE_TRACE_BUILDER_H_
