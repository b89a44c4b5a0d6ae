// store_dump: prints every trace in a control plane's embedded store
// (ControlService.ListTraces, limit 1000, then GetTrace each) as one JSON
// GetTraceResponse (proto3 JSON mapping) per line, for the upgrade test's
// exactly-once count. The same output as tests/e2e/control_probe --mode=dump.
// Exit status: 0, or the gRPC status code of the failed call (64: bad flags).
#include <chrono>
#include <iostream>
#include <string>

#include "controlplane/auth/tls.h"
#include "gflags/gflags.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "tracer/v1/control.grpc.pb.h"

DEFINE_string(server, "", "control plane host:port");
DEFINE_string(certs, "", "certificate directory (ca.pem, <user>.pem, <user>.key)");
DEFINE_string(user, "viewer", "certificate file stem in --certs");
DEFINE_int32(timeout_s, 30, "deadline of each call");

namespace {

int Fail(const char* what, const grpc::Status& s) {
  std::cerr << what << ": " << s.error_code() << " " << s.error_message() << "\n";
  return static_cast<int>(s.error_code());
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  auto creds = tracer::auth::ChannelCredentialsFromFiles(
      tracer::auth::TlsFilesInDir(FLAGS_certs, FLAGS_user));
  if (!creds.ok()) {
    std::cerr << creds.status() << "\n";
    return 64;
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  auto stub = tracer::v1::ControlService::NewStub(
      grpc::CreateCustomChannel(FLAGS_server, *creds, args));
  auto deadline = [] {
    return std::chrono::system_clock::now() + std::chrono::seconds(FLAGS_timeout_s);
  };
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline());
  tracer::v1::ListTracesRequest req;
  req.set_limit(1000);
  tracer::v1::ListTracesResponse traces;
  if (grpc::Status s = stub->ListTraces(&ctx, req, &traces); !s.ok()) {
    return Fail("ListTraces", s);
  }
  if (traces.traces_size() >= 1000) std::cerr << "warning: 1000 traces, the list may be cut\n";
  for (const tracer::v1::TraceSummary& t : traces.traces()) {
    grpc::ClientContext tctx;
    tctx.set_deadline(deadline());
    tracer::v1::GetTraceRequest treq;
    treq.set_trace_id(t.trace_id());
    tracer::v1::GetTraceResponse trace;
    if (grpc::Status s = stub->GetTrace(&tctx, treq, &trace); !s.ok()) {
      return Fail("GetTrace", s);
    }
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(trace, &json).ok()) return 13;
    std::cout << json << "\n";
  }
  return 0;
}
