#include "agent/protocols/http1/testing/flow_testing.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tracer::http::testing {

std::optional<std::string> Attr(const opentelemetry::proto::trace::v1::Span& span,
                                std::string_view key) {
  for (const auto& kv : span.attributes()) {
    if (kv.key() != key) continue;
    const auto& v = kv.value();
    if (v.has_array_value()) {
      std::vector<std::string> parts;
      for (const auto& e : v.array_value().values()) parts.push_back(e.string_value());
      return absl::StrJoin(parts, ",");
    }
    switch (v.value_case()) {
      case opentelemetry::proto::common::v1::AnyValue::kIntValue:
        return absl::StrCat(v.int_value());
      case opentelemetry::proto::common::v1::AnyValue::kDoubleValue:
        return absl::StrCat(v.double_value());
      case opentelemetry::proto::common::v1::AnyValue::kBoolValue:
        return v.bool_value() ? "true" : "false";
      default:
        return v.string_value();
    }
  }
  return std::nullopt;
}

capture::SocketAddress Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  capture::SocketAddress s;
  s.family = capture::SocketAddress::Family::kIpv4;
  s.addr[0] = a;
  s.addr[1] = b;
  s.addr[2] = c;
  s.addr[3] = d;
  s.port = port;
  return s;
}

ScriptedConnection::ScriptedConnection(HttpFlowTracker* tracker, uint64_t id,
                                       capture::SocketRole role, uint32_t tgid, uint32_t tid)
    : tracker_(tracker), role_(role), tid_(tid) {
  id_.tgid = tgid;
  id_.fd = static_cast<int32_t>(id % 1000 + 3);
  id_.id = id;
}

void ScriptedConnection::Open() {
  capture::SocketOpenEvent e;
  e.conn = id_;
  e.tid = tid_;
  e.role = role_;
  const auto server = Ipv4(127, 0, 0, 1, 8080);
  const auto client = Ipv4(127, 0, 0, 1, 40000);
  e.local = role_ == capture::SocketRole::kServer ? server : client;
  e.remote = role_ == capture::SocketRole::kServer ? client : server;
  e.ts_ns = now_ns;
  tracker_->OnSocketOpen(e);
}

void ScriptedConnection::Data(capture::Direction d, std::string_view bytes, size_t capture_limit,
                              uint32_t tid) {
  DataCounted(d, bytes.substr(0, std::min(bytes.size(), capture_limit)), bytes.size(), tid);
}

void ScriptedConnection::DataCounted(capture::Direction d, std::string_view captured,
                                     uint64_t length, uint32_t tid) {
  now_ns += 1000;
  capture::SocketDataEvent e;
  e.conn = id_;
  e.tid = tid != 0 ? tid : tid_;
  e.direction = d;
  e.syscall_nr = d == capture::Direction::kEgress ? 1 : 0;
  e.start_ns = now_ns;
  e.end_ns = now_ns + 500;
  e.length = length;
  // A copy with its own storage, like the ring-buffer record.
  std::string copy(captured);
  e.data = copy;
  last_start_ns = e.start_ns;
  last_end_ns = e.end_ns;
  tracker_->OnSocketData(e);
}

void ScriptedConnection::Close() {
  now_ns += 1000;
  capture::SocketCloseEvent e;
  e.conn = id_;
  e.tid = tid_;
  e.ts_ns = now_ns;
  tracker_->OnSocketClose(e);
}

}  // namespace tracer::http::testing
