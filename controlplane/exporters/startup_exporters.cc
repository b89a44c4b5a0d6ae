#include "controlplane/exporters/startup_exporters.h"

#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "controlplane/exporters/exporter_validation.h"
#include "google/protobuf/util/json_util.h"
#include "storage/atomic_file.h"

namespace tracer::controlplane {
namespace {

constexpr size_t kMaxConfigFileBytes = size_t{1} << 20;

// "${NAME}" -> NAME, else "".
std::string EnvReference(const std::string& value) {
  if (value.size() > 3 && absl::StartsWith(value, "${") && absl::EndsWith(value, "}")) {
    return value.substr(2, value.size() - 3);
  }
  return "";
}

}  // namespace

absl::StatusOr<std::vector<v1::ExporterSpec>> LoadExportersFile(const std::string& path,
                                                                const otlp::EnvLookup& env) {
  absl::StatusOr<std::string> json = storage::ReadWholeFile(path);
  if (!json.ok()) return json.status();
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", why));
  };
  if (json->size() > kMaxConfigFileBytes) {
    return invalid(absl::StrCat("larger than ", kMaxConfigFileBytes, " bytes"));
  }
  v1::ExporterSpecList list;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  if (auto s = google::protobuf::util::JsonStringToMessage(*json, &list, options); !s.ok()) {
    return invalid(absl::StrCat("not an exporters document: ", s.message().as_string()));
  }
  std::set<std::string> names;
  std::vector<v1::ExporterSpec> out;
  for (int i = 0; i < list.exporters_size(); ++i) {
    v1::ExporterSpec spec = list.exporters(i);
    const std::string where = absl::StrCat("exporters[", i, "]");
    if (spec.created_unix_nano() != 0 || spec.version() != 0 || !spec.created_by().empty() ||
        !spec.source().empty()) {
      return invalid(absl::StrCat(
          where, ": createdUnixNano, version, createdBy and source are set by the control plane"));
    }
    for (v1::ExporterSpec::Header& h : *spec.mutable_headers()) {
      const std::string var = EnvReference(h.value());
      if (var.empty()) continue;
      std::optional<std::string> value = env(var);
      if (!value) {
        return invalid(absl::StrCat(where, ": header ", h.key(), ": ${", var, "} is not set"));
      }
      h.set_value(*value);
    }
    if (absl::Status s = ValidateExporterSpec(spec); !s.ok()) {
      return invalid(absl::StrCat(where, ": ", s.message()));
    }
    if (!names.insert(spec.name()).second) {
      return invalid(absl::StrCat(where, ": exporter name \"", spec.name(), "\" is repeated"));
    }
    out.push_back(std::move(spec));
  }
  return out;
}

v1::ExporterSpec SpecFromExporterConfig(absl::string_view name,
                                        const otlp::ExporterConfig& config) {
  v1::ExporterSpec spec;
  spec.set_name(std::string(name));
  spec.set_protocol(std::string(otlp::ProtocolName(config.protocol)));
  spec.set_endpoint(config.endpoint);
  for (const auto& [key, value] : config.headers) {
    v1::ExporterSpec::Header* h = spec.add_headers();
    h->set_key(key);
    h->set_value(value);
  }
  spec.set_compression(config.compression == otlp::Compression::kGzip ? "gzip" : "none");
  spec.set_timeout_ms(static_cast<uint32_t>(absl::ToInt64Milliseconds(config.timeout)));
  spec.set_certificate_file(config.certificate_file);
  spec.set_client_key_file(config.client_key_file);
  spec.set_client_certificate_file(config.client_certificate_file);
  spec.set_insecure(config.insecure);
  return spec;
}

absl::StatusOr<std::optional<v1::ExporterSpec>> DefaultExporter(const DefaultExporterFlags& flags,
                                                                const otlp::EnvLookup& env) {
  auto set = [&](const char* name) {
    std::optional<std::string> v = env(name);
    return v.has_value() && !v->empty();
  };
  if (flags.endpoint.empty() && !set("OTEL_EXPORTER_OTLP_ENDPOINT") &&
      !set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
    return std::nullopt;
  }
  otlp::ConfigOverrides overrides;
  overrides.default_protocol = otlp::Protocol::kGrpc;
  if (!flags.endpoint.empty()) overrides.endpoint = flags.endpoint;
  if (!flags.protocol.empty()) {
    absl::StatusOr<otlp::Protocol> protocol = otlp::ParseProtocol(flags.protocol);
    if (!protocol.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--otlp_protocol: ", protocol.status().message()));
    }
    overrides.protocol = *protocol;
  }
  absl::StatusOr<otlp::ExporterConfig> config = otlp::ExporterConfigFromEnv(env, overrides);
  if (!config.ok()) return config.status();
  v1::ExporterSpec spec = SpecFromExporterConfig(kDefaultExporterName, *config);
  if (absl::Status s = ValidateExporterSpec(spec); !s.ok()) return s;
  spec.set_source(std::string(flags.endpoint.empty() ? kEnvSource : kFlagsSource));
  return spec;
}

}  // namespace tracer::controlplane
