// The dead-letter files of one backend: requests the backend refused with a
// non-retryable error, kept locally instead of being dropped.
//
//   <dir>/<name>.jsonl         one OTLP/JSON ExportTraceServiceRequest per
//                              line (otlp/otlp_json.h), the
//                              request exactly as it was sent; readable with
//                              FromOtlpJson or replayable with
//                              `curl --data-binary @- .../v1/traces` per line
//   <dir>/<name>.errors.jsonl  one JSON object per dead-lettered request, in
//                              the same order:
//                              {"time":"<RFC 3339 UTC>","reason":"http_400",
//                               "message":"<the backend's message>",
//                               "spans":<n>,"first_seq":<n>,"last_seq":<n>}
//                              (first/last_seq: the queue records it held)
//
// Durability: each line is written with one append and fdatasync'd before
// Write() returns, so the caller may ack the records afterwards. A failed
// write is rolled back (the file is truncated to its previous length) so a
// retry does not leave a torn line behind.
#ifndef TRACER_OTLP_DELIVERY_DEAD_LETTER_H_
#define TRACER_OTLP_DELIVERY_DEAD_LETTER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "otlp/exporter.h"

namespace tracer::otlp::delivery {

// What Write records in the errors line besides the request.
struct DeadLetterInfo {
  absl::Time time;
  std::string reason;   // FailureReason() of the refusal
  std::string message;  // the backend's error message
  uint64_t spans = 0;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
};

// Thread-compatible: one writer per backend (its worker).
class DeadLetterFile {
 public:
  // No I/O until the first Write. `dir` is created (with parents) then.
  DeadLetterFile(std::string dir, std::string_view backend_name);

  // Appends `request` to <name>.jsonl and `info` to <name>.errors.jsonl,
  // both synced. Errors: the file system's (INTERNAL / PERMISSION_DENIED /
  // RESOURCE_EXHAUSTED..., naming the path); nothing is then considered
  // written and the caller must not ack.
  absl::Status Write(const otlp::ExportTraceServiceRequest& request, const DeadLetterInfo& info);

  // Appends only `info` to <name>.errors.jsonl, synced: for a queue record
  // that could not be decoded (so there is no request to keep). Errors as
  // Write's.
  absl::Status WriteErrorOnly(const DeadLetterInfo& info);

  const std::string& requests_path() const { return requests_path_; }
  const std::string& errors_path() const { return errors_path_; }

 private:
  absl::Status EnsureDir();

  const std::string dir_;
  const std::string requests_path_;
  const std::string errors_path_;
};

// One errors line (without the newline) for `info`. Exposed for tests.
std::string DeadLetterErrorLine(const DeadLetterInfo& info);

}  // namespace tracer::otlp::delivery

#endif  // TRACER_OTLP_DELIVERY_DEAD_LETTER_H_
