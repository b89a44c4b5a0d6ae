// Test helpers for daemons' gRPC health service (grpc.health.v1.Health),
// without generating the health proto: the request is empty and the
// response is decoded by hand.
#ifndef TRACER_TESTS_TESTING_GRPC_HEALTH_H_
#define TRACER_TESTS_TESTING_GRPC_HEALTH_H_

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/client_unary_call.h"

namespace tracer::testing {

// A loopback TCP port that was free a moment ago.
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// The serialized HealthCheckResponse{status: SERVING}: field 1, varint 1.
inline const std::string& kHealthServing() {
  static const std::string s("\x08\x01", 2);
  return s;
}

// grpc.health.v1.Health/Check with an empty request on `channel`; the raw
// HealthCheckResponse bytes, or "" on error.
inline std::string HealthCheck(const std::shared_ptr<grpc::Channel>& channel) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::Status status = grpc::internal::BlockingUnaryCall(
      channel.get(),
      grpc::internal::RpcMethod("/grpc.health.v1.Health/Check",
                                grpc::internal::RpcMethod::NORMAL_RPC),
      &ctx, request, &response);
  if (!status.ok()) return "";
  std::vector<grpc::Slice> slices;
  response.Dump(&slices);
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// Polls `address` (insecure, loopback) for up to `tries` × 100 ms until the
// health service answers; returns its last answer ("" if none).
inline std::string WaitForHealth(const std::string& address, int tries = 100) {
  std::string health;
  for (int i = 0; i < tries && health.empty(); ++i) {
    // A fresh channel per attempt: a refused connection would otherwise put
    // the channel into reconnect backoff.
    health = HealthCheck(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    if (health.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return health;
}

}  // namespace tracer::testing

#endif  // TRACER_TESTS_TESTING_GRPC_HEALTH_H_
