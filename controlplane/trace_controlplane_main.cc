// trace-controlplane: the central control plane daemon (DESIGN.md, "Control
// path", "Data path"). Serves AgentService and ControlService over mutual
// TLS (or plain text on loopback with --insecure), keeps the durable queue,
// the embedded trace store, the sessions and the exporters under --data_dir,
// delivers every queued span to each exporter (stored ones, --exporters_config,
// --otlp_endpoint and the OTEL_EXPORTER_OTLP_* variables), serves /metrics on
// --metrics_listen, answers the gRPC health service, and on SIGTERM/SIGINT
// stops accepting calls, moves every queued record into the store, lets the
// exporters drain for --export_drain_ms and exits 0.
#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "auth/tls.h"
#include "controlplane/exporters/startup_exporters.h"
#include "controlplane/metrics/metrics_server.h"
#include "controlplane/metrics/status_metrics.h"
#include "controlplane/server/controlplane.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "otlp/config.h"
#include "otlp/resource_env.h"
#include "storage/wal_flags.h"
#include "version/semver.h"
#include "version/version.h"

DECLARE_string(data_dir);  // //storage:wal_flags

DEFINE_string(listen, "127.0.0.1:7443", "gRPC listen address host:port");
DEFINE_bool(insecure, false, "Plain text without certificates; only for a loopback --listen");
DEFINE_string(tls_dir, "",
              "Certificate directory (tracectl certs init|issue): ca.pem, "
              "<tls_name>.pem, <tls_name>.key");
DEFINE_string(tls_name, "server", "Name of the server certificate in --tls_dir");
DEFINE_uint64(store_max_age_s, 7 * 24 * 3600,
              "Embedded trace store: delete spans older than this (s); 0 = keep");
DEFINE_uint64(store_max_bytes, uint64_t{10} << 30,
              "Embedded trace store: delete the oldest spans above this size "
              "(bytes); 0 = no limit");
DEFINE_uint64(store_retention_interval_s, 60, "How often retention runs (s)");
DEFINE_uint64(shutdown_grace_ms, 5000,
              "On SIGTERM, how long open calls may finish before they are "
              "cancelled (ms)");
DEFINE_string(exporters_config, "",
              "JSON file of OTLP exporters started with the daemon: "
              "{\"exporters\": [{\"name\": \"tempo\", \"protocol\": \"grpc\", "
              "\"endpoint\": \"https://tempo:4317\", \"headers\": [{\"key\": "
              "\"authorization\", \"value\": \"${TEMPO_TOKEN}\"}]}]} (fields of "
              "tracer.v1.ExporterSpec; \"${VAR}\" header values come from the "
              "environment). Not stored: edit the file and restart to change them");
DEFINE_string(otlp_endpoint, "",
              "Endpoint of the exporter named \"default\" (overrides "
              "OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, which also create it; the other "
              "OTEL_EXPORTER_OTLP_* variables apply)");
DEFINE_string(otlp_protocol, "",
              "Protocol of the \"default\" exporter: grpc, http/protobuf or "
              "http/json (default: OTEL_EXPORTER_OTLP_PROTOCOL, else grpc)");
DEFINE_uint64(export_drain_ms, 5000,
              "On SIGTERM, how long exporters may deliver what is queued before "
              "they stop (ms); the rest is sent after the next start");
DEFINE_string(metrics_listen, "",
              "Serve Prometheus /metrics on this HOST:PORT (e.g. 127.0.0.1:9464); "
              "empty = off. Loopback only unless --metrics_allow_non_loopback");
DEFINE_bool(metrics_allow_non_loopback, false,
            "Allow a non-loopback --metrics_listen (the scrape is unauthenticated)");

namespace {

int Run() {
  using tracer::controlplane::ControlPlane;
  using tracer::controlplane::ControlPlaneOptions;
  absl::StatusOr<tracer::storage::WalOptions> wal = tracer::storage::WalOptionsFromFlags();
  if (!wal.ok()) {
    LOG(ERROR) << wal.status();
    return 2;
  }
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (FLAGS_insecure) {
    auto insecure = tracer::auth::InsecureLoopbackServerCredentials(FLAGS_listen);
    if (!insecure.ok()) {
      LOG(ERROR) << insecure.status();
      return 2;
    }
    creds = *insecure;
  } else {
    if (FLAGS_tls_dir.empty()) {
      LOG(ERROR) << "--tls_dir is required (or --insecure on loopback)";
      return 2;
    }
    auto tls = tracer::auth::ServerCredentialsFromFiles(
        tracer::auth::TlsFilesInDir(FLAGS_tls_dir, FLAGS_tls_name));
    if (!tls.ok()) {
      LOG(ERROR) << tls.status();
      return 2;
    }
    creds = *tls;
  }

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ControlPlaneOptions options;
  const tracer::otlp::EnvLookup env = tracer::otlp::ProcessEnv();
  if (!FLAGS_exporters_config.empty()) {
    auto specs = tracer::controlplane::LoadExportersFile(FLAGS_exporters_config, env);
    if (!specs.ok()) {
      LOG(ERROR) << "--exporters_config: " << specs.status();
      return 2;
    }
    for (tracer::v1::ExporterSpec& spec : *specs) {
      spec.set_source(std::string(tracer::controlplane::kConfigSource));
      options.startup_exporters.push_back(std::move(spec));
    }
  }
  auto default_exporter =
      tracer::controlplane::DefaultExporter({FLAGS_otlp_endpoint, FLAGS_otlp_protocol}, env);
  if (!default_exporter.ok()) {
    LOG(ERROR) << "default exporter: " << default_exporter.status();
    return 2;
  }
  if (default_exporter->has_value()) {
    options.startup_exporters.push_back(**default_exporter);
  }
  tracer::otlp::EnvResource resource = tracer::otlp::ResourceAttributesFromEnv(env);
  if (!resource.discarded.ok()) {
    LOG(WARNING) << resource.discarded << " (ignored as a whole)";
  }
  options.resource_attributes = std::move(resource.attributes);
  options.export_drain = absl::Milliseconds(static_cast<int64_t>(FLAGS_export_drain_ms));
  options.data_dir = FLAGS_data_dir;
  options.queue = *wal;
  options.store.max_age = absl::Seconds(static_cast<int64_t>(FLAGS_store_max_age_s));
  options.store.max_bytes = FLAGS_store_max_bytes;
  options.retention_every = absl::Seconds(static_cast<int64_t>(FLAGS_store_retention_interval_s));
  absl::StatusOr<std::unique_ptr<ControlPlane>> cp = ControlPlane::Open(std::move(options));
  if (!cp.ok()) {
    LOG(ERROR) << "cannot open the control plane: " << cp.status();
    return 1;
  }
  std::unique_ptr<tracer::metrics::MetricsServer> metrics;
  if (!FLAGS_metrics_listen.empty()) {
    ControlPlane* raw = cp->get();
    auto started = tracer::metrics::MetricsServer::Start(
        {FLAGS_metrics_listen, FLAGS_metrics_allow_non_loopback},
        [raw] { return tracer::metrics::RenderStatusMetrics(raw->Status()); });
    if (!started.ok()) {
      LOG(ERROR) << "--metrics_listen: " << started.status();
      return 2;
    }
    metrics = std::move(*started);
    LOG(INFO) << "metrics on http://" << FLAGS_metrics_listen << "/metrics (port "
              << metrics->port() << ")";
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(FLAGS_listen, creds, &port);
  // Room for a 16 MiB upload batch plus its envelope; larger ones are
  // refused by gRPC (RESOURCE_EXHAUSTED) before they are read.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(tracer::controlplane::kMaxUploadBatchBytes + (64 << 10)));
  builder.RegisterService((*cp)->agent_service());
  builder.RegisterService((*cp)->control_service());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    LOG(ERROR) << "cannot listen on " << FLAGS_listen;
    return 1;
  }
  LOG(INFO) << "trace-controlplane " << tracer::version::kVersion << " serving on " << FLAGS_listen
            << " (port " << port << ")"
            << (FLAGS_insecure ? " INSECURE (plain text, loopback only)" : "");

  int signal = 0;
  sigwait(&stop_signals, &signal);
  LOG(INFO) << "signal " << signal << ": shutting down";
  server->GetHealthCheckService()->SetServingStatus(false);
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(FLAGS_shutdown_grace_ms));
  server->Wait();
  metrics.reset();
  (*cp)->Shutdown();
  cp->reset();
  LOG(INFO) << "stopped";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(
      "trace-controlplane --data_dir=DIR (--tls_dir=DIR | --insecure) "
      "[--listen=127.0.0.1:7443] [--exporters_config=FILE] "
      "[--otlp_endpoint=URL [--otlp_protocol=P]] [--metrics_listen=127.0.0.1:9464]");
  gflags::SetVersionString(tracer::version::VersionWithRevision());
  FLAGS_logtostderr = true;
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  google::InitGoogleLogging(argv[0]);
  return Run();
}
