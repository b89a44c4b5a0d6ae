#include "agent/capture/libbpf_status.h"

#include <cerrno>
#include <string>
#include <vector>

#include <unistd.h>

#include "gtest/gtest.h"

namespace tracer::capture {
namespace {

TEST(LibbpfStatusTest, NonNegativeIsOk) {
  EXPECT_TRUE(LibbpfStatus(0, "x").ok());
  EXPECT_TRUE(LibbpfStatus(5, "x").ok());
}

TEST(LibbpfStatusTest, PermissionErrorsSayRootIsNeeded) {
  // EACCES means "not privileged" only when we are not; as root it is the
  // verifier (next test).
  std::vector<int> errors = {EPERM};
  if (geteuid() != 0) errors.push_back(EACCES);
  for (int e : errors) {
    absl::Status st = LibbpfStatus(-e, "load BPF programs");
    EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(std::string(st.message()).find("load BPF programs"), std::string::npos);
    EXPECT_NE(std::string(st.message()).find("root"), std::string::npos);
  }
}

TEST(LibbpfStatusTest, VerifierRejectionAsRootIsInternal) {
  if (geteuid() != 0) GTEST_SKIP() << "only root can tell a verifier EACCES apart";
  absl::Status st = LibbpfStatus(-EACCES, "load BPF programs");
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_NE(std::string(st.message()).find("verifier"), std::string::npos) << st;
}

TEST(LibbpfStatusTest, MissingKernelFeaturesArePreconditions) {
  for (int e : {ENOENT, EOPNOTSUPP, ESRCH, 524}) {
    EXPECT_EQ(LibbpfStatus(-e, "attach").code(), absl::StatusCode::kFailedPrecondition) << e;
  }
}

TEST(LibbpfStatusTest, OtherErrorsAreInternalWithErrnoText) {
  absl::Status st = LibbpfStatus(-EINVAL, "load BPF programs");
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal);
  EXPECT_NE(std::string(st.message()).find("Invalid argument"), std::string::npos) << st;
}

TEST(LibbpfStatusTest, ErrnoVariantReadsErrno) {
  errno = EPERM;
  EXPECT_EQ(LibbpfErrnoStatus("open").code(), absl::StatusCode::kPermissionDenied);
  errno = 0;
  EXPECT_EQ(LibbpfErrnoStatus("open").code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace tracer::capture
