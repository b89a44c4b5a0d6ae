#include "controlplane/metrics/metrics_server.h"

#include <arpa/inet.h>

#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "civetweb.h"
#include "controlplane/metrics/prometheus_text.h"
#include "glog/logging.h"

namespace tracer::metrics {
namespace {

struct HostPort {
  std::string host;  // without brackets
  bool ipv6 = false;
  int port = 0;
};

absl::StatusOr<HostPort> ParseListen(const std::string& listen) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics listen address \"", listen, "\": ", why));
  };
  HostPort hp;
  std::string port;
  if (!listen.empty() && listen[0] == '[') {
    size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return bad("expected [IPV6]:PORT");
    }
    hp.host = listen.substr(1, close - 1);
    hp.ipv6 = true;
    port = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon == 0) return bad("expected HOST:PORT");
    hp.host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (!absl::SimpleAtoi(port, &hp.port) || hp.port < 0 || hp.port > 65535) {
    return bad("bad port");
  }
  if (hp.host == "localhost") {
    hp.host = "127.0.0.1";
  }
  unsigned char addr[16];
  if (inet_pton(hp.ipv6 ? AF_INET6 : AF_INET, hp.host.c_str(), addr) != 1) {
    return bad(hp.ipv6 ? "not an IPv6 literal" : "not an IPv4 literal or localhost");
  }
  return hp;
}

bool IsLoopback(const HostPort& hp) {
  if (hp.ipv6) {
    in6_addr a;
    return inet_pton(AF_INET6, hp.host.c_str(), &a) == 1 && IN6_IS_ADDR_LOOPBACK(&a);
  }
  in_addr a;
  return inet_pton(AF_INET, hp.host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

int LogMessage(const mg_connection*, const char* message) {
  LOG(WARNING) << "metrics server: " << message;
  return 1;
}

}  // namespace

int MetricsServer::Handle(mg_connection* conn, void* self) {
  const mg_request_info* info = mg_get_request_info(conn);
  const bool head = std::strcmp(info->request_method, "HEAD") == 0;
  if (!head && std::strcmp(info->request_method, "GET") != 0) {
    mg_printf(conn,
              "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n"
              "Connection: close\r\n\r\n");
    return 405;
  }
  const std::string body = static_cast<MetricsServer*>(self)->render_();
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            kPrometheusContentType, body.size());
  if (!head) mg_write(conn, body.data(), body.size());
  return 200;
}

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(MetricsServerOptions options,
                                                                    Renderer render) {
  absl::StatusOr<HostPort> hp = ParseListen(options.listen);
  if (!hp.ok()) return hp.status();
  if (!options.allow_non_loopback && !IsLoopback(*hp)) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics listen address \"", options.listen,
                     "\": not loopback (the scrape is unauthenticated; allow other addresses "
                     "explicitly)"));
  }
  static std::once_flag init;
  std::call_once(init, [] { mg_init_library(0); });

  const std::string ports = hp->ipv6 ? absl::StrCat("[", hp->host, "]:", hp->port)
                                     : absl::StrCat(hp->host, ":", hp->port);
  const char* civet_options[] = {
      "listening_ports", ports.c_str(),       "num_threads", "2",    "request_timeout_ms",
      "10000",           "enable_keep_alive", "no",          nullptr};
  std::unique_ptr<MetricsServer> server(new MetricsServer(std::move(render)));
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof callbacks);
  callbacks.log_message = &LogMessage;
  char error[256] = {0};
  mg_init_data init_data;
  std::memset(&init_data, 0, sizeof init_data);
  init_data.callbacks = &callbacks;
  init_data.user_data = server.get();
  init_data.configuration_options = civet_options;
  mg_error_data error_data;
  std::memset(&error_data, 0, sizeof error_data);
  unsigned error_code = 0;
  error_data.code = &error_code;
  error_data.text = error;
  error_data.text_buffer_size = sizeof error;
  server->ctx_ = mg_start2(&init_data, &error_data);
  if (server->ctx_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("metrics server cannot listen on ", options.listen, ": ", error));
  }
  mg_set_request_handler(server->ctx_, "/metrics$", &MetricsServer::Handle, server.get());
  mg_server_port port_info[4];
  std::memset(port_info, 0, sizeof port_info);
  const int n = mg_get_server_ports(server->ctx_, 4, port_info);
  if (n < 1 || port_info[0].port == 0) {
    return absl::UnavailableError(
        absl::StrCat("metrics server on ", options.listen, ": no listening port"));
  }
  server->port_ = port_info[0].port;
  return server;
}

MetricsServer::~MetricsServer() {
  if (ctx_ != nullptr) mg_stop(ctx_);
}

}  // namespace tracer::metrics
