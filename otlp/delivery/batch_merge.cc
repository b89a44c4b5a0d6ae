#include "otlp/delivery/batch_merge.h"

#include <algorithm>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/unknown_field_set.h"
#include "google/protobuf/wire_format_lite.h"
#include "otlp/parse_counter.h"

namespace tracer::otlp::delivery {
namespace {

using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;
using google::protobuf::internal::WireFormatLite;

// Spans (ScopeSpans.spans = 2) in the serialized ResourceSpans `wire`
// (ResourceSpans.scope_spans = 2), walking the wire format without building
// messages; -1 if it is not well-formed protobuf down to the Span level.
// Fields are matched by number and wire type as the protobuf parser does (a
// known number with another wire type is an unknown field, skipped).
int64_t SpansInResourceSpans(const std::string& wire) {
  constexpr uint32_t kField2Bytes =
      WireFormatLite::MakeTag(2, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(wire.data()),
                                            static_cast<int>(wire.size()));
  int64_t spans = 0;
  while (uint32_t tag = in.ReadTag()) {
    if (tag != kField2Bytes) {
      if (!WireFormatLite::SkipField(&in, tag)) return -1;
      continue;
    }
    uint32_t length = 0;
    if (!in.ReadVarint32(&length)) return -1;
    const auto limit = in.PushLimit(static_cast<int>(length));
    while (uint32_t inner = in.ReadTag()) {
      if (inner == kField2Bytes) ++spans;
      if (!WireFormatLite::SkipField(&in, inner)) return -1;
    }
    if (!in.ConsumedEntireMessage() || in.BytesUntilLimit() != 0) return -1;
    in.PopLimit(limit);
  }
  return in.ConsumedEntireMessage() ? spans : -1;
}

// What AppendResourceSpansFields took from one record.
struct Appended {
  int resource_spans = 0;
  int64_t spans = 0;
};

// `resource_spans` (a serialized ResourceSpans) with `attributes` merged
// into its Resource (field 1): only the Resource is parsed; it is written
// first, as protobuf serializes it, followed by the other fields unparsed
// and in their order. nullopt if the Resource does not parse.
std::optional<std::string> WithResourceAttributes(const std::string& resource_spans,
                                                  const otlp::ResourceAttributes& attributes) {
  UnknownFieldSet fields;
  if (!fields.ParseFromString(resource_spans)) return std::nullopt;
  std::string resource_bytes;  // repeated occurrences merge, as in a parse
  UnknownFieldSet rest;
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    if (f.number() == 1 && f.type() == UnknownField::TYPE_LENGTH_DELIMITED) {
      resource_bytes += f.length_delimited();
    } else {
      rest.AddField(f);
    }
  }
  opentelemetry::proto::resource::v1::Resource resource;
  if (!resource.ParseFromString(resource_bytes)) return std::nullopt;
  otlp::MergeResourceAttributes(attributes, &resource);
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    const std::string bytes = resource.SerializeAsString();
    coded.WriteTag(WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    coded.WriteVarint32(static_cast<uint32_t>(bytes.size()));
    coded.WriteString(bytes);
  }
  std::string tail;
  if (!rest.SerializeToString(&tail)) return std::nullopt;
  out += tail;
  return out;
}

// Appends the field-1 (resource_spans) entries of the serialized request
// `wire` to `out`, unparsed (with `attributes` merged into their Resource
// when not empty), and counts their spans. Other top-level fields
// are left out, as the parsed form keeps only resource_spans. nullopt (and
// `out` unchanged) if `wire` is not well-formed down to the Span level.
std::optional<Appended> AppendResourceSpansFields(absl::string_view wire,
                                                  const otlp::ResourceAttributes& attributes,
                                                  UnknownFieldSet* out) {
  UnknownFieldSet fields;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(wire.data()),
                                            static_cast<int>(wire.size()));
  if (!fields.MergeFromCodedStream(&in) || !in.ConsumedEntireMessage()) return std::nullopt;
  Appended appended;
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    if (f.number() != 1 || f.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    const int64_t spans = SpansInResourceSpans(f.length_delimited());
    if (spans < 0) return std::nullopt;
    if (!attributes.empty()) {
      std::optional<std::string> merged = WithResourceAttributes(f.length_delimited(), attributes);
      if (!merged) return std::nullopt;
      fields.mutable_field(i)->mutable_length_delimited()->swap(*merged);
    }
    appended.spans += spans;
    ++appended.resource_spans;
  }
  for (int i = 0; i < fields.field_count(); ++i) {
    UnknownField* f = fields.mutable_field(i);
    if (f->number() != 1 || f->type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    out->AddLengthDelimited(1)->swap(*f->mutable_length_delimited());
  }
  return appended;
}

}  // namespace

storage::ReadLimits BatchReadLimits(size_t max_spans, size_t max_bytes) {
  storage::ReadLimits limits;
  limits.max_records = std::clamp<size_t>(max_spans, 1, 10000);
  limits.max_bytes = std::max<size_t>(max_bytes, 1);
  return limits;
}

MergedBatch MergeRecords(const std::vector<storage::WalRecord>& records, size_t max_spans,
                         size_t max_bytes, const otlp::ResourceAttributes& resource, MergeForm form,
                         PayloadFormat payload_format) {
  MergedBatch batch;
  batch.form = form;
  const bool wire = batch.form == MergeForm::kWire;
  uint64_t spans = 0;
  size_t bytes = 0;
  for (const storage::WalRecord& record : records) {
    if (batch.records > 0 &&
        (spans + record.span_count > max_spans || bytes + record.payload.size() > max_bytes)) {
      break;
    }
    spans += record.span_count;
    bytes += record.payload.size();
    if (batch.records == 0) batch.first_seq = record.seq;
    batch.last_seq = record.seq;
    ++batch.records;

    absl::StatusOr<absl::string_view> decoded = BatchOfPayload(payload_format, record.payload);
    if (!decoded.ok()) {
      batch.bad.push_back({record.seq, record.span_count, std::string(decoded.status().message())});
      continue;
    }
    constexpr char kNotARequest[] = "batch is not a valid ExportTraceServiceRequest";
    if (wire) {
      const std::optional<Appended> appended = AppendResourceSpansFields(
          *decoded, resource, batch.request.GetReflection()->MutableUnknownFields(&batch.request));
      if (!appended) {
        batch.bad.push_back({record.seq, record.span_count, kNotARequest});
        continue;
      }
      batch.resource_spans += static_cast<size_t>(appended->resource_spans);
      batch.spans += static_cast<uint64_t>(appended->spans);
      continue;
    }
    // Parsed on its own first: a failed parse must not leave half a record
    // merged into the request.
    otlp::ExportTraceServiceRequest one;
    if (!ParseExportRequest(*decoded, &one, ParseSite::kExport)) {
      batch.bad.push_back({record.seq, record.span_count, kNotARequest});
      continue;
    }
    for (auto& rs : *one.mutable_resource_spans()) {
      auto* out = batch.request.add_resource_spans();
      out->Swap(&rs);
      if (!resource.empty()) otlp::MergeResourceAttributes(resource, out->mutable_resource());
    }
  }
  if (!wire) {
    batch.spans = static_cast<uint64_t>(otlp::CountSpans(batch.request));
    batch.resource_spans = static_cast<size_t>(batch.request.resource_spans_size());
  }
  return batch;
}

absl::Status ToParsedForm(MergedBatch* batch) {
  if (batch->form == MergeForm::kParsed) return absl::OkStatus();
  otlp::ExportTraceServiceRequest parsed;
  const UnknownFieldSet& fields = batch->request.GetReflection()->GetUnknownFields(batch->request);
  int unparsable = 0;
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    if (f.number() != 1 || f.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    auto* rs = parsed.add_resource_spans();
    CountParse(ParseSite::kExport);
    if (!rs->ParseFromString(f.length_delimited())) {
      parsed.mutable_resource_spans()->RemoveLast();
      ++unparsable;
    }
  }
  batch->request = std::move(parsed);
  batch->form = MergeForm::kParsed;
  if (unparsable > 0) {
    return absl::DataLossError(
        absl::StrCat(unparsable, " ResourceSpans of the merged batch do not parse"));
  }
  return absl::OkStatus();
}

}  // namespace tracer::otlp::delivery
