// The version of the project's binaries.
#ifndef TRACER_CTL_VERSION_H_
#define TRACER_CTL_VERSION_H_

namespace tracer::ctl {

// Semantic version of tracectl and the wire protocols it speaks.
inline constexpr char kVersion[] = "0.1.0";

}  // namespace tracer::ctl

#endif  // TRACER_CTL_VERSION_H_
