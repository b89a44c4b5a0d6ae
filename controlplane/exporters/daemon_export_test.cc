// The real trace-controlplane binary with a default exporter from
// --otlp_endpoint and the OTEL_* environment, and --metrics_listen: spans
// uploaded by an agent reach an in-process OTLP/gRPC receiver with the
// OTEL_RESOURCE_ATTRIBUTES merged in, /metrics counts them, and SIGTERM
// exits 0.
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "controlplane/store/testing/test_spans.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "storage/testing/temp_dir.h"
#include "tests/testing/grpc_health.h"
#include "tracer/v1/agent.grpc.pb.h"
#include "tracer/v1/control.grpc.pb.h"

namespace tracer::controlplane {
namespace {

using ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest;
using ::opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;
using ::opentelemetry::proto::collector::trace::v1::TraceService;
using ::testing::HasSubstr;

class Receiver final : public TraceService::Service {
 public:
  grpc::Status Export(grpc::ServerContext*, const ExportTraceServiceRequest* request,
                      ExportTraceServiceResponse*) override {
    absl::MutexLock lock(&mu_);
    for (const auto& rs : request->resource_spans()) {
      for (const auto& kv : rs.resource().attributes()) {
        attributes_[kv.key()] = kv.value().string_value();
      }
      for (const auto& ss : rs.scope_spans()) spans_ += ss.spans_size();
    }
    return grpc::Status::OK;
  }
  int spans() const {
    absl::MutexLock lock(&mu_);
    return spans_;
  }
  std::map<std::string, std::string> attributes() const {
    absl::MutexLock lock(&mu_);
    return attributes_;
  }

 private:
  mutable absl::Mutex mu_;
  int spans_ = 0;
  std::map<std::string, std::string> attributes_;
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string Scrape(const std::string& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  if (curl_easy_perform(curl) != CURLE_OK) body.clear();
  curl_easy_cleanup(curl);
  return body;
}

TEST(DaemonExportTest, DefaultExporterDeliversAndMetricsCountIt) {
  storage::testing::TempDir dir;
  Receiver receiver;
  grpc::ServerBuilder builder;
  int receiver_port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &receiver_port);
  builder.RegisterService(&receiver);
  std::unique_ptr<grpc::Server> receiver_server = builder.BuildAndStart();
  ASSERT_NE(receiver_server, nullptr);

  const std::string listen = absl::StrCat("127.0.0.1:", tracer::testing::FreePort());
  const std::string metrics = absl::StrCat("127.0.0.1:", tracer::testing::FreePort());
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test,service.name=ignored", 1);
    setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-tenant=t1", 1);
    unsetenv("OTEL_EXPORTER_OTLP_ENDPOINT");
    unsetenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    const std::string data_dir = "--data_dir=" + dir.path() + "/cp";
    const std::string listen_flag = "--listen=" + listen;
    const std::string otlp = absl::StrCat("--otlp_endpoint=http://127.0.0.1:", receiver_port);
    const std::string metrics_flag = "--metrics_listen=" + metrics;
    execl("controlplane/trace-controlplane", "trace-controlplane", data_dir.c_str(),
          listen_flag.c_str(), "--insecure", otlp.c_str(), "--otlp_protocol=grpc",
          metrics_flag.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_EQ(tracer::testing::WaitForHealth(listen), tracer::testing::kHealthServing());

  auto channel = grpc::CreateChannel(listen, grpc::InsecureChannelCredentials());
  {
    auto control = v1::ControlService::NewStub(channel);
    grpc::ClientContext ctx;
    v1::ListExportersResponse list;
    ASSERT_TRUE(control->ListExporters(&ctx, v1::ListExportersRequest(), &list).ok());
    ASSERT_EQ(list.exporters_size(), 1);
    EXPECT_EQ(list.exporters(0).name(), "default");
    EXPECT_EQ(list.exporters(0).source(), "flags");
    EXPECT_EQ(list.exporters(0).headers(0).key(), "x-tenant");
    EXPECT_EQ(list.exporters(0).headers(0).value(), "");
  }
  ExportTraceServiceRequest batch;
  testing::AddSpan(&batch, "curl", 9, 1, 0, 1000, "GET /");
  testing::AddSpan(&batch, "curl", 9, 2, 1, 1001, "connect");
  {
    auto agent = v1::AgentService::NewStub(channel);
    grpc::ClientContext ctx;
    auto upload = agent->Upload(&ctx);
    v1::UploadRequest request;
    request.set_agent_id("node-1");
    request.set_seq(1);
    request.set_batch(batch.SerializeAsString());
    request.set_span_count(2);
    v1::UploadAck ack;
    ASSERT_TRUE(upload->Write(request));
    ASSERT_TRUE(upload->Read(&ack));
    upload->WritesDone();
    upload->Finish();
  }
  absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (receiver.spans() < 2 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_EQ(receiver.spans(), 2);
  EXPECT_EQ(receiver.attributes()["deployment.environment"], "test");
  EXPECT_EQ(receiver.attributes()["service.name"], "curl");  // the record's own wins

  const std::string url = absl::StrCat("http://", metrics, "/metrics");
  std::string text;
  deadline = absl::Now() + absl::Seconds(5);
  // The backend's answer is counted before the cursor moves past the record
  // (a synced write), so the lag reaches 0 a moment after the sent count.
  do {
    text = Scrape(url);
    if (text.find("tracer_exporter_spans_sent_total{exporter=\"default\"} 2\n") !=
            std::string::npos &&
        text.find("tracer_exporter_queue_lag_records{exporter=\"default\"} 0\n") !=
            std::string::npos) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  EXPECT_THAT(text, HasSubstr("tracer_exporter_spans_sent_total{exporter=\"default\"} 2\n"));
  EXPECT_THAT(
      text, HasSubstr("tracer_exporter_circuit_state{exporter=\"default\",state=\"closed\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("tracer_exporter_queue_lag_records{exporter=\"default\"} 0\n"));

  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  receiver_server->Shutdown(std::chrono::system_clock::now());
}

TEST(DaemonExportTest, BadExporterConfigurationExitsTwo) {
  storage::testing::TempDir dir;
  for (const std::string& flag :
       {std::string("--exporters_config=") + dir.path() + "/missing.json",
        std::string("--otlp_protocol=thrift"), std::string("--metrics_listen=0.0.0.0:9464")}) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const std::string data_dir = "--data_dir=" + dir.path() + "/cp";
      execl("controlplane/trace-controlplane", "trace-controlplane", data_dir.c_str(),
            "--listen=127.0.0.1:0", "--insecure", "--otlp_endpoint=http://127.0.0.1:1",
            flag.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status)) << flag;
    EXPECT_EQ(WEXITSTATUS(status), 2) << flag;
  }
}

}  // namespace
}  // namespace tracer::controlplane
