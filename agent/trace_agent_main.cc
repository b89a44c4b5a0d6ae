// trace-agent: the per-node daemon. Captures syscalls of the processes the
// control plane's sessions target, builds spans, makes them durable in the
// WAL (<data_dir>/wal) and uploads them to the control plane
// (DESIGN.md, "Data path" and "Control path").
//
// SIGTERM/SIGINT: stop capture, flush open spans to the WAL, upload what can
// be uploaded within --shutdown_upload_deadline_ms, exit 0; the rest stays in
// the WAL and is uploaded by the next run.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/capture/event_source.h"
#include "agent/daemon/control_client.h"
#include "agent/daemon/node_identity.h"
#include "agent/daemon/session_manager.h"
#include "agent/upload/uploader.h"
#include "auth/tls.h"
#include "gflags/gflags.h"
#include "glog/logging.h"
#include "grpcpp/grpcpp.h"
#include "storage/rocksdb_wal.h"
#include "storage/wal_flags.h"
#include "version/version.h"

DEFINE_string(controlplane, "127.0.0.1:7443", "Control plane address host:port");
DEFINE_string(node_id, "", "Node id (default: /etc/machine-id, else the hostname)");
DEFINE_string(labels, "", "Node labels k=v,k2=v2 for session node selectors");
DEFINE_bool(insecure, false,
            "Plain-text gRPC without certificates; only for a loopback --controlplane");
DEFINE_string(tls_dir, "",
              "Directory with ca.pem and this agent's <name>.pem/<name>.key "
              "(tracectl certs issue agent)");
DEFINE_string(tls_name, "", "Certificate file stem in --tls_dir (default: the node id)");
DEFINE_double(heartbeat_interval, 5.0, "Seconds between heartbeats to the control plane");
DEFINE_int32(shutdown_upload_deadline_ms, 5000,
             "On SIGTERM, how long to keep uploading before exiting");
DEFINE_int32(reconnect_max_backoff_ms, 5000,
             "Longest wait between attempts to reach the control plane (ms)");
DEFINE_uint64(upload_max_in_flight, 64, "WAL records sent and not yet acknowledged, at most");
DEFINE_uint32(ring_buffer_bytes, tracer::capture::kDefaultRingbufBytes,
              "Bytes of each kernel ring buffer (syscall records; socket records of HTTP "
              "sessions too): a power of two of at least 4096. The default (8 MiB) holds "
              "about 80 ms of the fastest rate measured (a traced dd bs=1: ~1.3M records/s "
              "x 80 bytes), 40 times the 2 ms drain interval; a burst beyond it is counted "
              "as dropped records, never silent");
DEFINE_string(health_listen, "",
              "Serve the gRPC health service (grpc.health.v1.Health) on this loopback "
              "host:port for liveness/readiness probes; empty: off. Unauthenticated, so "
              "loopback only");
DEFINE_bool(health_allow_non_loopback, false,
            "Allow a non-loopback --health_listen (e.g. the pod IP for Kubernetes gRPC "
            "probes). The health service tells only SERVING / NOT_SERVING");
DEFINE_string(host_name, "",
              "host.name of the node's spans and the name reported to the control plane "
              "(default: gethostname(); in a pod, pass the node's name)");

namespace {

std::atomic<bool> g_stop{false};
void OnSignal(int) { g_stop.store(true); }

std::string HostName() {
  if (!FLAGS_host_name.empty()) return FLAGS_host_name;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return host;
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("trace-agent --data_dir DIR [--controlplane HOST:PORT] ...");
  gflags::SetVersionString(tracer::version::VersionWithRevision());
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  using namespace tracer;

  const uint32_t ring = FLAGS_ring_buffer_bytes;
  if (ring < 4096 || (ring & (ring - 1)) != 0) {
    std::fprintf(stderr,
                 "trace-agent: --ring_buffer_bytes %u: expected a power of two of at least 4096\n",
                 ring);
    return 2;
  }
  auto wal_options = storage::WalOptionsFromFlags();
  if (!wal_options.ok()) {
    std::fprintf(stderr, "trace-agent: %s\n", std::string(wal_options.status().message()).c_str());
    return 2;
  }
  auto node_id = daemon::ResolveNodeId(FLAGS_node_id);
  if (!node_id.ok()) {
    std::fprintf(stderr, "trace-agent: %s\n", std::string(node_id.status().message()).c_str());
    return 2;
  }
  auto labels = daemon::ParseLabels(FLAGS_labels);
  if (!labels.ok()) {
    std::fprintf(stderr, "trace-agent: %s\n", std::string(labels.status().message()).c_str());
    return 2;
  }

  if (FLAGS_host_name.size() > 253 ||
      std::any_of(FLAGS_host_name.begin(), FLAGS_host_name.end(),
                  [](unsigned char c) { return c <= ' ' || c >= 0x7f; })) {
    std::fprintf(stderr,
                 "trace-agent: --host_name: at most 253 printable characters without spaces\n");
    return 2;
  }

  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds;
  if (FLAGS_insecure) {
    creds = auth::InsecureLoopbackChannelCredentials(FLAGS_controlplane);
  } else if (FLAGS_tls_dir.empty()) {
    creds = absl::InvalidArgumentError(
        "--tls_dir is required (or --insecure for a loopback control plane)");
  } else {
    creds = auth::ChannelCredentialsFromFiles(
        auth::TlsFilesInDir(FLAGS_tls_dir, FLAGS_tls_name.empty() ? *node_id : FLAGS_tls_name));
  }
  if (!creds.ok()) {
    std::fprintf(stderr, "trace-agent: %s\n", std::string(creds.status().message()).c_str());
    return 2;
  }
  // gRPC's own reconnect backoff grows to 120 s, and while a channel waits
  // it fails every call at once: an agent would stay cut off for minutes
  // after a control plane restart. Cap it; the control client and uploader
  // add their own jittered backoff on top. GRPC_ARG_MIN_RECONNECT_BACKOFF_MS
  // stays at its default: gRPC also uses it as the connect (TCP + TLS
  // handshake) timeout, and a short one fails every handshake on a busy host.
  grpc::ChannelArguments channel_args;
  channel_args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  channel_args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, FLAGS_reconnect_max_backoff_ms);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(FLAGS_controlplane, *creds, channel_args);

  auto wal = storage::RocksDbWal::Open(*wal_options);
  if (!wal.ok()) {
    std::fprintf(stderr, "trace-agent: WAL %s: %s\n", wal_options->data_dir.c_str(),
                 std::string(wal.status().message()).c_str());
    return 1;
  }
  upload::UploaderOptions uo;
  uo.max_in_flight = FLAGS_upload_max_in_flight;
  auto uploader = upload::Uploader::Create(wal->get(), channel, uo);
  if (!uploader.ok()) {
    std::fprintf(stderr, "trace-agent: %s\n", std::string(uploader.status().message()).c_str());
    return 1;
  }

  std::atomic<daemon::ControlClient*> client_ptr{nullptr};
  daemon::SessionManagerOptions so;
  so.open_source = [](const capture::CaptureOptions& o) {
    capture::CaptureOptions sized = o;
    sized.ringbuf_bytes = FLAGS_ring_buffer_bytes;
    return capture::OpenBpfEventSource(sized);
  };
  // Every sampled batch is made durable in the WAL before the uploader
  // sees it (the node pipeline's WAL stage).
  so.wal = wal->get();
  so.sink = uploader->get();
  so.host_name = HostName();
  so.on_status_change = [&client_ptr](const tracer::v1::PolicyStatus& st) {
    if (auto* c = client_ptr.load()) c->ReportStatus(st);
  };
  daemon::SessionManager sessions(so);

  std::vector<std::string> caps = {"syscalls"};
  if (access("/sys/kernel/btf/vmlinux", R_OK) == 0) caps.push_back("btf");
  daemon::ControlClientOptions co;
  co.hello = daemon::MakeHello(*node_id, *labels, caps);
  co.hello.set_hostname(HostName());
  co.heartbeat_interval = absl::Seconds(FLAGS_heartbeat_interval);
  co.on_welcome = [up = uploader->get()](const tracer::v1::Welcome& w) {
    up->SetAgentId(w.agent_id());
  };
  co.current_status = [&sessions] { return sessions.StatusSnapshot(); };
  struct Rate {
    absl::Mutex mu;
    uint64_t last_spans = 0;
    absl::Time last = absl::Now();
  };
  auto rate = std::make_shared<Rate>();
  co.counters = [&sessions, up = uploader->get(), w = wal->get(), rate] {
    tracer::v1::AgentCounters c;
    daemon::SessionManagerCounters s = sessions.Counters();
    upload::UploaderCounters u = up->Counters();
    storage::WalStats ws = w->Stats();
    c.set_spans_captured(s.spans_captured);
    c.set_kernel_drops(s.kernel_drops);
    c.set_http_spans(s.http_spans);
    c.set_http_spans_marked(s.http_spans_marked);
    c.set_spans_sampled_out(s.spans_sampled_out);
    c.set_spans_filtered_out(s.spans_filtered_out);
    c.set_wal_records(ws.records);
    c.set_wal_bytes(ws.stored_bytes);
    c.set_wal_dropped_spans(ws.dropped_oldest_spans + s.wal_spans_failed);
    c.set_upload_lag_records(u.lag_records);
    c.set_spans_uploaded(u.spans_uploaded);
    absl::MutexLock l(&rate->mu);
    const absl::Time now = absl::Now();
    const double secs = absl::ToDoubleSeconds(now - rate->last);
    if (secs > 0) {
      c.set_spans_per_second(static_cast<double>(s.spans_captured - rate->last_spans) / secs);
    }
    rate->last = now;
    rate->last_spans = s.spans_captured;
    return c;
  };
  daemon::ControlClient client(channel, co, &sessions);
  client_ptr.store(&client);

  // Health: SERVING while the agent runs; NOT_SERVING once it shuts down.
  std::unique_ptr<grpc::Server> health;
  if (!FLAGS_health_listen.empty()) {
    absl::Status st = FLAGS_health_allow_non_loopback
                          ? absl::OkStatus()
                          : auth::CheckLoopbackAddress(FLAGS_health_listen);
    if (!st.ok()) {
      std::fprintf(stderr, "trace-agent: --health_listen: %s\n", std::string(st.message()).c_str());
      return 2;
    }
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder hb;
    hb.AddListeningPort(FLAGS_health_listen, grpc::InsecureServerCredentials());
    health = hb.BuildAndStart();
    if (!health) {
      std::fprintf(stderr, "trace-agent: --health_listen %s: cannot listen\n",
                   FLAGS_health_listen.c_str());
      return 2;
    }
  }

  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  LOG(INFO) << "trace-agent: node " << *node_id << ", control plane " << FLAGS_controlplane
            << ", WAL " << wal_options->data_dir;
  (*uploader)->Start();
  client.Start();
  while (!g_stop.load()) sessions.RunOnce(100);

  LOG(INFO) << "trace-agent: shutting down";
  if (health) health->GetHealthCheckService()->SetServingStatus(false);
  sessions.Shutdown();  // ends open spans; every batch is in the WAL when it returns
  client_ptr.store(nullptr);
  client.Stop();
  absl::Status up = (*uploader)->WaitForUpload(
      absl::Now() + absl::Milliseconds(FLAGS_shutdown_upload_deadline_ms));
  if (!up.ok()) LOG(WARNING) << "upload: " << up << "; they stay in the WAL for the next run";
  (*uploader)->Stop();
  upload::UploaderCounters uc = (*uploader)->Counters();
  LOG(INFO) << "trace-agent: stopped; " << uc.spans_uploaded << " spans uploaded this run, "
            << uc.lag_records << " WAL records left";
  if (health) health->Shutdown();
  return 0;
}
