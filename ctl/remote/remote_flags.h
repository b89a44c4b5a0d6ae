// The flags of tracectl's remote commands, shared by the parsers of
// remote_options.h (session start, the other remote commands, exporters
// add): getopt_long's option table, one Getopt over a command's words,
// the connection flags and the small value parsers. Every error is
// INVALID_ARGUMENT naming the flag and what was expected. Not thread-safe
// (getopt's state is global). Private to ctl/remote/.
#ifndef TRACER_CTL_REMOTE_REMOTE_FLAGS_H_
#define TRACER_CTL_REMOTE_REMOTE_FLAGS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ctl/getopt_args.h"
#include "ctl/remote/remote_options.h"

namespace tracer::ctl::remote::flags {

// A HOST:PORT or a service name (DNS name length), in bytes.
inline constexpr size_t kMaxStringBytes = 253;

// getopt_long values of the long-only options (short ones use their letter).
enum LongOnly {
  kServer = 1000,
  kCerts,
  kUser,
  kInsecure,
  kNodes,
  kPid,
  kCgroup,
  kComm,
  kAllProcesses,
  kSyscallClass,
  kFilterDurationGt,
  kHttp,
  kSampler,
  kSamplerArg,
  kDuration,
  kMaxSpans,
  kName,
  kAll,
  kSince,
  kService,
  kLimit,
  kEndpoint,
  kProtocol,
  kHeader,
  kHeaderFromEnv,
  kCompression,
  kTimeout,
  kCa,
  kClientCert,
  kClientKey,
  kBackendInsecure,
  kReplace,
  kMaxBatchSpans,
  kMaxBatchBytes,
  kBreakerFailures,
  kBreakerOpenFor,
  kRetryInitial,
  kRetryMax,
};

// getopt_long over a command's words (after the command itself).
class Getopt {
 public:
  explicit Getopt(const std::vector<std::string>& args);
  // The next option (its LongOnly value or letter), ':' for a missing
  // argument, '?' for an unknown one, -1 at the end; optarg holds the value.
  int Next();
  // The word that produced the last option (for messages).
  std::string Current() const;
  // The words after the options.
  std::vector<std::string> Rest() const;

 private:
  mutable GetoptArgs args_;  // getopt_long permutes argv
};

// INVALID_ARGUMENT with `msg`.
absl::Status Invalid(absl::string_view msg);

// The error for getopt's ':' (missing argument) and '?' (unknown option).
absl::Status OtherFlagError(int c, const Getopt& g);

// $TRACER_SERVER, $TRACER_CERTS, $TRACER_USER as defaults of `c`.
void ConnectionDefaults(const EnvLookup& env, ConnectionOptions* c);

// Handles a connection flag (--server, --certs, --user, --insecure); false
// when `c` is not one. A bad value sets `*status`.
bool ConnectionFlag(int c, ConnectionOptions* conn, absl::Status* status);

// Certificates are given unless --insecure.
absl::Status CheckConnection(const ConnectionOptions& c);

// A whole number in 0..max.
absl::StatusOr<uint64_t> ParseUint(const std::string& flag, const char* arg, uint64_t max);

// A duration in (0, 366 days] such as 90s, 10m, 2h.
absl::StatusOr<absl::Duration> ParsePositiveDuration(const std::string& flag, const char* arg);

// Whether every character of `s` is a hex digit.
bool IsHex(const std::string& s);

// KEY=VALUE of --header / --header-from-env.
absl::StatusOr<std::pair<std::string, std::string>> KeyValue(const std::string& flag,
                                                             const std::string& arg);

// `path` is absolute (it is read on the control plane's host).
absl::Status AbsolutePath(const std::string& flag, const std::string& path);

// A duration from 1 ms to `max`, in whole milliseconds.
absl::StatusOr<uint32_t> Milliseconds(const std::string& flag, const char* arg, absl::Duration max);

}  // namespace tracer::ctl::remote::flags

#endif  // TRACER_CTL_REMOTE_REMOTE_FLAGS_H_
