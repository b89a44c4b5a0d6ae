#include "agent/daemon/node_identity.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "version/semver.h"

namespace tracer::daemon {
namespace {

bool ValidKey(absl::string_view k) {
  if (k.empty() || k.size() > 63) return false;
  for (char c : k) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '/' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

std::string HostName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) return "";
  return host;
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ParseLabels(std::string_view std_text) {
  // This absl's string_view is its own type, not std::string_view.
  const absl::string_view text(std_text.data(), std_text.size());
  std::map<std::string, std::string> labels;
  if (absl::StripAsciiWhitespace(text).empty()) return labels;
  for (absl::string_view element : absl::StrSplit(text, ',')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(element, absl::MaxSplits('=', 1));
    std::string key(absl::StripAsciiWhitespace(kv.first));
    std::string value(absl::StripAsciiWhitespace(kv.second));
    if (element.find('=') == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("--labels: '", element, "' is not key=value"));
    }
    if (!ValidKey(key)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--labels: key '", key, "' must be 1..63 bytes of letters, digits, '.', '_', '/', '-'"));
    }
    if (value.size() > 256) {
      return absl::InvalidArgumentError(
          absl::StrCat("--labels: value of '", key, "' is longer than 256 bytes"));
    }
    if (!labels.emplace(key, value).second) {
      return absl::InvalidArgumentError(absl::StrCat("--labels: key '", key, "' repeated"));
    }
    if (labels.size() > 32) return absl::InvalidArgumentError("--labels: more than 32 labels");
  }
  return labels;
}

absl::StatusOr<std::string> ResolveNodeId(const std::string& flag_value,
                                          const std::string& machine_id_path) {
  std::string id = flag_value;
  if (id.empty()) {
    std::ifstream in(machine_id_path);
    std::getline(in, id);
    id = std::string(absl::StripAsciiWhitespace(id));
  }
  if (id.empty()) id = HostName();
  if (id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("node id: --node_id empty, ", machine_id_path, " unreadable, no hostname"));
  }
  if (id.size() > 128) return absl::InvalidArgumentError("node id: longer than 128 bytes");
  return id;
}

tracer::v1::Hello MakeHello(const std::string& node_id,
                            const std::map<std::string, std::string>& labels,
                            const std::vector<std::string>& capabilities) {
  tracer::v1::Hello h;
  h.set_node_id(node_id);
  h.set_hostname(HostName());
  utsname u{};
  if (uname(&u) == 0) h.set_kernel_release(u.release);
  h.set_agent_version(version::kVersion);
  h.set_protocol_version(tracer::v1::PROTOCOL_VERSION_1);
  for (const auto& c : capabilities) h.add_capabilities(c);
  for (const auto& [k, v] : labels) (*h.mutable_labels())[k] = v;
  return h;
}

}  // namespace tracer::daemon
