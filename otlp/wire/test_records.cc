#include "otlp/wire/test_records.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "absl/strings/str_cat.h"

namespace tracer::otlp::wire::testing {

std::string_view RecordStore::Keep(std::string_view s) {
  strings_.emplace_back(s);
  return strings_.back();
}

absl::Span<const Attribute> RecordStore::KeepAttributes(std::vector<Attribute> attrs) {
  attributes_.push_back(std::move(attrs));
  return attributes_.back();
}

absl::Span<const std::string_view> RecordStore::KeepViews(std::vector<std::string_view> views) {
  views_.push_back(std::move(views));
  return views_.back();
}

absl::Span<const Event> RecordStore::KeepEvents(std::vector<Event> events) {
  events_.push_back(std::move(events));
  return events_.back();
}

namespace {

template <size_t N>
void RandomId(std::mt19937_64& rng, std::array<uint8_t, N>* id) {
  for (size_t i = 0; i < N; i += 8) {
    uint64_t r = rng();
    for (size_t j = 0; j < 8 && i + j < N; ++j) (*id)[i + j] = static_cast<uint8_t>(r >> (8 * j));
  }
}

constexpr const char* kSyscalls[] = {"read",  "write", "openat",   "close",
                                     "fstat", "mmap",  "recvfrom", "sendto"};

}  // namespace

void MakeAgentLikeBatch(int spans, uint64_t seed, RecordStore* store) {
  std::mt19937_64 rng(seed);
  const int64_t pid = 1000 + static_cast<int64_t>(seed % 30000);
  store->resource_attributes = store->KeepAttributes({
      Attribute::String("service.name", "nginx"),
      Attribute::String("host.name", "node-17.example.internal"),
      Attribute::String("os.type", "linux"),
      Attribute::Int("process.pid", pid),
      Attribute::Int("process.parent_pid", 1),
      Attribute::String("process.executable.path", "/usr/sbin/nginx"),
      Attribute::String("process.command_line", "nginx: worker process"),
      Attribute::String("telemetry.sdk.name", "tracer"),
  });
  store->scope_name = "tracer-agent";
  store->scope_version = "0.1";
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> root_id{};
  const uint64_t start_unix_ns = 1'700'000'000'000'000'000ull;
  store->spans().reserve(spans);
  for (int i = 0; i < spans; ++i) {
    SpanRecord s;
    if (i % 8 == 0) {
      RandomId(rng, &trace_id);
      RandomId(rng, &root_id);
      s.span_id = root_id;
    } else {
      RandomId(rng, &s.span_id);
      s.parent_span_id = root_id;
    }
    s.trace_id = trace_id;
    s.flags = 0x101;
    const uint64_t start = start_unix_ns + static_cast<uint64_t>(i) * 1000;
    const uint64_t dur_ns = 2000 + rng() % 500000;
    s.start_time_unix_nano = start;
    s.end_time_unix_nano = start + dur_ns;
    if (i % 4 == 3) {
      const int item = static_cast<int>(rng() % 10000);
      s.name = store->Keep(absl::StrCat("GET /api/items/", item));
      s.kind = SpanKind::kServer;
      s.attributes = store->KeepAttributes({
          Attribute::String("http.request.method", "GET"),
          Attribute::String("url.path", store->Keep(absl::StrCat("/api/items/", item))),
          Attribute::String("url.scheme", "http"),
          Attribute::Int("http.response.status_code", 200),
          Attribute::String("server.address", "10.0.3.17"),
          Attribute::Int("server.port", 8080),
          Attribute::String("client.address", "10.0.7.201"),
          Attribute::String("network.peer.address", "10.0.7.201"),
          Attribute::String("network.protocol.version", "1.1"),
          Attribute::String("user_agent.original", "curl/7.88.1"),
      });
    } else {
      const int which = static_cast<int>(rng() % 8);
      const int fd = 3 + static_cast<int>(rng() % 60);
      const bool failed = i % 16 == 5;
      s.name = kSyscalls[which];
      s.kind = SpanKind::kInternal;
      s.attributes = store->KeepAttributes({
          Attribute::String("syscall.name", kSyscalls[which]),
          Attribute::Int("syscall.number", which),
          Attribute::String(
              "syscall.args",
              store->Keep(absl::StrCat(fd, ", \"GET /api/items HTTP/1.1\\r\\nHost: ...\", 4096"))),
          Attribute::Int("syscall.result", failed ? -2 : static_cast<int64_t>(rng() % 4096)),
          Attribute::Int("syscall.duration_us", static_cast<int64_t>(dur_ns / 1000)),
          Attribute::Int("thread.id", pid + static_cast<int64_t>(rng() % 4)),
          Attribute::Int("process.pid", pid),
          Attribute::String("process.executable.name", "nginx"),
          Attribute::String("fd.path", store->Keep(absl::StrCat("socket:[", 40000 + fd, "]"))),
          Attribute::String("tracer.session.id", "s-7f3a9c"),
      });
      if (failed) {
        s.status_code = StatusCode::kError;
        s.status_message = "ENOENT";
      }
    }
    store->spans().push_back(s);
  }
}

// Every value type, escaping, extremes; strings that are not UTF-8 when
// `non_utf8`.
static std::unique_ptr<RecordStore> RichBatch(bool non_utf8) {
  auto store = std::make_unique<RecordStore>();
  RecordStore* st = store.get();
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  controls += "\x7f\"\\/";
  const std::string_view kControls = st->Keep(controls);
  // Named for the non_utf8 batch; valid UTF-8 (multi-byte) in the other.
  const std::string_view kNonUtf8 =
      non_utf8 ? st->Keep(
                     "ok\xff\xfe bad \xc0\xaf overlong \xed\xa0\x80 surrogate \xf4\x90\x80\x80 big "
                     "\xe2\x82 truncated \xe2\x82\xac euro \xf0\x9f\x98\x80 emoji \x80")
               : st->Keep("valid \xe2\x82\xac euro \xf0\x9f\x98\x80 emoji \xc3\xa9");
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  const std::string_view kAllBytes = st->Keep(all_bytes);
  const std::string_view kLong = st->Keep(std::string(70000, 'x'));  // 3-byte length varint
  const std::string_view kMedium = st->Keep(std::string(200, 'y'));  // 2-byte length varint
  st->resource_attributes = st->KeepAttributes({
      Attribute::String("service.name", "svc \"quoted\""),
      Attribute::String("", ""),
      Attribute::Bytes("resource.bytes", kAllBytes),
  });
  st->scope_name = kControls;
  st->scope_version = kNonUtf8;

  const double kInf = std::numeric_limits<double>::infinity();
  absl::Span<const Attribute> every_type = st->KeepAttributes({
      Attribute::String("s", "plain"),
      Attribute::String("s.empty", ""),
      Attribute::String("s.controls", kControls),
      Attribute::String("s.non_utf8", kNonUtf8),
      Attribute::String(kNonUtf8, "key not UTF-8"),
      Attribute::String("s.long", kLong),
      Attribute::String("s.medium", kMedium),
      Attribute::Int("i.zero", 0),
      Attribute::Int("i.one", 1),
      Attribute::Int("i.neg", -1),
      Attribute::Int("i.min", std::numeric_limits<int64_t>::min()),
      Attribute::Int("i.max", std::numeric_limits<int64_t>::max()),
      Attribute::Double("d.zero", 0.0),
      Attribute::Double("d.negzero", -0.0),
      Attribute::Double("d.pi", 3.14159265358979),
      Attribute::Double("d.tiny", 5e-324),
      Attribute::Double("d.huge", 1.7976931348623157e308),
      Attribute::Double("d.nan", std::nan("")),
      Attribute::Double("d.inf", kInf),
      Attribute::Double("d.neginf", -kInf),
      Attribute::Bool("b.true", true),
      Attribute::Bool("b.false", false),
      Attribute::Bytes("x.empty", ""),
      Attribute::Bytes("x.one", "\x01"),
      Attribute::Bytes("x.two", "\xfe\xff"),
      Attribute::Bytes("x.all", kAllBytes),
      Attribute::StringArray("a.empty", {}),
      Attribute::StringArray("a.one", st->KeepViews({"text/html"})),
      Attribute::StringArray("a.escapes",
                             st->KeepViews({"", kControls, kNonUtf8, kMedium, "\"q\""})),
  });
  absl::Span<const Attribute> event_attrs = st->KeepAttributes({
      Attribute::String("exception.message", "boom\n\tat line 1"),
      Attribute::Int("n", 42),
  });
  absl::Span<const Event> events = st->KeepEvents({
      Event{1'700'000'000'000'000'123ull, "event.one", event_attrs, 0},
      Event{0, "", {}, 0},
      Event{std::numeric_limits<uint64_t>::max(), kNonUtf8, every_type, 7},
  });

  for (int i = 0; i < 12; ++i) {
    SpanRecord s;
    for (size_t b = 0; b < 16; ++b) s.trace_id[b] = static_cast<uint8_t>(i * 16 + b);
    for (size_t b = 0; b < 8; ++b) s.span_id[b] = static_cast<uint8_t>(0xa0 + i + b);
    if (i % 2 == 1) s.parent_span_id = {1, 2, 3, 4, 5, 6, 7, 8};
    s.kind = static_cast<SpanKind>(i % 6);
    s.status_code = static_cast<StatusCode>(i % 3);
    switch (i) {
      case 0:  // everything zero / empty
        s.trace_id = {};
        s.span_id = {};
        break;
      case 1:  // everything maximal
        s.trace_id.fill(0xff);
        s.span_id.fill(0xff);
        s.parent_span_id.fill(0xff);
        s.flags = 0xffffffffu;
        s.trace_state = "vendor=a,other=\"b\"";
        s.name = kLong;
        s.start_time_unix_nano = std::numeric_limits<uint64_t>::max();
        s.end_time_unix_nano = std::numeric_limits<uint64_t>::max();
        s.attributes = every_type;
        s.dropped_attributes_count = 0xffffffffu;
        s.events = events;
        s.dropped_events_count = 0xffffffffu;
        s.status_code = StatusCode::kError;
        s.status_message = kControls;
        break;
      case 2:
        s.name = kNonUtf8;
        s.attributes = every_type;
        s.status_message = "message without code";
        s.status_code = StatusCode::kUnset;
        break;
      case 3:
        s.name = kControls;
        s.flags = 1;
        s.events = events.subspan(0, 1);
        s.start_time_unix_nano = 1;
        s.end_time_unix_nano = 2;
        break;
      case 4:
        s.name = "read";
        s.start_time_unix_nano = 1'700'000'000'000'000'000ull;
        s.end_time_unix_nano = 1'700'000'000'000'300'000ull;
        s.attributes = event_attrs;
        s.dropped_attributes_count = 3;
        s.dropped_events_count = 1;
        s.status_code = StatusCode::kOk;
        break;
      default:
        s.name = kMedium;
        s.attributes = every_type.subspan(i % every_type.size(), 3);
        s.events = events.subspan(i % 3, 1);
        s.start_time_unix_nano = 1000 * static_cast<uint64_t>(i);
        s.end_time_unix_nano = 1000 * static_cast<uint64_t>(i) + 1;
        break;
    }
    st->spans().push_back(s);
  }
  return store;
}

std::vector<std::unique_ptr<RecordStore>> MakeCorpus() {
  std::vector<std::unique_ptr<RecordStore>> corpus;

  // An empty batch: no resource attributes, no scope name, no spans.
  corpus.push_back(std::make_unique<RecordStore>());

  // Agent-like spans.
  corpus.push_back(std::make_unique<RecordStore>());
  MakeAgentLikeBatch(64, 7, corpus.back().get());

  corpus.push_back(RichBatch(/*non_utf8=*/false));
  corpus.push_back(RichBatch(/*non_utf8=*/true));

  // One span, no resource attributes.
  corpus.push_back(std::make_unique<RecordStore>());
  {
    SpanRecord s;
    s.trace_id[15] = 1;
    s.span_id[7] = 1;
    s.name = "only";
    corpus.back()->spans().push_back(s);
  }
  return corpus;
}

namespace {

// Reads the fuzz input front to back; past the end everything is zero.
class ByteReader {
 public:
  explicit ByteReader(std::string_view b) : b_(b) {}
  bool empty() const { return pos_ >= b_.size(); }
  uint8_t U8() { return pos_ < b_.size() ? static_cast<uint8_t>(b_[pos_++]) : 0; }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | U8();
    return v;
  }
  std::string_view Str() {
    size_t n = U8();
    if (n == 0xff) n = 300 + U8() * 3;  // long strings now and then
    n = std::min(n, b_.size() - std::min(pos_, b_.size()));
    std::string_view s = b_.substr(std::min(pos_, b_.size()), n);
    pos_ += n;
    return s;
  }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

std::vector<Attribute> ReadAttributes(ByteReader& r, RecordStore* store) {
  std::vector<Attribute> attrs(r.U8() % 6);
  for (Attribute& a : attrs) {
    const std::string_view key = store->Keep(r.Str());
    switch (r.U8() % 6) {
      case 0:
        a = Attribute::String(key, store->Keep(r.Str()));
        break;
      case 1:
        a = Attribute::Int(key, static_cast<int64_t>(r.U64()));
        break;
      case 2: {
        const uint64_t bits = r.U64();
        double d;
        std::memcpy(&d, &bits, sizeof(d));
        a = Attribute::Double(key, d);
        break;
      }
      case 3:
        a = Attribute::Bool(key, r.U8() & 1);
        break;
      case 4:
        a = Attribute::Bytes(key, store->Keep(r.Str()));
        break;
      default: {
        std::vector<std::string_view> values(r.U8() % 4);
        for (std::string_view& v : values) v = store->Keep(r.Str());
        a = Attribute::StringArray(key, store->KeepViews(std::move(values)));
        break;
      }
    }
  }
  return attrs;
}

}  // namespace

void MakeBatchFromBytes(std::string_view bytes, RecordStore* store) {
  ByteReader r(bytes);
  store->resource_attributes = store->KeepAttributes(ReadAttributes(r, store));
  store->scope_name = store->Keep(r.Str());
  store->scope_version = store->Keep(r.Str());
  while (!r.empty() && store->spans().size() < 64) {
    SpanRecord s;
    const uint8_t shape = r.U8();
    for (auto& b : s.trace_id) b = (shape & 1) ? r.U8() : 0;
    for (auto& b : s.span_id) b = (shape & 2) ? r.U8() : 0;
    for (auto& b : s.parent_span_id) b = (shape & 4) ? r.U8() : 0;
    if (shape & 8) s.trace_state = store->Keep(r.Str());
    s.flags = static_cast<uint32_t>(r.U64());
    s.name = store->Keep(r.Str());
    s.kind = static_cast<SpanKind>(r.U8() % 6);
    s.start_time_unix_nano = (shape & 16) ? r.U64() : r.U8();
    s.end_time_unix_nano = (shape & 16) ? r.U64() : r.U8();
    s.attributes = store->KeepAttributes(ReadAttributes(r, store));
    s.dropped_attributes_count = r.U8();
    if (shape & 32) {
      std::vector<Event> events(r.U8() % 4);
      for (Event& e : events) {
        e.time_unix_nano = r.U64();
        e.name = store->Keep(r.Str());
        e.attributes = store->KeepAttributes(ReadAttributes(r, store));
        e.dropped_attributes_count = r.U8();
      }
      s.events = store->KeepEvents(std::move(events));
    }
    s.dropped_events_count = r.U8();
    s.status_code = static_cast<StatusCode>(r.U8() % 3);
    if (shape & 64) s.status_message = store->Keep(r.Str());
    store->spans().push_back(s);
  }
}

}  // namespace tracer::otlp::wire::testing
