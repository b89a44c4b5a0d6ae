// Starts the civetweb server on loopback and scrapes it with libcurl.
#include "controlplane/metrics/metrics_server.h"

#include <curl/curl.h>

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "controlplane/metrics/prometheus_text.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tracer::metrics {
namespace {

using ::testing::HasSubstr;

struct Response {
  long status = 0;
  std::string content_type;
  std::string body;
};

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

Response Fetch(const std::string& url, bool post = false) {
  Response r;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  if (post) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "x");
  CURLcode rc = curl_easy_perform(curl);
  EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  char* type = nullptr;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
  if (type != nullptr) r.content_type = type;
  curl_easy_cleanup(curl);
  return r;
}

TEST(MetricsServerTest, ServesFreshTextOnEveryScrape) {
  std::atomic<int> scrapes{0};
  auto server = MetricsServer::Start({"127.0.0.1:0"}, [&scrapes] {
    return absl::StrCat("# HELP s Scrapes.\n# TYPE s counter\ns_total ", ++scrapes, "\n");
  });
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_GT((*server)->port(), 0);
  const std::string base = absl::StrCat("http://127.0.0.1:", (*server)->port());

  Response first = Fetch(base + "/metrics");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.content_type, kPrometheusContentType);
  EXPECT_EQ(first.body, "# HELP s Scrapes.\n# TYPE s counter\ns_total 1\n");
  EXPECT_THAT(Fetch(base + "/metrics").body, HasSubstr("s_total 2\n"));

  EXPECT_EQ(Fetch(base + "/").status, 404);
  EXPECT_EQ(Fetch(base + "/metrics/../etc/passwd").status, 404);
  EXPECT_EQ(Fetch(base + "/metrics", /*post=*/true).status, 405);
  EXPECT_EQ(scrapes.load(), 2);
}

TEST(MetricsServerTest, RefusesBadAndNonLoopbackAddresses) {
  auto render = [] { return std::string(); };
  EXPECT_EQ(MetricsServer::Start({"0.0.0.0:0"}, render).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsServer::Start({"10.1.2.3:9464"}, render).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsServer::Start({"nohost"}, render).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsServer::Start({"example.com:9464"}, render).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MetricsServer::Start({"127.0.0.1:70000"}, render).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MetricsServerTest, PortInUseIsUnavailable) {
  auto first = MetricsServer::Start({"127.0.0.1:0"}, [] { return std::string(); });
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = MetricsServer::Start({absl::StrCat("127.0.0.1:", (*first)->port())},
                                     [] { return std::string(); });
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace tracer::metrics
