// `tracectl version` offline, against an unreachable address, and against a
// fake ControlService (plain text on loopback, --insecure).
#include "ctl/version_command.h"

#include <sstream>

#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tracer/v1/control.grpc.pb.h"
#include "version/version.h"

namespace tracer::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

class FakeControl final : public tracer::v1::ControlService::Service {
 public:
  grpc::Status GetStatus(grpc::ServerContext*, const tracer::v1::GetStatusRequest*,
                         tracer::v1::StatusResponse* resp) override {
    resp->set_controlplane_version("9.8.7");
    auto* a = resp->add_agents();
    a->set_agent_id("node-a");
    a->mutable_hello()->set_agent_version("1.2.3");
    a->set_connected(true);
    auto* b = resp->add_agents();
    b->set_agent_id("node-b");
    b->mutable_hello()->set_agent_version("1.2.2");
    b->set_connected(false);
    return grpc::Status::OK;
  }
};

remote::EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& k) -> std::optional<std::string> {
    auto it = vars.find(k);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A loopback port with nothing listening (bound, then closed).
std::string ClosedPort() {
  int port = 0;
  auto server = grpc::ServerBuilder()
                    .AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port)
                    .BuildAndStart();
  server->Shutdown();
  return "127.0.0.1:" + std::to_string(port);
}

TEST(VersionCommandTest, ClientOnlyPrintsOneLineAndDialsNothing) {
  std::ostringstream out, err;
  EXPECT_EQ(VersionCommand({"--client", "--server", ClosedPort(), "--insecure"}, Env({}), out, err),
            0);
  EXPECT_EQ(out.str(), "client        " + version::VersionLine("tracectl") + "\n");
  EXPECT_EQ(err.str(), "");
}

TEST(VersionCommandTest, WithoutCertificatesNotesWhyAndSucceeds) {
  std::ostringstream out, err;
  EXPECT_EQ(VersionCommand({}, Env({}), out, err), 0);
  EXPECT_THAT(out.str(), StartsWith("client        tracectl "));
  EXPECT_THAT(err.str(), HasSubstr("control plane not queried: no certificates"));
}

TEST(VersionCommandTest, UnreachableFromEnvironmentIsANoteWithExitZero) {
  std::ostringstream out, err;
  const std::string addr = ClosedPort();
  EXPECT_EQ(VersionCommand({}, Env({{"TRACER_SERVER", addr}, {"TRACER_CERTS", "/nonexistent"}}),
                           out, err),
            0);
  EXPECT_THAT(out.str(), StartsWith("client        tracectl "));
  EXPECT_EQ(out.str().find("controlplane"), std::string::npos);
  EXPECT_THAT(err.str(), HasSubstr("control plane at " + addr + " not reachable"));
}

TEST(VersionCommandTest, UnreachableExplicitServerFails) {
  std::ostringstream out, err;
  const std::string addr = ClosedPort();
  EXPECT_EQ(VersionCommand({"--server", addr, "--insecure"}, Env({}), out, err), 1);
  EXPECT_THAT(out.str(), StartsWith("client        tracectl "));
  EXPECT_THAT(err.str(), HasSubstr("control plane at " + addr + " not reachable: UNAVAILABLE"));
}

TEST(VersionCommandTest, BadFlagIsAUsageError) {
  std::ostringstream out, err;
  EXPECT_EQ(VersionCommand({"--server", "x:1", "--bogus"}, Env({}), out, err), 2);
  EXPECT_THAT(err.str(), HasSubstr("--bogus"));
}

TEST(VersionCommandTest, PrintsControlPlaneAndEveryAgent) {
  FakeControl fake;
  int port = 0;
  auto server = grpc::ServerBuilder()
                    .AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port)
                    .RegisterService(&fake)
                    .BuildAndStart();
  ASSERT_NE(server, nullptr);
  const std::string addr = "127.0.0.1:" + std::to_string(port);
  std::ostringstream out, err;
  EXPECT_EQ(VersionCommand({"--server", addr, "--insecure"}, Env({}), out, err), 0) << err.str();
  EXPECT_EQ(out.str(), "client        " + version::VersionLine("tracectl") + "\n" +
                           "controlplane  9.8.7 (" + addr + ")\n" +
                           "agent node-a  1.2.3 (connected)\n" +
                           "agent node-b  1.2.2 (disconnected)\n");
  EXPECT_EQ(err.str(), "");
  server->Shutdown();
}

}  // namespace
}  // namespace tracer::ctl
