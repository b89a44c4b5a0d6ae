#include "agent/protocols/http1/http_flow_tracker.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "otlp/wire/to_message.h"

namespace tracer::http {
namespace {

absl::flat_hash_set<std::string> KeepSet(const std::vector<std::string>& allow,
                                         SensitiveHeaderPolicy policy,
                                         std::vector<std::string> always) {
  absl::flat_hash_set<std::string> keep(always.begin(), always.end());
  for (const std::string& name : allow) {
    std::string lower = absl::AsciiStrToLower(name);
    if (IsSensitiveHeader(lower) && policy == SensitiveHeaderPolicy::kOmit) continue;
    keep.insert(std::move(lower));
  }
  return keep;
}

std::vector<std::string> Lowered(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  out.reserve(names.size());
  for (const std::string& n : names) out.push_back(absl::AsciiStrToLower(n));
  return out;
}

}  // namespace

void HttpSpanSink::OnHttpSpanRecord(uint32_t tgid, const otlp::wire::SpanRecord& span) {
  // On the sink's arena when it has one, else the heap.
  auto* message =
      google::protobuf::Arena::CreateMessage<opentelemetry::proto::trace::v1::Span>(SpanArena());
  otlp::wire::ToMessage(span, message);
  OnHttpSpan(tgid, message);
}

HttpFlowTracker::HttpFlowTracker(HttpFlowOptions options, HttpSpanSink* sink)
    : options_(std::move(options)), sink_(sink), linker_(options_.parent_lookup, options_.id_seed) {
  span_options_.clock = options_.clock;
  span_options_.sensitive_headers = options_.sensitive_headers;
  span_options_.request_headers = Lowered(options_.request_headers);
  span_options_.response_headers = Lowered(options_.response_headers);
  request_keep_ = KeepSet(options_.request_headers, options_.sensitive_headers,
                          {"host", "user-agent", "traceparent", "tracestate"});
  response_keep_ = KeepSet(options_.response_headers, options_.sensitive_headers, {});
}

HttpFlowTracker::~HttpFlowTracker() = default;

Connection* HttpFlowTracker::Find(const capture::ConnectionId& id, bool create) {
  auto it = connections_.find(id.id);
  if (it != connections_.end()) return it->second.get();
  if (!create) return nullptr;
  if (connections_.size() >= options_.max_connections) {
    ++counters_.connections_not_tracked;
    return nullptr;
  }
  ConnectionInfo info;
  info.id = id;
  ConnectionLimits limits;
  limits.max_pending = options_.max_pending_per_connection;
  auto conn = std::make_unique<Connection>(std::move(info), this, &request_keep_, &response_keep_,
                                           limits, &counters_, &parser_stats_);
  Connection* raw = conn.get();
  connections_.emplace(id.id, std::move(conn));
  ++counters_.connections;
  return raw;
}

void HttpFlowTracker::OnSocketOpen(const capture::SocketOpenEvent& e) {
  auto it = connections_.find(e.conn.id);
  if (it != connections_.end()) {
    // Ids are unique per socket; a repeated open replaces the old state.
    it->second->OnClose(e.ts_ns, e.tid);
    connections_.erase(it);
  }
  if (connections_.size() >= options_.max_connections) {
    ++counters_.connections_not_tracked;
    return;
  }
  ConnectionInfo info;
  info.id = e.conn;
  info.role_known = true;
  info.role = e.role;
  info.local = e.local;
  info.remote = e.remote;
  // Without it a Tick() between the open and the first bytes (they may be
  // delivered in different batches) would find the connection idle since
  // boot and forget it, addresses and role with it.
  info.open_ns = e.ts_ns;
  ConnectionLimits limits;
  limits.max_pending = options_.max_pending_per_connection;
  auto conn = std::make_unique<Connection>(std::move(info), this, &request_keep_, &response_keep_,
                                           limits, &counters_, &parser_stats_);
  connections_.emplace(e.conn.id, std::move(conn));
  ++counters_.connections;
}

void HttpFlowTracker::OnSocketData(const capture::SocketDataEvent& e) {
  const bool known = connections_.contains(e.conn.id);
  Connection* c = Find(e.conn, /*create=*/true);
  if (c == nullptr) return;
  if (!known) ++counters_.connections_without_open;
  c->OnData(e);
}

void HttpFlowTracker::OnSocketClose(const capture::SocketCloseEvent& e) {
  auto it = connections_.find(e.conn.id);
  if (it == connections_.end()) return;
  std::unique_ptr<Connection> c = std::move(it->second);
  connections_.erase(it);
  c->OnClose(e.ts_ns, e.tid);
}

void HttpFlowTracker::Tick(uint64_t now_ns) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& c = *it->second;
    c.Tick(now_ns, options_.request_timeout_ns, options_.held_message_idle_ns);
    const bool idle = now_ns >= c.last_activity_ns() &&
                      now_ns - c.last_activity_ns() >= options_.connection_idle_ns;
    if (idle && (c.Quiet() || c.Ignored())) {
      ++counters_.connections_expired;
      connections_.erase(it++);
    } else {
      ++it;
    }
  }
}

void HttpFlowTracker::Finish(uint64_t now_ns) {
  auto all = std::move(connections_);
  connections_.clear();
  for (auto& [id, c] : all) c->OnClose(now_ns, 0);
}

HttpFlowCounters HttpFlowTracker::counters() const {
  HttpFlowCounters c = counters_;
  c.parse_errors = parser_stats_.parse_errors;
  c.gaps = parser_stats_.gaps;
  c.gap_bytes = parser_stats_.gap_bytes;
  c.resyncs = parser_stats_.resyncs;
  return c;
}

SpanIds HttpFlowTracker::ServerIds(const ConnectionInfo& c, const HttpMessage& request,
                                   bool handling) {
  const std::string* traceparent = nullptr;
  int traceparents = 0;
  std::vector<std::string> states;
  for (const auto& [name, value] : request.headers) {
    if (name == "traceparent") {
      ++traceparents;
      traceparent = &value;
    } else if (name == "tracestate") {
      states.push_back(value);
    }
  }
  // W3C Trace Context §3.2: several traceparent headers are invalid.
  const std::string bad;
  if (traceparents > 1) traceparent = &bad;
  const std::string tracestate = absl::StrJoin(states, ",");
  bool invalid = false;
  bool invalid_state = false;
  SpanIds ids = linker_.ForServer(c.id.tgid, request.last_tid, request.start_ns, traceparent,
                                  states.empty() ? nullptr : &tracestate, &invalid, &invalid_state);
  if (invalid) ++counters_.invalid_traceparent;
  if (invalid_state) ++counters_.invalid_tracestate;
  if (handling) linker_.ServerSpanActive(c.id.tgid, request.last_tid, ids);
  return ids;
}

SpanIds HttpFlowTracker::ClientIds(const ConnectionInfo& c, const HttpMessage& request) {
  bool in_server = false;
  SpanIds ids = linker_.ForClient(c.id.tgid, request.first_tid, request.start_ns, &in_server);
  if (in_server) ++counters_.client_spans_in_server;
  return ids;
}

SpanIds HttpFlowTracker::OrphanIds(const ConnectionInfo& c, uint32_t tid, uint64_t ts_ns) {
  return linker_.ForOrphan(c.id.tgid, tid, ts_ns);
}

void HttpFlowTracker::ServerDone(const ConnectionInfo& c, uint32_t tid, const SpanIds& ids) {
  linker_.ServerSpanDone(c.id.tgid, tid, ids.span_id);
}

void HttpFlowTracker::Emit(const ConnectionInfo& c, const ExchangeView& x, const SpanIds& ids) {
  ++counters_.spans;
  if (sink_ == nullptr) return;
  BuildHttpSpanRecord(x, ids, span_options_, record_);
  sink_->OnHttpSpanRecord(c.id.tgid, record_.record());
}

}  // namespace tracer::http
