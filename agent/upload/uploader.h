// Uploader: ships the agent's write-ahead log to the control plane on
// AgentService.Upload (proto/tracer/v1/agent.proto) and acknowledges records
// in the WAL once the control plane has durably stored them (DESIGN.md,
// "Data path": batch seq N -> ack N -> WAL trim).
//
// Protocol: one UploadRequest{agent_id, seq = WAL seq, batch = the stored
// payload (a serialized ExportTraceServiceRequest), span_count} per WAL
// record, in seq order, with at most `max_in_flight` records sent and not yet
// acknowledged. Every UploadAck{seq} marks that record done; the WAL cursor
// (consumer kConsumerName) moves over the longest acknowledged prefix of what
// was sent, so an ack that arrives out of order never acknowledges a record
// still in flight. When the stream breaks (any error, or the server ends it)
// the uploader reconnects with exponential backoff and full jitter and
// resends every record after the cursor; the control plane recognises
// duplicates by (agent_id, seq) and acks them again (duplicate = true), which
// is harmless here.
#ifndef TRACER_AGENT_UPLOAD_UPLOADER_H_
#define TRACER_AGENT_UPLOAD_UPLOADER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/spans/span_builder.h"
#include "grpcpp/grpcpp.h"
#include "storage/wal.h"
#include "tracer/v1/agent.grpc.pb.h"

namespace tracer::upload {

// The WAL consumer the uploader reads and acknowledges.
inline constexpr char kConsumerName[] = "upload";

struct UploaderOptions {
  // Records sent on the stream and not yet acknowledged, at most (>= 1).
  size_t max_in_flight = 64;
  // Payload bytes per WAL read (the first record is always read whole).
  size_t max_read_bytes = size_t{4} << 20;
  // Reconnect backoff: the n-th consecutive failure waits a uniformly random
  // time in [0, min(max_backoff, initial_backoff * 2^n)] ("full jitter").
  // A stream that got at least one ack resets n.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(10);
  // How often an idle uploader looks at the WAL for new records when nobody
  // calls Notify().
  absl::Duration poll_interval = absl::Milliseconds(200);
};

// Counters since construction (snapshot).
struct UploaderCounters {
  uint64_t records_sent = 0;     // UploadRequests written (resends included)
  uint64_t records_acked = 0;    // distinct records acknowledged
  uint64_t spans_uploaded = 0;   // span_count of those records
  uint64_t duplicate_acks = 0;   // acks with duplicate = true
  uint64_t connects = 0;         // streams opened
  uint64_t stream_failures = 0;  // streams that ended with an error
  uint64_t acked_seq = 0;        // the WAL cursor (highest acked prefix)
  uint64_t lag_records = 0;      // WAL records after the cursor
  uint64_t lag_bytes = 0;
};

// Runs one background thread (plus a reader per stream). Thread-safe: every
// public method may be called from any thread. Does not own `wal`, which must
// outlive the uploader; owns its stub.
class Uploader : public spans::BatchSink {
 public:
  // Registers the WAL consumer kConsumerName (cursor at the oldest record if
  // new, so nothing stored before the first run is skipped). Does not start.
  // Errors: the WAL's.
  static absl::StatusOr<std::unique_ptr<Uploader>> Create(storage::Wal* wal,
                                                          std::shared_ptr<grpc::Channel> channel,
                                                          UploaderOptions options);

  ~Uploader() override;  // Stop()s

  // The agent id from the control plane's Welcome. Nothing is sent before
  // an id is set; a changed id applies from the next stream.
  void SetAgentId(const std::string& agent_id);

  // Starts the background thread. Call once.
  void Start();

  // Wakes the uploader: new records are in the WAL.
  void Notify();

  // BatchSink: put this after pipeline::WalStage; a batch arriving here is
  // already in the WAL, so this only calls Notify().
  void OnBatch(std::shared_ptr<const spans::SpanBatch> batch) override;

  // Waits until every record in the WAL at call time is acknowledged, or the
  // deadline passes. Returns OK when caught up, DEADLINE_EXCEEDED with the
  // remaining lag otherwise (the records stay in the WAL for the next run).
  absl::Status WaitForUpload(absl::Time deadline);

  // Stops the thread and cancels the stream; unacked records stay in the
  // WAL. Idempotent.
  void Stop();

  UploaderCounters Counters() const;

 private:
  Uploader(storage::Wal* wal, std::shared_ptr<grpc::Channel> channel, UploaderOptions options);
  void Run();
  // One stream from open to break. Returns whether any ack arrived.
  bool RunStream(const std::string& agent_id);
  // Records the ack of `seq`, moves the WAL cursor over the acked prefix.
  void HandleAck(const tracer::v1::UploadAck& ack);

  storage::Wal* const wal_;
  const std::unique_ptr<tracer::v1::AgentService::Stub> stub_;
  const UploaderOptions options_;

  mutable absl::Mutex mu_;
  std::string agent_id_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* active_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Sent and not yet covered by the cursor: seq -> (span_count, acked).
  struct InFlight {
    uint32_t spans = 0;
    bool acked = false;
  };
  std::map<uint64_t, InFlight> in_flight_ ABSL_GUARDED_BY(mu_);
  bool stream_broken_ ABSL_GUARDED_BY(mu_) = false;
  UploaderCounters counters_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace tracer::upload

#endif  // TRACER_AGENT_UPLOAD_UPLOADER_H_
