#include "otlp/parse_counter.h"

#include <atomic>

namespace tracer::otlp {
namespace {

std::atomic<uint64_t> g_parses[kParseSites];
std::atomic<uint64_t> g_batches_accepted{0};

}  // namespace

absl::string_view ParseSiteName(ParseSite site) {
  switch (site) {
    case ParseSite::kIngest:
      return "ingest";
    case ParseSite::kStore:
      return "store";
    case ParseSite::kExport:
      return "export";
    case ParseSite::kQuery:
      return "query";
  }
  return "unknown";
}

void CountParse(ParseSite site) {
  g_parses[static_cast<int>(site)].fetch_add(1, std::memory_order_relaxed);
}

bool ParseExportRequest(absl::string_view bytes, ExportTraceServiceRequest* out, ParseSite site) {
  CountParse(site);
  return out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

void CountBatchAccepted() { g_batches_accepted.fetch_add(1, std::memory_order_relaxed); }

uint64_t ParseCounts::data_path() const {
  return at(ParseSite::kIngest) + at(ParseSite::kStore) + at(ParseSite::kExport);
}

ParseCounts GetParseCounts() {
  ParseCounts counts;
  for (int i = 0; i < kParseSites; ++i) {
    counts.parses[i] = g_parses[i].load(std::memory_order_relaxed);
  }
  counts.batches_accepted = g_batches_accepted.load(std::memory_order_relaxed);
  return counts;
}

}  // namespace tracer::otlp
