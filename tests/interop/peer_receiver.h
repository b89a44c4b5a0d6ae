// Starts and reads the Node.js OTLP test receiver (tests/peers/
// otlp_receiver.js) from C++ tests.
#ifndef TESTS_INTEROP_PEER_RECEIVER_H_
#define TESTS_INTEROP_PEER_RECEIVER_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tracer::interop {

// Where the npm packages are (TRACER_PEERS_DIR) when they and `node` are
// usable; otherwise a human-readable reason in `*why_not`.
std::optional<std::string> PeersDir(std::string* why_not);

// True when the environment variable CI is set (missing peers then fail
// instead of skipping).
bool InCi();

// A running receiver process. The destructor stops it (SIGTERM, then
// SIGKILL) and reaps it. Not thread-safe.
class PeerReceiver {
 public:
  // Starts otlp_receiver.js with `args` (port and failure options; --out,
  // --log and --ready-file are added) and waits up to 30 s until it listens.
  // Errors: the process could not start or did not become ready (its stderr
  // is included).
  static absl::StatusOr<std::unique_ptr<PeerReceiver>> Start(const std::string& peers_dir,
                                                             std::vector<std::string> args);
  ~PeerReceiver();

  int grpc_port() const { return grpc_port_; }
  int http_port() const { return http_port_; }
  // The receiver's process id (-1 once it was killed and reaped).
  pid_t pid() const { return pid_; }

  // Kills the receiver with SIGKILL at once (a backend dying mid-stream) and
  // reaps it. Requests() and Attempts() still read what it had written: it
  // appends each request synchronously before answering. Idempotent.
  void Kill();

  // The accepted requests, one OTLP/JSON line each, in arrival order.
  std::vector<std::string> Requests() const;
  // One JSON line per attempt (accepted or failed on purpose).
  std::vector<std::string> Attempts() const;

 private:
  PeerReceiver() = default;

  pid_t pid_ = -1;
  int grpc_port_ = 0;
  int http_port_ = 0;
  std::string out_path_, log_path_, stderr_path_;
};

// A loopback TCP port that nothing listens on (bound, then closed).
int UnusedPort();

}  // namespace tracer::interop

#endif  // TESTS_INTEROP_PEER_RECEIVER_H_
