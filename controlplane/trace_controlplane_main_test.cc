// Runs the real trace-controlplane binary (insecure, loopback): the gRPC
// health service answers SERVING, and SIGTERM ends it with exit status 0.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/impl/codegen/client_unary_call.h"
#include "gtest/gtest.h"
#include "storage/testing/temp_dir.h"
#include "tests/testing/grpc_health.h"

namespace {

using tracer::testing::FreePort;
using tracer::testing::kHealthServing;
using tracer::testing::WaitForHealth;

TEST(TraceControlplaneMainTest, HealthServingThenSigtermExitsZero) {
  tracer::storage::testing::TempDir dir;
  const int port = FreePort();
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string data_dir = "--data_dir=" + dir.path() + "/cp";
    std::string listen_flag = "--listen=" + listen;
    execl("controlplane/trace-controlplane", "trace-controlplane", data_dir.c_str(),
          listen_flag.c_str(), "--insecure", static_cast<char*>(nullptr));
    _exit(127);
  }
  EXPECT_EQ(WaitForHealth(listen), kHealthServing());

  const auto sigterm_at = std::chrono::steady_clock::now();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 200 && done == 0; ++i) {
    done = waitpid(pid, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "trace-controlplane did not exit within 10 s of SIGTERM";
  }
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // No call was open, so it must not wait out the shutdown grace period.
  EXPECT_LT(std::chrono::steady_clock::now() - sigterm_at, std::chrono::seconds(4));
}

TEST(TraceControlplaneMainTest, InsecureRefusesNonLoopbackListen) {
  tracer::storage::testing::TempDir dir;
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string data_dir = "--data_dir=" + dir.path() + "/cp";
    execl("controlplane/trace-controlplane", "trace-controlplane", data_dir.c_str(),
          "--listen=0.0.0.0:0", "--insecure", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
