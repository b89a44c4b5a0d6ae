#include "otlp/parse_counter.h"

#include "gtest/gtest.h"

namespace tracer::otlp {
namespace {

TEST(ParseCounterTest, CountsEachParseAtItsSite) {
  const ParseCounts before = GetParseCounts();
  ExportTraceServiceRequest request;
  request.add_resource_spans()->add_scope_spans()->add_spans()->set_name("x");
  const std::string bytes = request.SerializeAsString();
  ExportTraceServiceRequest out;
  EXPECT_TRUE(ParseExportRequest(bytes, &out, ParseSite::kIngest));
  EXPECT_EQ(CountSpans(out), 1);
  EXPECT_FALSE(ParseExportRequest("\xff\xff\xff", &out, ParseSite::kStore));  // counted too
  CountParse(ParseSite::kQuery);
  CountBatchAccepted();
  const ParseCounts after = GetParseCounts();
  EXPECT_EQ(after.at(ParseSite::kIngest) - before.at(ParseSite::kIngest), 1u);
  EXPECT_EQ(after.at(ParseSite::kStore) - before.at(ParseSite::kStore), 1u);
  EXPECT_EQ(after.at(ParseSite::kExport) - before.at(ParseSite::kExport), 0u);
  EXPECT_EQ(after.at(ParseSite::kQuery) - before.at(ParseSite::kQuery), 1u);
  EXPECT_EQ(after.data_path() - before.data_path(), 2u);
  EXPECT_EQ(after.batches_accepted - before.batches_accepted, 1u);
  EXPECT_EQ(ParseSiteName(ParseSite::kExport), "export");
}

}  // namespace
}  // namespace tracer::otlp
