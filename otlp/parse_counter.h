// A process-wide count of OTLP span-data parses, by the reason the bytes were
// parsed, so tests, benchmarks and /metrics can show how often the control
// plane turns the same batch into messages (issue 12: each batch at most
// once on its way in and out).
//
// A parse is one ParseFromArray of serialized OTLP span data into messages:
// an ExportTraceServiceRequest (a whole batch) or, for stored data, one
// ResourceSpans record. Walking the wire format without building messages
// (the fan-out's unparsed form, otlp/delivery/batch_merge.h) is not a
// parse. Counters only grow; they count since the process started.
#ifndef TRACER_OTLP_PARSE_COUNTER_H_
#define TRACER_OTLP_PARSE_COUNTER_H_

#include <array>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "otlp/exporter.h"

namespace tracer::otlp {

// Why span data was parsed.
enum class ParseSite {
  kIngest = 0,  // validating an upload before it is queued
  kStore,       // moving a queued batch into the embedded store
  kExport,      // building an export request for a backend
  kQuery,       // reading stored spans back (GetTrace, ListTraces)
};
inline constexpr int kParseSites = 4;

// "ingest", "store", "export", "query": the label /metrics uses.
absl::string_view ParseSiteName(ParseSite site);

// Counts one parse at `site`. Thread-safe (relaxed atomics).
void CountParse(ParseSite site);

// ParseFromArray of `bytes` into `out` (cleared first), counted at `site`.
// Returns false when `bytes` is not a serialized ExportTraceServiceRequest.
// Thread-safe for distinct `out`.
bool ParseExportRequest(absl::string_view bytes, ExportTraceServiceRequest* out, ParseSite site);

// Counts one batch accepted into the control plane (queued by its ingest),
// the denominator of "parses per batch". Thread-safe.
void CountBatchAccepted();

struct ParseCounts {
  std::array<uint64_t, kParseSites> parses{};  // indexed by ParseSite
  uint64_t batches_accepted = 0;

  uint64_t at(ParseSite site) const { return parses[static_cast<int>(site)]; }
  // Parses at every site but kQuery: the cost of a batch on its way in and out.
  uint64_t data_path() const;
};

// A snapshot of the counters. Thread-safe; the fields are read one by one,
// so a snapshot taken while others count may be mid-update by a few.
ParseCounts GetParseCounts();

}  // namespace tracer::otlp

#endif  // TRACER_OTLP_PARSE_COUNTER_H_
