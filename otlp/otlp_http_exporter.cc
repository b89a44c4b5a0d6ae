#include "otlp/otlp_http_exporter.h"

#include <curl/curl.h>
#include <zlib.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/util/json_util.h"
#include "otlp/endpoint.h"
#include "otlp/http_status.h"
#include "otlp/otlp_json.h"
#include "otlp/retry_policy.h"

namespace tracer::otlp {
namespace {

constexpr size_t kMaxResponseBytes = 4 << 20;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What one transfer collected.
struct Transfer {
  std::string body;
  std::string content_type;
  std::string retry_after;
  std::atomic<bool>* cancel = nullptr;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->body.size() + len > kMaxResponseBytes) return 0;  // aborts: response too large
  t->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  absl::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (name == "retry-after") t->retry_after = std::string(value);
    if (name == "content-type") t->content_type = absl::AsciiStrToLower(value);
  } else if (absl::StartsWith(line, "HTTP/")) {
    // A new response (after 100-continue or a redirect): forget the old one.
    t->retry_after.clear();
    t->content_type.clear();
  }
  return size * n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Transfer*>(user)->cancel->load() ? 1 : 0;
}

absl::StatusCode CodeForHttpStatus(long status) {
  switch (status) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 408:
      return absl::StatusCode::kDeadlineExceeded;
    case 413:
      return absl::StatusCode::kInvalidArgument;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 501:
      return absl::StatusCode::kUnimplemented;
    case 502:
    case 503:
      return absl::StatusCode::kUnavailable;
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    default:
      return status >= 500 ? absl::StatusCode::kInternal : absl::StatusCode::kUnknown;
  }
}

bool IsTransientCurlError(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return true;
    default:
      return false;
  }
}

}  // namespace

absl::StatusOr<std::string> GzipCompress(std::string_view data, int level) {
  z_stream zs{};
  // 15 window bits + 16: write a gzip header and trailer instead of zlib's.
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("gzip: deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError("gzip: deflate did not finish");
  return out;
}

std::string HttpErrorMessage(std::string_view content_type_in, std::string_view body_in) {
  absl::string_view content_type(content_type_in.data(), content_type_in.size());
  absl::string_view body(body_in.data(), body_in.size());
  if (absl::StrContains(content_type, "application/x-protobuf")) {
    google::protobuf::UnknownFieldSet status;  // google.rpc.Status {code=1; message=2; ...}
    if (status.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      for (int i = 0; i < status.field_count(); ++i) {
        if (status.field(i).number() == 2 &&
            status.field(i).type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
          return status.field(i).length_delimited();
        }
      }
    }
  } else if (absl::StrContains(content_type, "application/json")) {
    google::protobuf::Struct json;
    google::protobuf::util::JsonParseOptions options;
    if (google::protobuf::util::JsonStringToMessage(
            google::protobuf::StringPiece(body.data(), body.size()), &json, options)
            .ok()) {
      auto it = json.fields().find("message");
      if (it != json.fields().end() && it->second.has_string_value()) {
        return it->second.string_value();
      }
    }
  }
  std::string text(body.substr(0, 512));
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return std::string(absl::StripAsciiWhitespace(text));
}

absl::StatusOr<std::unique_ptr<OtlpHttpExporter>> OtlpHttpExporter::Create(
    const ExporterConfig& config) {
  if (config.protocol == Protocol::kGrpc) {
    return absl::InvalidArgumentError("OtlpHttpExporter needs protocol http/protobuf or http/json");
  }
  auto ep = ParseEndpoint(config.endpoint, /*allow_no_scheme=*/false);
  if (!ep.ok()) return ep.status();
  for (const auto& [file, what] :
       {std::pair{config.certificate_file, "certificate"},
        std::pair{config.client_key_file, "client key"},
        std::pair{config.client_certificate_file, "client certificate"}}) {
    if (file.empty()) continue;
    auto pem = ReadPemFile(file, what);
    if (!pem.ok()) return pem.status();
  }
  GlobalInit();
  return std::unique_ptr<OtlpHttpExporter>(new OtlpHttpExporter(config));
}

OtlpHttpExporter::OtlpHttpExporter(const ExporterConfig& config) : config_(config) {}

OtlpHttpExporter::~OtlpHttpExporter() {
  absl::MutexLock lock(&mu_);
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

absl::StatusOr<ExportResult> OtlpHttpExporter::Export(const ExportTraceServiceRequest& request) {
  return Post(config_.protocol == Protocol::kHttpJson ? ToOtlpJson(request)
                                                      : request.SerializeAsString());
}

RequestForm OtlpHttpExporter::request_form() const {
  return config_.protocol == Protocol::kHttpProtobuf ? RequestForm::kWire : RequestForm::kParsed;
}

absl::StatusOr<ExportResult> OtlpHttpExporter::ExportSerialized(std::string serialized) {
  if (config_.protocol != Protocol::kHttpProtobuf)
    return SpanExporter::ExportSerialized(std::move(serialized));
  return Post(serialized);
}

absl::StatusOr<ExportResult> OtlpHttpExporter::Post(absl::string_view body) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) {
    return absl::FailedPreconditionError(absl::StrCat(Describe(), ": exporter is shut down"));
  }
  if (cancel_.load()) return absl::CancelledError(absl::StrCat(Describe(), ": cancelled"));
  const bool json = config_.protocol == Protocol::kHttpJson;
  const char* content_type = json ? "application/json" : "application/x-protobuf";
  std::string compressed;
  if (config_.compression == Compression::kGzip) {
    auto gz = GzipCompress(std::string_view(body.data(), body.size()));
    if (!gz.ok()) return gz.status();
    compressed = *std::move(gz);
    body = compressed;
  }

  if (curl_ == nullptr) {
    curl_ = curl_easy_init();
    if (curl_ == nullptr) return absl::InternalError("curl_easy_init failed");
  }
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);  // keeps the connection cache

  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, absl::StrCat("Content-Type: ", content_type).c_str());
  if (config_.compression == Compression::kGzip) {
    headers = curl_slist_append(headers, "Content-Encoding: gzip");
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  for (const auto& [key, value] : config_.headers) {
    headers = curl_slist_append(headers, absl::StrCat(key, ": ", value).c_str());
  }

  Transfer t;
  t.cancel = &cancel_;
  const long timeout_ms = std::max<long>(1, absl::ToInt64Milliseconds(config_.timeout));
  curl_easy_setopt(curl, CURLOPT_URL, config_.endpoint.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "tracer-otlp-exporter/0.1");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (!config_.certificate_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, config_.certificate_file.c_str());
  }
  if (!config_.client_certificate_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, config_.client_certificate_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, config_.client_key_file.c_str());
  }
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  long http_status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http_status);

  if (rc != CURLE_OK) {
    std::string detail = error_buffer[0] != 0 ? error_buffer : curl_easy_strerror(rc);
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
      return absl::CancelledError(absl::StrCat(Describe(), ": cancelled"));
    }
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      return MarkRetryable(absl::DeadlineExceededError(absl::StrCat(
          Describe(), ": timed out after ", absl::FormatDuration(config_.timeout), ": ", detail)));
    }
    absl::Status error = absl::UnavailableError(absl::StrCat(Describe(), ": ", detail));
    return IsTransientCurlError(rc) ? MarkRetryable(error) : error;
  }

  if (http_status >= 200 && http_status < 300) {
    ExportResult result;
    ExportTraceServiceResponse response;
    bool parsed = true;
    if (!t.body.empty()) {
      if (absl::StrContains(t.content_type, "json")) {
        google::protobuf::util::JsonParseOptions options;
        options.ignore_unknown_fields = true;
        parsed = google::protobuf::util::JsonStringToMessage(t.body, &response, options).ok();
      } else {
        parsed = response.ParseFromString(t.body);
      }
    }
    // An unparsable success body is still a success: the spans were taken.
    if (parsed) {
      result.rejected_spans = response.partial_success().rejected_spans();
      result.partial_success_message = response.partial_success().error_message();
    }
    return result;
  }

  absl::Status error =
      WithHttpStatus(absl::Status(CodeForHttpStatus(http_status),
                                  absl::StrCat(Describe(), ": HTTP ", http_status, ": ",
                                               HttpErrorMessage(t.content_type, t.body))),
                     static_cast<int>(http_status));
  if (IsRetryableHttpStatus(static_cast<int>(http_status))) {
    return MarkRetryable(error, ParseRetryAfter(t.retry_after, absl::Now()));
  }
  return error;
}

absl::Status OtlpHttpExporter::Shutdown() {
  cancel_.store(true);
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  if (curl_ != nullptr) {
    curl_easy_cleanup(static_cast<CURL*>(curl_));
    curl_ = nullptr;
  }
  return absl::OkStatus();
}

void OtlpHttpExporter::Cancel() { cancel_.store(true); }

std::string OtlpHttpExporter::Describe() const {
  return absl::StrCat("otlp/", std::string(ProtocolName(config_.protocol)), " ", config_.endpoint);
}

}  // namespace tracer::otlp
