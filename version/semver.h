// The semantic version of the project's binaries and of the wire protocols
// they speak: the one place it is set. version/version.h adds the build's
// git revision; deploy/oci_image.py reads kVersion from this file to label
// the images.
#ifndef TRACER_VERSION_SEMVER_H_
#define TRACER_VERSION_SEMVER_H_

namespace tracer::version {

// Semantic version (https://semver.org), e.g. "0.1.0".
inline constexpr char kVersion[] = "0.1.0";

}  // namespace tracer::version

#endif  // TRACER_VERSION_SEMVER_H_
