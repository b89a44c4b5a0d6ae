#include "ctl/remote/remote_commands.h"

#include <algorithm>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "ctl/remote/control_client.h"
#include "ctl/remote/waterfall.h"

namespace tracer::ctl::remote {
namespace {

std::string Time(uint64_t unix_nano) {
  if (unix_nano == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixNanos(unix_nano), absl::UTCTimeZone());
}

std::string Ago(uint64_t unix_nano) {
  if (unix_nano == 0) return "never";
  absl::Duration d = absl::Now() - absl::FromUnixNanos(unix_nano);
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  return absl::StrCat(absl::FormatDuration(absl::Trunc(d, absl::Seconds(1))), " ago");
}

std::string StateName(tracer::v1::Session::State s) {
  switch (s) {
    case tracer::v1::Session::ACTIVE:
      return "active";
    case tracer::v1::Session::STOPPED:
      return "stopped";
    case tracer::v1::Session::EXPIRED:
      return "expired";
    default:
      return "unknown";
  }
}

std::string TargetText(const tracer::v1::Target& t) {
  switch (t.kind_case()) {
    case tracer::v1::Target::kPid:
      return absl::StrCat("pid ", t.pid());
    case tracer::v1::Target::kCgroupPath:
      return absl::StrCat("cgroup ", t.cgroup_path());
    case tracer::v1::Target::kComm:
      return absl::StrCat("comm ", t.comm());
    case tracer::v1::Target::kAllProcesses:
      return "all processes";
    case tracer::v1::Target::KIND_NOT_SET:
      return "-";
  }
  return "-";
}

std::string NodesText(const tracer::v1::NodeSelector& n) {
  if (n.all()) return "all";
  if (n.names_size() > 0) return absl::StrJoin(n.names(), ",");
  std::vector<std::string> kv;
  for (const auto& [k, v] : n.labels()) kv.push_back(absl::StrCat(k, "=", v));
  std::sort(kv.begin(), kv.end());
  return absl::StrCat("label ", absl::StrJoin(kv, ","));
}

void PrintSession(const tracer::v1::Session& s, std::ostream& out) {
  out << "session " << s.id() << (s.name().empty() ? "" : absl::StrCat(" (", s.name(), ")"))
      << "\n  state     " << StateName(s.state()) << " (policy version " << s.version() << ")"
      << "\n  nodes     " << NodesText(s.nodes()) << "\n  target    " << TargetText(s.target())
      << "\n  created   " << Time(s.created_unix_nano()) << " UTC by "
      << (s.created_by().empty() ? "-" : s.created_by()) << "\n";
  if (s.stopped_unix_nano() != 0) out << "  stopped   " << Time(s.stopped_unix_nano()) << " UTC\n";
}

std::string HeaderKeys(const tracer::v1::ExporterSpec& e) {
  if (e.headers_size() == 0) return "-";
  std::vector<std::string> keys;
  for (const auto& h : e.headers()) keys.push_back(absl::StrCat(h.key(), "=<redacted>"));
  return absl::StrJoin(keys, ",");
}

std::string ProtocolText(const std::string& protocol) {
  return protocol.empty() ? "grpc" : protocol;
}

void PrintExporter(const tracer::v1::ExporterSpec& e, std::ostream& out) {
  out << "exporter " << e.name() << "\n  protocol  " << ProtocolText(e.protocol())
      << "\n  endpoint  " << e.endpoint() << "\n  headers   " << HeaderKeys(e) << "\n  version   "
      << e.version() << " (" << (e.source().empty() ? "-" : e.source()) << ")\n  created   "
      << Time(e.created_unix_nano()) << " UTC by "
      << (e.created_by().empty() ? "-" : e.created_by()) << "\n";
}

// "unavailable=12 http_503=4", sorted by reason.
std::string FailedByReason(const tracer::v1::ExporterStatus& e) {
  std::vector<std::string> parts;
  for (const auto& [reason, spans] : e.spans_failed_by_reason()) {
    parts.push_back(absl::StrCat(reason, "=", spans));
  }
  std::sort(parts.begin(), parts.end());
  return absl::StrJoin(parts, " ");
}

int Fail(const std::string& what, const absl::Status& s, std::ostream& err) {
  err << "tracectl " << what << ": " << absl::StatusCodeToString(s.code()) << ": " << s.message()
      << "\n";
  return 1;
}

}  // namespace

bool IsRemoteGroup(const std::string& g) {
  return g == "session" || g == "traces" || g == "agents" || g == "exporters" || g == "status";
}

int RunRemoteCommand(const std::string& group, const std::vector<std::string>& args,
                     const EnvLookup& env, std::ostream& out, std::ostream& err) {
  if (group == "session" && !args.empty() && args[0] == "start") {
    auto opts = ParseSessionStart({args.begin() + 1, args.end()}, env);
    if (!opts.ok()) {
      err << "tracectl session start: " << opts.status().message() << "\n";
      return 2;
    }
    if (opts->help) {
      out << RemoteUsage();
      return 0;
    }
    auto client = ControlClient::Dial(opts->connection);
    if (!client.ok()) return Fail("session start", client.status(), err);
    auto s = (*client)->StartSession(opts->request);
    if (!s.ok()) return Fail("session start", s.status(), err);
    out << "started ";
    PrintSession(*s, out);
    return 0;
  }
  auto opts = ParseRemote(group, args, env);
  if (!opts.ok()) {
    err << "tracectl " << group << ": " << opts.status().message() << "\n";
    return 2;
  }
  if (opts->help) {
    out << RemoteUsage();
    return 0;
  }
  const std::string& cmd = opts->command;
  auto dialed = ControlClient::Dial(opts->connection);
  if (!dialed.ok()) return Fail(cmd, dialed.status(), err);
  ControlClient& client = **dialed;

  if (cmd == "session stop") {
    tracer::v1::StopSessionRequest req;
    req.set_session_id(opts->argument);
    auto s = client.StopSession(req);
    if (!s.ok()) return Fail(cmd, s.status(), err);
    out << "stopped ";
    PrintSession(*s, out);
  } else if (cmd == "session list") {
    tracer::v1::ListSessionsRequest req;
    req.set_include_stopped(opts->all);
    auto r = client.ListSessions(req);
    if (!r.ok()) return Fail(cmd, r.status(), err);
    out << absl::StrFormat("%-20s %-8s %-20s %-24s %-20s %s\n", "ID", "STATE", "NAME", "TARGET",
                           "NODES", "CREATED (UTC)");
    for (const auto& s : r->sessions()) {
      out << absl::StrFormat("%-20s %-8s %-20s %-24s %-20s %s\n", s.id(), StateName(s.state()),
                             s.name().empty() ? "-" : s.name(), TargetText(s.target()),
                             NodesText(s.nodes()), Time(s.created_unix_nano()));
    }
  } else if (cmd == "session show") {
    tracer::v1::GetSessionRequest req;
    req.set_session_id(opts->argument);
    auto d = client.GetSession(req);
    if (!d.ok()) return Fail(cmd, d.status(), err);
    PrintSession(d->session(), out);
    out << absl::StrFormat("  %-24s %-24s %-10s %-8s %12s  %s\n", "AGENT", "NODE", "CONNECTED",
                           "APPLIED", "SPANS", "ERROR");
    for (const auto& a : d->agents()) {
      out << absl::StrFormat("  %-24s %-24s %-10s %-8s %12d  %s\n", a.agent_id(), a.node_id(),
                             a.connected() ? "yes" : "no", a.applied() ? "yes" : "no",
                             a.spans_captured(), a.error().empty() ? "-" : a.error());
    }
  } else if (cmd == "traces list") {
    tracer::v1::ListTracesRequest req;
    if (opts->since_ns > 0) {
      req.set_since_unix_nano(absl::ToUnixNanos(absl::Now()) - opts->since_ns);
    }
    req.set_service_name(opts->service);
    req.set_limit(opts->limit);
    auto r = client.ListTraces(req);
    if (!r.ok()) return Fail(cmd, r.status(), err);
    out << absl::StrFormat("%-32s  %-19s  %-16s %-24s %6s %6s %10s\n", "TRACE_ID", "START (UTC)",
                           "SERVICE", "ROOT", "SPANS", "ERRORS", "DURATION");
    for (const auto& t : r->traces()) {
      uint64_t dur =
          t.end_unix_nano() > t.start_unix_nano() ? t.end_unix_nano() - t.start_unix_nano() : 0;
      out << absl::StrFormat("%-32s  %-19s  %-16s %-24s %6d %6d %10s\n",
                             absl::BytesToHexString(t.trace_id()), Time(t.start_unix_nano()),
                             t.root_service(), t.root_name(), t.span_count(), t.error_count(),
                             FormatDuration(dur));
    }
  } else if (cmd == "traces show") {
    tracer::v1::GetTraceRequest req;
    req.set_trace_id(absl::HexStringToBytes(opts->argument));
    auto r = client.GetTrace(req);
    if (!r.ok()) return Fail(cmd, r.status(), err);
    out << RenderWaterfall(*r);
  } else if (cmd == "exporters add") {
    auto e = client.AddExporter(opts->add_exporter);
    if (!e.ok()) return Fail(cmd, e.status(), err);
    out << (opts->add_exporter.replace() ? "added or replaced " : "added ");
    PrintExporter(*e, out);
  } else if (cmd == "exporters remove") {
    tracer::v1::RemoveExporterRequest req;
    req.set_name(opts->argument);
    auto e = client.RemoveExporter(req);
    if (!e.ok()) return Fail(cmd, e.status(), err);
    out << "removed exporter " << e->name() << " (exporters version " << e->version() << ")\n";
  } else if (cmd == "exporters list") {
    auto r = client.ListExporters({});
    if (!r.ok()) return Fail(cmd, r.status(), err);
    out << absl::StrFormat("%-20s %-13s %-40s %7s %-6s %s\n", "NAME", "PROTOCOL", "ENDPOINT",
                           "VERSION", "SOURCE", "HEADERS");
    for (const auto& e : r->exporters()) {
      out << absl::StrFormat("%-20s %-13s %-40s %7d %-6s %s\n", e.name(),
                             ProtocolText(e.protocol()), e.endpoint(), e.version(),
                             e.source().empty() ? "-" : e.source(), HeaderKeys(e));
    }
    out << "(exporters version " << r->version() << ")\n";
  } else if (cmd == "agents list" || cmd == "status") {
    tracer::v1::StatusResponse st;
    if (cmd == "agents list") {
      auto r = client.ListAgents({});
      if (!r.ok()) return Fail(cmd, r.status(), err);
      *st.mutable_agents() = r->agents();
    } else {
      auto r = client.GetStatus({});
      if (!r.ok()) return Fail(cmd, r.status(), err);
      st = *r;
      out << "control plane " << st.controlplane_version() << "\n  queue         "
          << st.queue_records() << " records, " << st.queue_bytes() << " bytes\n  spans stored  "
          << st.spans_stored() << "\n\n";
    }
    out << absl::StrFormat("%-24s %-20s %-9s %-16s %8s %12s %10s %10s %8s\n", "AGENT", "NODE",
                           "CONNECTED", "HEARTBEAT", "POLICY", "WAL_BYTES", "LAG", "DROPS",
                           "SPANS/S");
    for (const auto& a : st.agents()) {
      out << absl::StrFormat("%-24s %-20s %-9s %-16s %8d %12d %10d %10d %8.1f\n", a.agent_id(),
                             a.hello().node_id(), a.connected() ? "yes" : "no",
                             Ago(a.last_heartbeat_unix_nano()), a.policy_version_applied(),
                             a.counters().wal_bytes(), a.counters().upload_lag_records(),
                             a.counters().kernel_drops(), a.counters().spans_per_second());
    }
    if (cmd == "status") {
      out << "\n"
          << absl::StrFormat("%-16s %-40s %10s %10s %10s %10s %10s %-9s\n", "EXPORTER", "ENDPOINT",
                             "SENT", "FAILED", "RETRIED", "DEAD_LTR", "QUEUE_LAG", "CIRCUIT");
      for (const auto& e : st.exporters()) {
        out << absl::StrFormat("%-16s %-40s %10d %10d %10d %10d %10d %-9s\n", e.name(),
                               e.endpoint(), e.spans_sent(), e.spans_failed(), e.spans_retried(),
                               e.spans_dead_lettered(), e.queue_lag_records(), e.circuit_state());
        if (e.spans_failed_by_reason_size() > 0) {
          out << "    failed by reason: " << FailedByReason(e) << "\n";
        }
        if (e.spans_rejected() > 0 || e.queue_dropped_spans() > 0) {
          out << "    rejected by the backend: " << e.spans_rejected()
              << ", dropped by the queue cap: " << e.queue_dropped_spans() << "\n";
        }
        if (!e.last_error().empty()) out << "    last error: " << e.last_error() << "\n";
      }
      if (st.queue_dropped_spans() > 0 || st.queue_rejected_spans() > 0) {
        out << "\nqueue cap: " << st.queue_dropped_spans() << " spans dropped, "
            << st.queue_rejected_spans() << " spans refused since start\n";
      }
    }
  }
  return 0;
}

}  // namespace tracer::ctl::remote
