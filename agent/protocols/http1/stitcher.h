// One tracked connection: protocol detection from its first bytes, its two
// byte streams (requests one way, responses the other) and the in-order
// pairing of responses with requests (RFC 9112 §9.3.2: a server answers
// pipelined requests in the order received).
//
// Pairing keeps one entry per request in a FIFO. Entries also stand for
// things that still expect a response, so a lost or late message never
// shifts the pairing of the ones after it:
//  - a request that timed out (its span was emitted) absorbs the late
//    response if it comes;
//  - a request given up because too many were pending absorbs one response;
//  - a request whose start was lost in a capture gap ("lost requests")
//    absorbs the first response after it, and further ones while they begin
//    before the next captured request began (correct without pipelining;
//    with pipelining after a gap, pairing is best effort).
#ifndef TRACER_AGENT_PROTOCOLS_HTTP1_STITCHER_H_
#define TRACER_AGENT_PROTOCOLS_HTTP1_STITCHER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "agent/capture/socket_events.h"
#include "agent/protocols/http1/flow_counters.h"
#include "agent/protocols/http1/parse.h"
#include "agent/protocols/http1/span.h"
#include "agent/protocols/http1/types.h"

namespace tracer::http {

// What the tracker knows about a connection.
struct ConnectionInfo {
  capture::ConnectionId id;
  bool role_known = false;  // false until an open event or the first bytes say
  capture::SocketRole role = capture::SocketRole::kServer;
  capture::SocketAddress local;
  capture::SocketAddress remote;
  // CLOCK_MONOTONIC ns of the open event; 0 for a connection first seen
  // through its data. The connection's idle clock (last_activity_ns())
  // starts here, so a connection opened but not yet written to is as fresh
  // as its open, not idle since boot.
  uint64_t open_ns = 0;
};

// The tracker side of a connection: trace ids and span emission.
// Called synchronously from Connection methods.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  // Ids for the SERVER span of `request` (its headers, when complete, may
  // carry traceparent). `handling` = the thread is now serving it.
  virtual SpanIds ServerIds(const ConnectionInfo& c, const HttpMessage& request, bool handling) = 0;
  // Ids for the CLIENT span of `request` (its first byte was just written).
  virtual SpanIds ClientIds(const ConnectionInfo& c, const HttpMessage& request) = 0;
  // Ids for a span without a captured request.
  virtual SpanIds OrphanIds(const ConnectionInfo& c, uint32_t tid, uint64_t ts_ns) = 0;
  // Thread `tid` stopped serving the SERVER span `ids`.
  virtual void ServerDone(const ConnectionInfo& c, uint32_t tid, const SpanIds& ids) = 0;
  // A finished exchange.
  virtual void Emit(const ConnectionInfo& c, const ExchangeView& x, const SpanIds& ids) = 0;
};

struct ConnectionLimits {
  size_t max_pending = 16;  // requests awaiting a response
};

// Thread-safety: none (the tracker's thread).
class Connection {
 public:
  // Pointers are not owned and must outlive the connection.
  Connection(ConnectionInfo info, ConnectionHost* host,
             const absl::flat_hash_set<std::string>* request_keep,
             const absl::flat_hash_set<std::string>* response_keep, ConnectionLimits limits,
             HttpFlowCounters* counters, MessageParserStats* parser_stats);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // One data event of this connection, in stream order per direction.
  void OnData(const capture::SocketDataEvent& e);
  // The connection closed at `ts_ns`: messages in progress end, pending
  // requests are emitted as closed before their response.
  void OnClose(uint64_t ts_ns, uint32_t tid);
  // Timeouts: requests without a response started for `timeout_ns` are
  // emitted with status ERROR "timeout"; messages whose end was lost in a
  // gap end after `held_idle_ns` without bytes.
  void Tick(uint64_t now_ns, uint64_t timeout_ns, uint64_t held_idle_ns);

  // No request pending and no message in progress.
  bool Quiet() const;
  // Not HTTP, upgraded or abandoned: bytes are ignored from now on.
  bool Ignored() const { return proto_ != Proto::kUndecided && proto_ != Proto::kHttp; }
  // CLOCK_MONOTONIC ns of the latest open, data or close event seen (the
  // open's ConnectionInfo::open_ns until bytes move); 0 only for a
  // connection created from data before any event was applied.
  uint64_t last_activity_ns() const { return last_activity_ns_; }
  const ConnectionInfo& info() const { return info_; }

 private:
  enum class Proto { kUndecided, kHttp, kNotHttp, kUpgraded, kAbandoned };
  struct Exchange;
  struct Buffered {
    capture::Direction direction;
    std::string data;
    MessageParser::Chunk chunk;  // chunk.data re-pointed at `data` on replay
  };

  // Adapters: which parser is calling.
  class RequestSide : public MessageListener {
   public:
    explicit RequestSide(Connection* c) : c_(c) {}
    void OnMessageBegin(const HttpMessage& m) override { c_->RequestBegin(m); }
    bool OnHeadersComplete(const HttpMessage& m) override { return c_->RequestHeaders(m); }
    void OnMessageEnd(const HttpMessage& m, MessageEnd how) override { c_->RequestEnd(m, how); }
    void OnMessagesLost() override { c_->RequestsLost(); }
    void OnUpgrade() override { c_->request_upgrade_pending_ = true; }

   private:
    Connection* c_;
  };
  class ResponseSide : public MessageListener {
   public:
    explicit ResponseSide(Connection* c) : c_(c) {}
    void OnMessageBegin(const HttpMessage& m) override { c_->ResponseBegin(m); }
    bool OnHeadersComplete(const HttpMessage& m) override { return c_->ResponseHeaders(m); }
    void OnMessageEnd(const HttpMessage& m, MessageEnd how) override { c_->ResponseEnd(m, how); }
    void OnMessagesLost() override { c_->ResponsesLost(); }
    void OnUpgrade() override { c_->SetUpgraded(); }

   private:
    Connection* c_;
  };

  void Detect(const capture::SocketDataEvent& e);
  void Dispatch(capture::Direction d, const MessageParser::Chunk& chunk);
  bool IsRequestDirection(capture::Direction d) const;

  void RequestBegin(const HttpMessage& m);
  bool RequestHeaders(const HttpMessage& m);
  void RequestEnd(const HttpMessage& m, MessageEnd how);
  void RequestsLost();
  void ResponseBegin(const HttpMessage& m);
  bool ResponseHeaders(const HttpMessage& m);
  void ResponseEnd(const HttpMessage& m, MessageEnd how);
  void ResponsesLost();
  void SetUpgraded();

  std::shared_ptr<Exchange> ClaimForResponse(const HttpMessage& response);
  void Remove(const Exchange* ex);
  const SpanIds& EnsureIds(Exchange& ex);
  void EmitRequest(Exchange& ex, const HttpMessage* response,
                   std::optional<MessageEnd> response_end, Anomaly anomaly, uint64_t end_ns);
  void StopServing(Exchange& ex);
  void CheckPendingLimit();

  ConnectionInfo info_;
  ConnectionHost* const host_;
  const ConnectionLimits limits_;
  HttpFlowCounters* const counters_;
  RequestSide request_side_{this};
  ResponseSide response_side_{this};
  MessageParser request_parser_;
  MessageParser response_parser_;

  Proto proto_ = Proto::kUndecided;
  std::vector<Buffered> undecided_;  // chunks held until the protocol is known
  bool request_upgrade_pending_ = false;
  uint64_t last_activity_ns_ = 0;

  std::deque<std::shared_ptr<Exchange>> pending_;
  std::shared_ptr<Exchange> filling_;  // the request being parsed
  std::shared_ptr<Exchange> claimed_;  // the exchange the current response answers
  bool response_in_progress_ = false;
};

}  // namespace tracer::http

#endif  // TRACER_AGENT_PROTOCOLS_HTTP1_STITCHER_H_
