#include "ctl/remote/waterfall.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "otlp/semconv.h"

namespace tracer::ctl::remote {
namespace {

using opentelemetry::proto::trace::v1::Span;

constexpr size_t kMaxNameColumn = 48;

struct Node {
  const Span* span;
  std::string service;
  std::vector<size_t> children;
};

std::string ServiceOf(const opentelemetry::proto::trace::v1::ResourceSpans& rs) {
  for (const auto& kv : rs.resource().attributes()) {
    if (kv.key() == otlp::semconv::kServiceName) return kv.value().string_value();
  }
  return "";
}

uint64_t EndOf(const Span& s) { return std::max(s.start_time_unix_nano(), s.end_time_unix_nano()); }

}  // namespace

std::string FormatDuration(uint64_t ns) {
  if (ns < 1000) return absl::StrCat(ns, "ns");
  if (ns < 1000000) return absl::StrFormat("%.0fµs", ns / 1e3);
  if (ns < 1000000000) return absl::StrFormat("%.2fms", ns / 1e6);
  return absl::StrFormat("%.2fs", ns / 1e9);
}

std::string RenderWaterfall(const tracer::v1::GetTraceResponse& trace, int bar_width) {
  std::vector<Node> nodes;
  for (const auto& rs : trace.resource_spans()) {
    std::string service = ServiceOf(rs);
    for (const auto& ss : rs.scope_spans()) {
      for (const Span& s : ss.spans()) nodes.push_back({&s, service, {}});
    }
  }
  if (nodes.empty()) return "no spans\n";
  bar_width = std::max(bar_width, 1);

  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < nodes.size(); ++i) by_id.emplace(nodes[i].span->span_id(), i);
  auto earlier = [&](size_t a, size_t b) {
    const Span& x = *nodes[a].span;
    const Span& y = *nodes[b].span;
    if (x.start_time_unix_nano() != y.start_time_unix_nano()) {
      return x.start_time_unix_nano() < y.start_time_unix_nano();
    }
    return x.span_id() < y.span_id();
  };
  std::vector<size_t> roots;
  uint64_t t0 = UINT64_MAX, t1 = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Span& s = *nodes[i].span;
    t0 = std::min(t0, s.start_time_unix_nano());
    t1 = std::max(t1, EndOf(s));
    auto parent = by_id.find(s.parent_span_id());
    if (s.parent_span_id().empty() || parent == by_id.end() || parent->second == i) {
      roots.push_back(i);
    } else {
      nodes[parent->second].children.push_back(i);
    }
  }
  std::sort(roots.begin(), roots.end(), earlier);
  for (Node& n : nodes) std::sort(n.children.begin(), n.children.end(), earlier);
  uint64_t total = t1 - t0;

  // Depth-first order (iterative: a hostile trace may be deep), with the
  // label of each line. A visited set keeps cycles from looping.
  struct Line {
    size_t node;
    std::string label;
  };
  std::vector<Line> lines;
  std::vector<bool> seen(nodes.size(), false);
  std::vector<std::pair<size_t, int>> stack;
  std::vector<std::string> parent_service(nodes.size());
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.push_back({*it, 0});
  while (!stack.empty()) {
    auto [i, depth] = stack.back();
    stack.pop_back();
    if (seen[i]) continue;
    seen[i] = true;
    const Node& n = nodes[i];
    std::string label = std::string(2 * std::min(depth, 16), ' ') + n.span->name();
    if (!n.service.empty() && (depth == 0 || n.service != parent_service[i])) {
      absl::StrAppend(&label, " [", n.service, "]");
    }
    if (n.span->status().code() == opentelemetry::proto::trace::v1::Status::STATUS_CODE_ERROR) {
      label += " !";
    }
    if (label.size() > kMaxNameColumn) label = label.substr(0, kMaxNameColumn - 3) + "...";
    lines.push_back({i, label});
    for (auto c = n.children.rbegin(); c != n.children.rend(); ++c) {
      parent_service[*c] = n.service;
      stack.push_back({*c, depth + 1});
    }
  }

  // Display width in columns: UTF-8 continuation bytes ("µ") take none.
  auto columns = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  size_t name_w = 0, dur_w = 0;
  std::vector<std::string> durs;
  for (const Line& l : lines) {
    const Span& s = *nodes[l.node].span;
    durs.push_back(FormatDuration(EndOf(s) - s.start_time_unix_nano()));
    name_w = std::max(name_w, columns(l.label));
  }
  for (const std::string& d : durs) dur_w = std::max(dur_w, columns(d));

  std::string out =
      absl::StrCat("trace ", absl::BytesToHexString(nodes[0].span->trace_id()), "  ", nodes.size(),
                   nodes.size() == 1 ? " span  " : " spans  ", FormatDuration(total), "\n");
  for (size_t k = 0; k < lines.size(); ++k) {
    const Span& s = *nodes[lines[k].node].span;
    uint64_t start = s.start_time_unix_nano() - t0;
    uint64_t end = EndOf(s) - t0;
    int from = 0, to = bar_width;
    if (total > 0) {
      from = static_cast<int>(static_cast<__int128>(start) * bar_width / total);
      to = static_cast<int>((static_cast<__int128>(end) * bar_width + total - 1) / total);
    }
    from = std::min(from, bar_width - 1);
    to = std::max(to, from + 1);
    std::string bar(bar_width, ' ');
    std::fill(bar.begin() + from, bar.begin() + to, '=');
    std::string label = lines[k].label;
    label.append(name_w - columns(label), ' ');
    std::string dur(dur_w - columns(durs[k]), ' ');
    dur += durs[k];
    absl::StrAppend(&out, label, "  ", dur, " |", bar, "|\n");
  }
  return out;
}

}  // namespace tracer::ctl::remote
