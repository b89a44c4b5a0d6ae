#include "otlp/retry_policy.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace tracer::otlp {
namespace {

constexpr char kRetryableUrl[] = "type.tracer.dev/tracer.exporting.Retryable";
constexpr char kRetriesUrl[] = "type.tracer.dev/tracer.exporting.Retries";

class RealClock : public RetryClock {
 public:
  absl::Time Now() override { return absl::Now(); }
  bool SleepFor(absl::Duration d, absl::Notification* cancel) override {
    return !cancel->WaitForNotificationWithTimeout(d);
  }
};

}  // namespace

bool IsRetryableGrpcCode(absl::StatusCode code, bool has_retry_info) {
  switch (code) {
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDataLoss:
      return true;
    case absl::StatusCode::kResourceExhausted:
      return has_retry_info;
    default:
      return false;
  }
}

bool IsRetryableHttpStatus(int http_status) {
  return http_status == 429 || http_status == 502 || http_status == 503 || http_status == 504;
}

std::optional<absl::Duration> ParseRetryAfter(std::string_view value, absl::Time now) {
  absl::string_view v(value.data(), value.size());
  v = absl::StripAsciiWhitespace(v);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    int64_t seconds = 0;
    if (!absl::SimpleAtoi(v, &seconds)) return std::nullopt;
    return absl::Seconds(seconds);
  }
  absl::Time when;
  std::string err;
  // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(v), absl::UTCTimeZone(), &when,
                       &err)) {
    return std::nullopt;
  }
  return std::max(absl::ZeroDuration(), when - now);
}

absl::Status MarkRetryable(absl::Status status, std::optional<absl::Duration> retry_after) {
  std::string value = retry_after ? absl::StrCat(absl::ToInt64Milliseconds(*retry_after)) : "";
  status.SetPayload(kRetryableUrl, absl::Cord(value));
  return status;
}

bool IsMarkedRetryable(const absl::Status& status) {
  return status.GetPayload(kRetryableUrl).has_value();
}

std::optional<absl::Duration> RetryAfterOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryableUrl);
  if (!payload || payload->empty()) return std::nullopt;
  int64_t ms = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &ms)) return std::nullopt;
  return absl::Milliseconds(ms);
}

int RetriesOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetriesUrl);
  int n = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &n)) return 0;
  return n;
}

RetryClock* RealRetryClock() {
  static RetryClock* clock = new RealClock();
  return clock;
}

RetryingExporter::RetryingExporter(std::unique_ptr<SpanExporter> inner, RetryPolicy policy,
                                   RetryClock* clock, std::function<double()> uniform01)
    : inner_(std::move(inner)),
      policy_(policy),
      clock_(clock ? clock : RealRetryClock()),
      uniform01_(uniform01 ? std::move(uniform01) : common::DefaultUniform01()) {}

absl::StatusOr<ExportResult> RetryingExporter::Export(const ExportTraceServiceRequest& request) {
  return Retry([&] { return inner_->Export(request); });
}

absl::StatusOr<ExportResult> RetryingExporter::ExportSerialized(std::string serialized) {
  return Retry([&] { return inner_->ExportSerialized(serialized); });  // a copy per attempt
}

RequestForm RetryingExporter::request_form() const { return inner_->request_form(); }

absl::StatusOr<ExportResult> RetryingExporter::Retry(
    const std::function<absl::StatusOr<ExportResult>()>& attempt) {
  const absl::Time start = clock_->Now();
  common::Backoff backoff(policy_, uniform01_);
  int retries = 0;
  auto fail = [&](absl::Status last, absl::string_view why) {
    absl::Status out(
        last.code(),
        retries == 0 && why.empty()
            ? std::string(last.message())
            : absl::StrCat(why, "after ", retries + 1, " attempt", retries == 0 ? "" : "s", " in ",
                           absl::FormatDuration(clock_->Now() - start), ": ", last.message()));
    // Keep what the transport attached (retryable mark, Retry-After, HTTP
    // status) so callers can still classify the failure.
    last.ForEachPayload(
        [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
    out.SetPayload(kRetriesUrl, absl::Cord(absl::StrCat(retries)));
    return out;
  };
  while (true) {
    absl::StatusOr<ExportResult> result = attempt();
    if (result.ok()) {
      result->retries = retries;
      return result;
    }
    if (!policy_.enabled || !IsMarkedRetryable(result.status())) {
      return fail(result.status(), retries == 0 ? "" : "not retryable, ");
    }
    absl::Duration wait = backoff.Next();
    if (auto hint = RetryAfterOf(result.status())) wait = std::max(wait, *hint);
    const absl::Duration elapsed = clock_->Now() - start;
    if (policy_.max_elapsed_time > absl::ZeroDuration() &&
        elapsed + wait > policy_.max_elapsed_time) {
      return fail(result.status(),
                  absl::StrCat("gave up (retry budget ",
                               absl::FormatDuration(policy_.max_elapsed_time), ") "));
    }
    if (cancel_.HasBeenNotified() || !clock_->SleepFor(wait, &cancel_)) {
      absl::Status cancelled = fail(result.status(), "cancelled while retrying, ");
      absl::Status out(absl::StatusCode::kCancelled, cancelled.message());
      out.SetPayload(kRetriesUrl, absl::Cord(absl::StrCat(retries)));
      return out;
    }
    ++retries;
  }
}

absl::Status RetryingExporter::Shutdown() {
  std::call_once(cancel_once_, [this] { cancel_.Notify(); });
  return inner_->Shutdown();
}

void RetryingExporter::Cancel() {
  std::call_once(cancel_once_, [this] { cancel_.Notify(); });
  inner_->Cancel();
}

std::string RetryingExporter::Describe() const { return inner_->Describe(); }

}  // namespace tracer::otlp
