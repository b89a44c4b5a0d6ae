#include "agent/protocols/http1/stitcher.h"

#include <algorithm>
#include <utility>

#include "agent/protocols/http1/detect.h"

namespace tracer::http {
namespace {

// Undecided connections: bytes and chunks looked at before giving up.
constexpr size_t kMaxDetectBytes = 16;
constexpr size_t kMaxDetectChunks = 16;

}  // namespace

struct Connection::Exchange {
  enum class Kind {
    kRequest,       // a captured request (or its beginning)
    kLostRequests,  // one or more requests whose start was not captured
    kTimedOut,      // emitted as timed out; absorbs its late response
    kAbandoned,     // emitted as pending_overflow; absorbs one response
  };
  Kind kind = Kind::kRequest;
  HttpMessage request;
  std::optional<MessageEnd> request_end;
  SpanIds ids;
  bool ids_set = false;
  bool serving = false;  // registered as the serving thread's span
  uint32_t serving_tid = 0;
  bool response_started = false;
  bool emitted = false;
  int absorbed = 0;  // kLostRequests: responses taken so far
};

Connection::Connection(ConnectionInfo info, ConnectionHost* host,
                       const absl::flat_hash_set<std::string>* request_keep,
                       const absl::flat_hash_set<std::string>* response_keep,
                       ConnectionLimits limits, HttpFlowCounters* counters,
                       MessageParserStats* parser_stats)
    : info_(std::move(info)),
      host_(host),
      limits_(limits),
      counters_(counters),
      request_parser_(true, request_keep, &request_side_, parser_stats),
      response_parser_(false, response_keep, &response_side_, parser_stats),
      last_activity_ns_(info_.open_ns) {}

bool Connection::IsRequestDirection(capture::Direction d) const {
  const bool server = info_.role == capture::SocketRole::kServer;
  return (d == capture::Direction::kIngress) == server;
}

void Connection::OnData(const capture::SocketDataEvent& e) {
  last_activity_ns_ = std::max(last_activity_ns_, e.end_ns);
  if (Ignored()) return;
  if (proto_ == Proto::kUndecided) {
    Detect(e);
    return;
  }
  Dispatch(e.direction, MessageParser::Chunk{e.data, e.length, e.start_ns, e.end_ns, e.tid});
}

void Connection::Detect(const capture::SocketDataEvent& e) {
  Buffered b;
  b.direction = e.direction;
  // At most kMaxDetectChunks chunks of at most the capture limit each.
  b.data.assign(e.data.data(), e.data.size());
  b.chunk = MessageParser::Chunk{{}, e.length, e.start_ns, e.end_ns, e.tid};
  undecided_.push_back(std::move(b));

  const capture::Direction first = undecided_.front().direction;
  std::string prefix;
  bool cut = false;
  for (const Buffered& u : undecided_) {
    if (u.direction != first) continue;
    prefix += u.data;
    if (u.chunk.length > u.data.size()) {
      cut = true;
      break;
    }
  }
  StartKind kind = ClassifyStart(prefix);
  if (kind == StartKind::kNeedMoreData &&
      (cut || prefix.size() >= kMaxDetectBytes || undecided_.size() >= kMaxDetectChunks)) {
    kind = StartKind::kNotHttp;
  }
  if (kind == StartKind::kNeedMoreData) return;
  if (kind == StartKind::kRequest || kind == StartKind::kResponse) {
    const bool request = kind == StartKind::kRequest;
    if (!info_.role_known) {
      const bool ingress = first == capture::Direction::kIngress;
      info_.role = ingress == request ? capture::SocketRole::kServer : capture::SocketRole::kClient;
      info_.role_known = true;
    } else if (IsRequestDirection(first) != request) {
      kind = StartKind::kNotHttp;  // e.g. a status line written by a client
    }
  }
  if (kind == StartKind::kNotHttp) {
    proto_ = Proto::kNotHttp;
    ++counters_->non_http_connections;
    undecided_.clear();
    return;
  }
  proto_ = Proto::kHttp;
  std::vector<Buffered> held = std::move(undecided_);
  undecided_.clear();
  for (size_t i = 0; i < held.size() && proto_ == Proto::kHttp; ++i) {
    MessageParser::Chunk c = held[i].chunk;
    c.data = held[i].data;
    Dispatch(held[i].direction, c);
  }
}

void Connection::Dispatch(capture::Direction d, const MessageParser::Chunk& chunk) {
  if (proto_ != Proto::kHttp) return;
  if (IsRequestDirection(d)) {
    request_parser_.Feed(chunk);
  } else {
    response_parser_.Feed(chunk);
  }
}

const SpanIds& Connection::EnsureIds(Exchange& ex) {
  if (!ex.ids_set) {
    if (ex.kind != Exchange::Kind::kRequest) {
      ex.ids = host_->OrphanIds(info_, ex.request.first_tid, ex.request.start_ns);
    } else if (info_.role == capture::SocketRole::kServer) {
      ex.ids = host_->ServerIds(info_, ex.request, /*handling=*/false);
    } else {
      ex.ids = host_->ClientIds(info_, ex.request);
    }
    ex.ids_set = true;
  }
  return ex.ids;
}

void Connection::StopServing(Exchange& ex) {
  if (ex.serving) {
    host_->ServerDone(info_, ex.serving_tid, ex.ids);
    ex.serving = false;
  }
}

void Connection::EmitRequest(Exchange& ex, const HttpMessage* response,
                             std::optional<MessageEnd> response_end, Anomaly anomaly,
                             uint64_t end_ns) {
  StopServing(ex);
  ExchangeView x;
  x.role = info_.role;
  x.local = info_.local;
  x.remote = info_.remote;
  x.request = &ex.request;
  x.request_end = ex.request_end;
  x.response = response;
  x.response_end = response_end;
  x.end_ns = end_ns;
  if (anomaly == Anomaly::kNone && ex.request_end && *ex.request_end != MessageEnd::kComplete &&
      *ex.request_end != MessageEnd::kBodyUnknown) {
    anomaly = Anomaly::kRequestIncomplete;
  }
  x.anomaly = anomaly;
  host_->Emit(info_, x, EnsureIds(ex));
  ex.emitted = true;
}

void Connection::Remove(const Exchange* ex) {
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->get() == ex) {
      pending_.erase(it);
      return;
    }
  }
}

void Connection::CheckPendingLimit() {
  if (pending_.size() <= limits_.max_pending) return;
  if (pending_.size() > 2 * limits_.max_pending) {
    // Nothing answers: stop tracking this connection's HTTP.
    for (auto& ex : pending_) {
      if (ex->kind == Exchange::Kind::kRequest && !ex->emitted) {
        EmitRequest(*ex, nullptr, std::nullopt, Anomaly::kPendingOverflow, last_activity_ns_);
      }
    }
    pending_.clear();
    filling_.reset();
    claimed_.reset();
    proto_ = Proto::kAbandoned;
    ++counters_->connections_abandoned;
    return;
  }
  for (auto& ex : pending_) {
    if (ex->kind == Exchange::Kind::kRequest && !ex->response_started && ex != filling_) {
      EmitRequest(*ex, nullptr, std::nullopt, Anomaly::kPendingOverflow, last_activity_ns_);
      ex->kind = Exchange::Kind::kAbandoned;
      ex->request = HttpMessage();
      ++counters_->pending_overflows;
      return;
    }
  }
}

void Connection::RequestBegin(const HttpMessage& m) {
  ++counters_->requests;
  auto ex = std::make_shared<Exchange>();
  ex->request = m;
  if (info_.role == capture::SocketRole::kClient) {
    ex->ids = host_->ClientIds(info_, m);
    ex->ids_set = true;
  }
  filling_ = ex;
  pending_.push_back(std::move(ex));
  CheckPendingLimit();
}

bool Connection::RequestHeaders(const HttpMessage& m) {
  if (filling_ == nullptr || filling_->emitted) return false;
  filling_->request = m;
  if (info_.role == capture::SocketRole::kServer && !filling_->ids_set) {
    filling_->ids = host_->ServerIds(info_, m, /*handling=*/true);
    filling_->ids_set = true;
    filling_->serving = true;
    filling_->serving_tid = m.last_tid;
  }
  return false;
}

void Connection::RequestEnd(const HttpMessage& m, MessageEnd how) {
  if (how != MessageEnd::kComplete) ++counters_->incomplete_messages;
  if (filling_ == nullptr) return;
  if (!filling_->emitted) {
    filling_->request = m;
    filling_->request_end = how;
  }
  filling_.reset();
}

void Connection::RequestsLost() {
  auto ex = std::make_shared<Exchange>();
  ex->kind = Exchange::Kind::kLostRequests;
  pending_.push_back(std::move(ex));
  CheckPendingLimit();
}

std::shared_ptr<Connection::Exchange> Connection::ClaimForResponse(const HttpMessage& response) {
  while (!pending_.empty()) {
    std::shared_ptr<Exchange>& front = pending_.front();
    if (front->kind == Exchange::Kind::kLostRequests && front->absorbed > 0 &&
        pending_.size() > 1 && pending_[1]->kind == Exchange::Kind::kRequest &&
        response.start_ns >= pending_[1]->request.start_ns) {
      // Began after the next captured request: not for the lost ones.
      pending_.pop_front();
      continue;
    }
    return front;
  }
  return nullptr;
}

void Connection::ResponseBegin(const HttpMessage& m) {
  response_in_progress_ = true;
  if (claimed_ != nullptr) return;  // a final response after a 1xx
  claimed_ = ClaimForResponse(m);
  if (claimed_ != nullptr) {
    claimed_->response_started = true;
    StopServing(*claimed_);
  }
}

bool Connection::ResponseHeaders(const HttpMessage& m) {
  const int code = m.status_code;
  if ((code >= 100 && code < 200) || code == 204 || code == 304) return true;
  if (claimed_ != nullptr && claimed_->kind == Exchange::Kind::kRequest) {
    const std::string& method = claimed_->request.method;
    if (method == "HEAD") return true;
    if (method == "CONNECT" && code >= 200 && code < 300) return true;
  }
  return false;
}

void Connection::ResponseEnd(const HttpMessage& m, MessageEnd how) {
  response_in_progress_ = false;
  const int code = m.status_code;
  if (how == MessageEnd::kComplete && code >= 100 && code < 200 && code != 101) {
    ++counters_->informational_responses;  // the final response follows
    return;
  }
  ++counters_->responses;
  if (how != MessageEnd::kComplete) ++counters_->incomplete_messages;
  Anomaly anomaly = Anomaly::kNone;
  if (how == MessageEnd::kHeadersCut || how == MessageEnd::kParseError) {
    anomaly = Anomaly::kResponseIncomplete;
  } else if (how == MessageEnd::kClosed) {
    anomaly = Anomaly::kClosedMidMessage;
    ++counters_->closed_mid_exchange;
  }
  std::shared_ptr<Exchange> ex = std::move(claimed_);
  claimed_.reset();
  bool connect_ok = false;
  if (ex == nullptr || ex->kind == Exchange::Kind::kLostRequests) {
    ExchangeView x;
    x.role = info_.role;
    x.local = info_.local;
    x.remote = info_.remote;
    x.response = &m;
    x.response_end = how;
    x.end_ns = m.end_ns;
    if (ex == nullptr) {
      ++counters_->unmatched_responses;
      x.anomaly = Anomaly::kResponseWithoutRequest;
    } else {
      ++counters_->requests_not_captured;
      ++ex->absorbed;
      x.anomaly = anomaly != Anomaly::kNone ? anomaly : Anomaly::kRequestNotCaptured;
    }
    host_->Emit(info_, x, host_->OrphanIds(info_, m.first_tid, m.start_ns));
  } else if (ex->kind == Exchange::Kind::kRequest) {
    connect_ok = ex->request.method == "CONNECT" && code >= 200 && code < 300;
    if (!ex->emitted) EmitRequest(*ex, &m, how, anomaly, m.end_ns);
    Remove(ex.get());
  } else {
    ++counters_->late_responses;
    Remove(ex.get());
  }
  if (how == MessageEnd::kComplete && (code == 101 || connect_ok)) {
    SetUpgraded();
  } else if (request_upgrade_pending_) {
    // The server did not switch protocols: requests continue.
    request_upgrade_pending_ = false;
    request_parser_.Resume();
  }
}

void Connection::ResponsesLost() {
  // The next response began inside a gap: it answers the oldest request
  // still waiting (responses come in request order).
  for (auto& ex : pending_) {
    if (ex->response_started) continue;
    if (ex->kind == Exchange::Kind::kRequest) {
      ++counters_->responses_not_captured;
      EmitRequest(*ex, nullptr, std::nullopt, Anomaly::kResponseIncomplete, last_activity_ns_);
    }
    Remove(ex.get());
    return;
  }
}

void Connection::SetUpgraded() {
  if (proto_ == Proto::kUpgraded) return;
  proto_ = Proto::kUpgraded;
  ++counters_->upgraded_connections;
  for (auto& ex : pending_) StopServing(*ex);
}

void Connection::OnClose(uint64_t ts_ns, uint32_t tid) {
  last_activity_ns_ = std::max(last_activity_ns_, ts_ns);
  if (proto_ == Proto::kHttp) {
    request_parser_.Close(ts_ns, tid);
    response_parser_.Close(ts_ns, tid);
  }
  for (auto& ex : pending_) {
    StopServing(*ex);
    if (ex->kind != Exchange::Kind::kRequest || ex->emitted) continue;
    ++counters_->closed_mid_exchange;
    const bool mid_request = ex->request_end && *ex->request_end == MessageEnd::kClosed;
    EmitRequest(*ex, nullptr, std::nullopt,
                mid_request ? Anomaly::kClosedMidMessage : Anomaly::kClosedBeforeResponse, ts_ns);
  }
  pending_.clear();
  filling_.reset();
  claimed_.reset();
}

void Connection::Tick(uint64_t now_ns, uint64_t timeout_ns, uint64_t held_idle_ns) {
  if (proto_ != Proto::kHttp) return;
  request_parser_.ExpireHeld(now_ns, held_idle_ns);
  response_parser_.ExpireHeld(now_ns, held_idle_ns);
  for (auto& ex : pending_) {
    if (ex->kind != Exchange::Kind::kRequest || ex->response_started || ex->emitted) continue;
    if (now_ns < ex->request.start_ns || now_ns - ex->request.start_ns < timeout_ns) continue;
    ++counters_->timeouts;
    EmitRequest(*ex, nullptr, std::nullopt, Anomaly::kTimeout, now_ns);
    ex->kind = Exchange::Kind::kTimedOut;
    if (ex != filling_) ex->request = HttpMessage();
  }
}

bool Connection::Quiet() const {
  return pending_.empty() && !request_parser_.InMessage() && !response_parser_.InMessage();
}

}  // namespace tracer::http
