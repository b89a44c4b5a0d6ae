// NodePipeline: the one node pipeline of trace-agent and `tracectl run`
// (DESIGN.md "Data path"):
//
//   EventSource ──PollRaw──> RecordSpill ──decoded events──> EventSink
//   (kernel ring buffers)    (memory, one      (the caller's span stage: one
//                             worker thread)    or more TraceBuilders, a tree
//                                               printer, statistics, routing)
//   TraceBuilder ──sampled batches──> batch_sink(): WalStage ──> sink
//                                     (RocksDB, synced)         (exporters,
//                                                                uploader)
//
// The polling thread only copies records out of the ring buffer; decoding,
// span building and everything downstream of `events` happen on the spill's
// worker thread, so a burst of syscalls costs memory for a moment instead of
// kernel drops (RecordSpill). A source without raw records (a replay, a
// test's fake) is polled with EventSource::Poll and its events are
// delivered on the polling thread instead, with no worker.
//
// Life cycle: construct (the WAL stage starts) → Attach(source, events) → PollOnce()
// or RunUntil() on the polling thread → Detach() (drains the ring buffer,
// delivers everything, stops the worker; `events` belongs to the caller
// again, e.g. to finish its spans into batch_sink()) → Attach() a new source
// or Close() (appends and forwards every queued batch, stops the WAL
// writer).
//
// Threads: the polling thread calls Attach, PollOnce, RunUntil, Detach and
// Close; `events` and `tick` are called on the spill's worker thread while a
// source is attached (or on the polling thread, see above); batch_sink() is
// thread-safe and calls `sink` from the WAL writer thread (or, without a
// WAL, from the caller's thread). counters() from any thread.
//
// Ownership: nothing passed in is owned. `wal` and `sink` must outlive the
// pipeline; an attached source, its `events` and `tick` must outlive their
// Detach().
//
// Errors: polling errors (ring-buffer failures) are returned by PollOnce,
// RunUntil and Detach; a failed WAL append is counted, the batch is not
// forwarded, and Close() reports it. Records dropped at the spill's memory
// bound are counted (counters().records_dropped), never silent.
#ifndef TRACER_AGENT_PIPELINE_NODE_PIPELINE_H_
#define TRACER_AGENT_PIPELINE_NODE_PIPELINE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/capture/event_source.h"
#include "agent/pipeline/record_spill.h"
#include "agent/pipeline/wal_stage.h"
#include "agent/spans/span_builder.h"
#include "storage/wal.h"

namespace tracer::pipeline {

struct NodePipelineOptions {
  // How often the tick given to Attach() is called, about.
  absl::Duration tick_interval = absl::Milliseconds(200);
  // Bytes of raw records the spill may hold; past it records are dropped
  // and counted.
  size_t spill_max_bytes = size_t{1} << 30;
  // When set, every batch is appended to this write-ahead log (synced)
  // before it reaches `sink` (WalStage). nullptr: batches go to `sink`
  // directly.
  storage::Wal* wal = nullptr;
  size_t wal_max_pending_batches = 256;
  // Where batches go last (exporters, the uploader). May be nullptr
  // (batches end at the WAL, or are dropped).
  spans::BatchSink* sink = nullptr;
  // Detach(): the ring buffer is polled (`drain_poll_ms` each) until three
  // polls in a row deliver nothing, at most `drain_max_polls` times (a
  // workload still running cannot hold the drain forever).
  int drain_poll_ms = 5;
  int drain_max_polls = 100;
};

// Totals over every source attached so far.
struct NodePipelineCounters {
  uint64_t polls = 0;             // PollOnce calls (RunUntil and Detach included)
  uint64_t records_in = 0;        // raw records taken from the ring buffers
  uint64_t events = 0;            // events delivered to `events`
  uint64_t socket_events = 0;     // of events: socket-tracker events
  uint64_t records_invalid = 0;   // records that failed to decode (skipped)
  uint64_t records_dropped = 0;   // lost at the spill's memory bound
  uint64_t spill_peak_bytes = 0;  // most bytes the spill held at once
  WalStageCounters wal;           // zero without a WAL
};

class NodePipeline {
 public:
  explicit NodePipeline(NodePipelineOptions options);
  ~NodePipeline();  // Close()s if needed; errors are dropped

  NodePipeline(const NodePipeline&) = delete;
  NodePipeline& operator=(const NodePipeline&) = delete;

  // Where span builders hand their batches: the WAL stage, or `sink` when
  // there is no WAL (then nullptr if `sink` is). Thread-safe (the WAL stage
  // may block when the disk falls behind: back-pressure, not loss).
  spans::BatchSink* batch_sink();

  // Starts taking events from `source` and delivering them, decoded and in
  // ring-buffer order, to `events`; `tick` (may be empty) is called about
  // every tick_interval on the thread that feeds `events`, with
  // CLOCK_MONOTONIC now in ns (e.g. TraceBuilder::Tick). Neither is owned;
  // both must outlive the Detach(). A source already attached is
  // Detach()ed first.
  void Attach(capture::EventSource* source, capture::EventSink* events, TickFn tick = nullptr);
  bool attached() const { return source_ != nullptr; }

  // One poll of the attached source, waiting up to `timeout_ms` for the
  // first record; returns how many records it took (0 with no source).
  // Records taken are visible to the worker when this returns. Errors: the
  // source's (INTERNAL on a ring-buffer failure).
  absl::StatusOr<int> PollOnce(int timeout_ms);

  // Polls (`poll_ms` each) until `done(records_taken_by_that_poll)` returns
  // true (OK) or a poll fails (its error). `done` runs on the polling
  // thread.
  absl::Status RunUntil(const std::function<bool(int polled)>& done, int poll_ms = 2);

  // Drains the attached source (see NodePipelineOptions::drain_*), waits
  // until every record taken was delivered, stops the worker and forgets
  // the source. Returns the first polling error of the drain (everything
  // taken is still delivered). OK with no source.
  absl::Status Detach();

  // Detach(), then appends and forwards every queued batch and stops the
  // WAL writer. Returns the drain's error, else the WAL stage's (how many
  // batches/spans were not stored), else OK. Call once; batch_sink() must
  // not be used afterwards.
  absl::Status Close();

  NodePipelineCounters counters() const;

 private:
  void StopSpill();

  const NodePipelineOptions options_;
  std::unique_ptr<WalStage> wal_stage_;
  capture::EventSource* source_ = nullptr;  // polling thread
  capture::EventSink* events_ = nullptr;
  TickFn tick_;
  std::unique_ptr<RecordSpill> spill_;  // while a raw source is attached
  bool raw_ = true;                     // the attached source has raw records
  bool closed_ = false;

  mutable absl::Mutex mu_;
  NodePipelineCounters done_ ABSL_GUARDED_BY(mu_);  // of detached spills, polls
  RecordSpill* live_spill_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace tracer::pipeline

#endif  // TRACER_AGENT_PIPELINE_NODE_PIPELINE_H_
