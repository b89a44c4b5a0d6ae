#include "ctl/remote/exporter_flags.h"

#include <getopt.h>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "ctl/remote/remote_flags.h"

namespace tracer::ctl::remote::flags {

bool ExporterFlag(int c, const EnvLookup& env, tracer::v1::ExporterSpec* spec, bool* replace,
                  absl::Status* status) {
  switch (c) {
    case kEndpoint:
      spec->set_endpoint(optarg);
      if (spec->endpoint().empty() || spec->endpoint().size() > 2048) {
        *status = Invalid("--endpoint: expected a URL of 1..2048 bytes");
      }
      return true;
    case kProtocol:
      spec->set_protocol(optarg);
      if (spec->protocol() != "grpc" && spec->protocol() != "http/protobuf" &&
          spec->protocol() != "http/json") {
        *status = Invalid(
            absl::StrCat("--protocol ", optarg, ": expected grpc, http/protobuf or http/json"));
      }
      return true;
    case kHeader:
    case kHeaderFromEnv: {
      const std::string flag = c == kHeader ? "--header" : "--header-from-env";
      auto kv = KeyValue(flag, optarg);
      if (!kv.ok()) {
        *status = kv.status();
        return true;
      }
      auto* h = spec->add_headers();
      h->set_key(kv->first);
      if (c == kHeader) {
        h->set_value(kv->second);
      } else {
        std::optional<std::string> value = env(kv->second);
        if (!value) {
          *status = Invalid(absl::StrCat(flag, " ", optarg, ": $", kv->second, " is not set"));
          return true;
        }
        h->set_value(*value);
      }
      return true;
    }
    case kCompression:
      spec->set_compression(optarg);
      if (spec->compression() != "none" && spec->compression() != "gzip") {
        *status = Invalid(absl::StrCat("--compression ", optarg, ": expected none or gzip"));
      }
      return true;
    case kTimeout: {
      auto ms = Milliseconds("--timeout", optarg, absl::Minutes(10));
      if (ms.ok()) {
        spec->set_timeout_ms(*ms);
      } else {
        *status = ms.status();
      }
      return true;
    }
    case kCa:
      spec->set_certificate_file(optarg);
      *status = AbsolutePath("--ca", optarg);
      return true;
    case kClientCert:
      spec->set_client_certificate_file(optarg);
      *status = AbsolutePath("--client-cert", optarg);
      return true;
    case kClientKey:
      spec->set_client_key_file(optarg);
      *status = AbsolutePath("--client-key", optarg);
      return true;
    case kBackendInsecure:
      spec->set_insecure(true);
      return true;
    case kReplace:
      *replace = true;
      return true;
    case kMaxBatchSpans: {
      auto n = ParseUint("--max-batch-spans", optarg, 1000000);
      if (n.ok() && *n > 0) {
        spec->set_max_batch_spans(static_cast<uint32_t>(*n));
      } else {
        *status = Invalid(absl::StrCat("--max-batch-spans ", optarg, ": expected 1..1000000"));
      }
      return true;
    }
    case kMaxBatchBytes: {
      auto n = ParseUint("--max-batch-bytes", optarg, uint64_t{64} << 20);
      if (n.ok() && *n > 0) {
        spec->set_max_batch_bytes(*n);
      } else {
        *status = Invalid(absl::StrCat("--max-batch-bytes ", optarg, ": expected 1..67108864"));
      }
      return true;
    }
    case kBreakerFailures: {
      auto n = ParseUint("--breaker-failures", optarg, 1000);
      if (n.ok() && *n > 0) {
        spec->set_breaker_failure_threshold(static_cast<uint32_t>(*n));
      } else {
        *status = Invalid(absl::StrCat("--breaker-failures ", optarg, ": expected 1..1000"));
      }
      return true;
    }
    case kBreakerOpenFor: {
      auto ms = Milliseconds("--breaker-open-for", optarg, absl::Hours(1));
      if (ms.ok()) {
        spec->set_breaker_open_for_ms(*ms);
      } else {
        *status = ms.status();
      }
      return true;
    }
    case kRetryInitial:
    case kRetryMax: {
      const bool initial = c == kRetryInitial;
      auto ms = Milliseconds(initial ? "--retry-initial" : "--retry-max", optarg, absl::Hours(1));
      if (!ms.ok()) {
        *status = ms.status();
      } else if (initial) {
        spec->set_retry_initial_interval_ms(*ms);
      } else {
        spec->set_retry_max_interval_ms(*ms);
      }
      return true;
    }
    default:
      return false;
  }
}

}  // namespace tracer::ctl::remote::flags
