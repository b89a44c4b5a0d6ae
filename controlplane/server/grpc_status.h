// absl::Status -> grpc::Status (same code and message).
#ifndef TRACER_CONTROLPLANE_SERVER_GRPC_STATUS_H_
#define TRACER_CONTROLPLANE_SERVER_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace tracer::controlplane {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace tracer::controlplane

#endif  // TRACER_CONTROLPLANE_SERVER_GRPC_STATUS_H_
