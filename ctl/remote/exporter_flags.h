// The flags of `tracectl exporters add` (endpoint, protocol, headers,
// TLS files, batching, circuit breaker and retry), checked against the
// bounds the control plane accepts. Private to ctl/remote/.
#ifndef TRACER_CTL_REMOTE_EXPORTER_FLAGS_H_
#define TRACER_CTL_REMOTE_EXPORTER_FLAGS_H_

#include "absl/status/status.h"
#include "ctl/remote/remote_options.h"
#include "tracer/v1/control.pb.h"

namespace tracer::ctl::remote::flags {

// Handles one `exporters add` flag `c` (value in optarg) into `spec` (or
// `*replace` for --replace); false when `c` is not one. A bad value sets
// `*status` (INVALID_ARGUMENT naming the flag); --header-from-env reads
// the variable through `env`.
bool ExporterFlag(int c, const EnvLookup& env, tracer::v1::ExporterSpec* spec, bool* replace,
                  absl::Status* status);

}  // namespace tracer::ctl::remote::flags

#endif  // TRACER_CTL_REMOTE_EXPORTER_FLAGS_H_
