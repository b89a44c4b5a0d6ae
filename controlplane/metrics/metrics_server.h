// MetricsServer: serves GET /metrics (Prometheus text format 0.0.4) over
// plain HTTP/1.1 with civetweb, the packaged embeddable HTTP server.
// Every scrape calls the caller's renderer; nothing is cached.
#ifndef TRACER_CONTROLPLANE_METRICS_METRICS_SERVER_H_
#define TRACER_CONTROLPLANE_METRICS_METRICS_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct mg_context;
struct mg_connection;

namespace tracer::metrics {

struct MetricsServerOptions {
  // "HOST:PORT" with an IPv4 literal, "localhost" or a bracketed IPv6
  // literal ("[::1]:9464"); port 0 picks a free one (see port()).
  std::string listen;
  // The scrape is unauthenticated: by default only loopback hosts
  // (127.0.0.0/8, ::1, localhost) are accepted. True allows any address
  // (e.g. a Kubernetes pod IP for a Prometheus scraper).
  bool allow_non_loopback = false;
};

// Thread-safety: the renderer runs on civetweb's worker threads (up to 2 at
// a time) and must be thread-safe; port() may be called from any thread.
class MetricsServer {
 public:
  // Returns the exposition text for one scrape.
  using Renderer = std::function<std::string()>;

  // Starts listening. Errors: INVALID_ARGUMENT for a malformed or (without
  // allow_non_loopback) non-loopback address; UNAVAILABLE when civetweb
  // cannot listen (port taken, with its message).
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(MetricsServerOptions options,
                                                              Renderer render);

  // Stops the server, waiting for running scrapes.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port listened on.
  int port() const { return port_; }

 private:
  explicit MetricsServer(Renderer render) : render_(std::move(render)) {}
  static int Handle(mg_connection* conn, void* self);

  Renderer render_;
  mg_context* ctx_ = nullptr;
  int port_ = 0;
};

}  // namespace tracer::metrics

#endif  // TRACER_CONTROLPLANE_METRICS_METRICS_SERVER_H_
