#include "controlplane/sessions/node_selector.h"

namespace tracer::controlplane {

bool SelectsAgent(const v1::NodeSelector& nodes, const v1::Hello& hello) {
  if (nodes.all()) return true;
  if (nodes.names_size() > 0) {
    for (const std::string& name : nodes.names()) {
      if (name == hello.node_id() || (!hello.hostname().empty() && name == hello.hostname())) {
        return true;
      }
    }
    return false;
  }
  if (nodes.labels_size() == 0) return false;
  for (const auto& [key, value] : nodes.labels()) {
    auto it = hello.labels().find(key);
    if (it == hello.labels().end() || it->second != value) return false;
  }
  return true;
}

}  // namespace tracer::controlplane
