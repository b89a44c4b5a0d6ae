// control_probe: a test client for the control plane's ControlService that
// does what tracectl deliberately cannot, so the end-to-end tests can look at
// raw results and send requests tracectl would refuse to build:
//
//   --mode=dump           every stored trace (ListTraces, limit 1000, then
//                         GetTrace each), one GetTraceResponse per line as
//                         protobuf JSON (ids base64, as proto3 JSON says).
//   --mode=start_session  StartSession with --session (a tracer.v1.Session in
//                         protobuf text format), unvalidated.
//   --mode=raw            a unary call of --method with a request body of raw
//                         bytes: --hex, or --fill_bytes N bytes of 0xff.
//
// Connection: --server HOST:PORT and --certs DIR --user NAME (mutual TLS,
// files from `tracectl certs`), or --insecure for loopback.
// Output: start_session and raw print "CODE_NAME: message" on stdout.
// Exit status: the gRPC status code of the (last) call, 0 when OK; 64 for a
// usage error.
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "auth/tls.h"
#include "gflags/gflags.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "tracer/v1/control.grpc.pb.h"

DEFINE_string(server, "127.0.0.1:7443", "control plane HOST:PORT");
DEFINE_string(certs, "", "certificate directory (ca.pem, USER.pem, USER.key)");
DEFINE_string(user, "admin", "certificate name in --certs");
DEFINE_bool(insecure, false, "plain text (loopback only)");
DEFINE_string(mode, "dump", "dump | start_session | raw");
DEFINE_string(session, "", "start_session: tracer.v1.Session in text format");
DEFINE_string(method, "", "raw: full method name, e.g. /tracer.v1.ControlService/GetTrace");
DEFINE_string(hex, "", "raw: request body as hex");
DEFINE_uint64(fill_bytes, 0, "raw: request body of this many 0xff bytes (instead of --hex)");
DEFINE_int32(timeout_s, 20, "deadline of each call (s)");

namespace {

using tracer::v1::ControlService;

int Report(const grpc::Status& s) {
  std::cout << absl::StatusCodeToString(static_cast<absl::StatusCode>(s.error_code())) << ": "
            << s.error_message() << std::endl;
  return s.error_code();
}

void SetDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(FLAGS_timeout_s));
}

int Dump(ControlService::Stub* stub) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  tracer::v1::ListTracesRequest req;
  req.set_limit(1000);
  tracer::v1::ListTracesResponse traces;
  grpc::Status s = stub->ListTraces(&ctx, req, &traces);
  if (!s.ok()) {
    std::cerr << "ListTraces: ";
    std::cerr.flush();
    return Report(s);
  }
  if (traces.traces_size() >= 1000) std::cerr << "warning: 1000 traces, the list may be cut\n";
  for (const tracer::v1::TraceSummary& t : traces.traces()) {
    grpc::ClientContext tctx;
    SetDeadline(&tctx);
    tracer::v1::GetTraceRequest treq;
    treq.set_trace_id(t.trace_id());
    tracer::v1::GetTraceResponse trace;
    s = stub->GetTrace(&tctx, treq, &trace);
    if (!s.ok()) {
      std::cerr << "GetTrace " << absl::BytesToHexString(t.trace_id()) << ": ";
      return Report(s);
    }
    std::string json;
    google::protobuf::util::JsonPrintOptions o;
    o.preserve_proto_field_names = false;
    if (!google::protobuf::util::MessageToJsonString(trace, &json, o).ok()) return 13;
    std::cout << json << "\n";
  }
  std::cout.flush();
  return 0;
}

int StartSession(ControlService::Stub* stub) {
  tracer::v1::StartSessionRequest req;
  if (!google::protobuf::TextFormat::ParseFromString(FLAGS_session, req.mutable_session())) {
    std::cerr << "--session: not a tracer.v1.Session in text format\n";
    return 64;
  }
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  tracer::v1::Session resp;
  return Report(stub->StartSession(&ctx, req, &resp));
}

int Raw(const std::shared_ptr<grpc::Channel>& channel) {
  std::string body;
  if (FLAGS_fill_bytes > 0) {
    body.assign(FLAGS_fill_bytes, '\xff');
  } else {
    body = absl::HexStringToBytes(FLAGS_hex);
  }
  grpc::Slice slice(body);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status result;
  stub.UnaryCall(&ctx, FLAGS_method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
    std::lock_guard<std::mutex> l(mu);
    result = std::move(s);
    done = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return done; });
  return Report(result);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds;
  if (FLAGS_insecure) {
    creds = tracer::auth::InsecureLoopbackChannelCredentials(FLAGS_server);
  } else {
    creds = tracer::auth::ChannelCredentialsFromFiles(
        tracer::auth::TlsFilesInDir(FLAGS_certs, FLAGS_user));
  }
  if (!creds.ok()) {
    std::cerr << creds.status() << "\n";
    return 64;
  }
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(FLAGS_server, *creds, args);
  if (FLAGS_mode == "raw") return Raw(channel);
  auto stub = ControlService::NewStub(channel);
  if (FLAGS_mode == "dump") return Dump(stub.get());
  if (FLAGS_mode == "start_session") return StartSession(stub.get());
  std::cerr << "--mode: expected dump, start_session or raw\n";
  return 64;
}
