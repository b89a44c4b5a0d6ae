#include "agent/protocols/http1/parse.h"

#include <algorithm>
#include <climits>

#include "absl/strings/ascii.h"
#include "agent/protocols/http1/detect.h"

namespace tracer::http {
namespace {

// Header names longer than this are never on an allowlist; not kept.
constexpr size_t kMaxHeaderNameBytes = 64;
// Filler standing for uncaptured body bytes; libhttp-parser only counts
// body bytes, so their value does not matter.
constexpr size_t kFillerBytes = 64 << 10;
const char kFiller[kFillerBytes] = {};

MessageParser* Self(http_parser* p) { return static_cast<MessageParser*>(p->data); }

void AppendBounded(std::string& dst, const char* at, size_t n, size_t max, bool* cut) {
  const size_t room = dst.size() < max ? max - dst.size() : 0;
  if (n > room) {
    if (cut != nullptr) *cut = true;
    n = room;
  }
  dst.append(at, n);
}

// The last-chunk and empty trailer section that end a chunked body
// (RFC 9112 §7.1).
bool EndsWithLastChunk(std::string_view data) {
  constexpr std::string_view kEnd = "0\r\n\r\n";
  return data.size() >= kEnd.size() && data.substr(data.size() - kEnd.size()) == kEnd;
}

}  // namespace

MessageParser::MessageParser(bool request, const absl::flat_hash_set<std::string>* keep_headers,
                             MessageListener* listener, MessageParserStats* stats)
    : request_(request),
      keep_headers_(keep_headers),
      listener_(listener),
      stats_(stats != nullptr ? stats : &own_stats_) {
  Reset();
}

const http_parser_settings& MessageParser::Settings() {
  static const http_parser_settings settings = [] {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_message_begin = &MessageParser::OnBegin;
    s.on_url = &MessageParser::OnUrl;
    s.on_status = &MessageParser::OnStatus;
    s.on_header_field = &MessageParser::OnHeaderField;
    s.on_header_value = &MessageParser::OnHeaderValue;
    s.on_headers_complete = &MessageParser::OnHeadersDone;
    s.on_body = &MessageParser::OnBody;
    s.on_message_complete = &MessageParser::OnComplete;
    s.on_chunk_header = &MessageParser::OnChunkHeader;
    s.on_chunk_complete = &MessageParser::OnChunkComplete;
    return s;
  }();
  return settings;
}

void MessageParser::Reset() {
  http_parser_init(&parser_, request_ ? HTTP_REQUEST : HTTP_RESPONSE);
  parser_.data = this;
  phase_ = Phase::kBetween;
  in_chunk_ = false;
}

void MessageParser::Touch() {
  if (at_eof_) return;  // the close is not a byte of the message
  msg_.end_ns = cur_.end_ns;
  msg_.last_tid = cur_.tid;
}

int MessageParser::OnBegin(http_parser* p) {
  MessageParser* self = Self(p);
  self->msg_ = HttpMessage();
  self->msg_.is_request = self->request_;
  self->msg_.start_ns = self->cur_.start_ns;
  self->msg_.first_tid = self->cur_.tid;
  self->Touch();
  self->field_.clear();
  self->value_.clear();
  self->in_value_ = false;
  self->field_too_long_ = false;
  self->phase_ = Phase::kHeaders;
  self->in_chunk_ = false;
  self->listener_->OnMessageBegin(self->msg_);
  return 0;
}

int MessageParser::OnUrl(http_parser* p, const char* at, size_t n) {
  MessageParser* self = Self(p);
  self->Touch();
  if (self->msg_.method.empty()) {
    self->msg_.method = http_method_str(static_cast<http_method>(p->method));
  }
  AppendBounded(self->msg_.target, at, n, kMaxTargetBytes, &self->msg_.target_truncated);
  return 0;
}

int MessageParser::OnStatus(http_parser* p, const char*, size_t) {
  MessageParser* self = Self(p);
  self->Touch();
  self->msg_.status_code = p->status_code;
  return 0;
}

void MessageParser::CommitHeader() {
  if (!field_.empty() && !field_too_long_ && msg_.headers.size() < kMaxKeptHeaders &&
      keep_headers_ != nullptr && keep_headers_->contains(field_)) {
    msg_.headers.emplace_back(field_, std::string(absl::StripAsciiWhitespace(value_)));
  }
  field_.clear();
  value_.clear();
  field_too_long_ = false;
  in_value_ = false;
}

int MessageParser::OnHeaderField(http_parser* p, const char* at, size_t n) {
  MessageParser* self = Self(p);
  self->Touch();
  if (self->in_value_) self->CommitHeader();
  if (self->field_.size() + n > kMaxHeaderNameBytes) {
    self->field_too_long_ = true;
    return 0;
  }
  for (size_t i = 0; i < n; ++i) self->field_.push_back(absl::ascii_tolower(at[i]));
  return 0;
}

int MessageParser::OnHeaderValue(http_parser* p, const char* at, size_t n) {
  MessageParser* self = Self(p);
  self->Touch();
  self->in_value_ = true;
  if (!self->field_too_long_) AppendBounded(self->value_, at, n, kMaxHeaderValueBytes, nullptr);
  return 0;
}

void MessageParser::FillFromParser() {
  if (request_) {
    if (msg_.method.empty() && !msg_.target.empty()) {
      msg_.method = http_method_str(static_cast<http_method>(parser_.method));
    }
  } else if (parser_.status_code != 0) {
    msg_.status_code = parser_.status_code;
  }
}

int MessageParser::OnHeadersDone(http_parser* p) {
  MessageParser* self = Self(p);
  self->Touch();
  if (self->in_value_) self->CommitHeader();
  HttpMessage& m = self->msg_;
  if (self->request_) {
    m.method = http_method_str(static_cast<http_method>(p->method));
  } else {
    m.status_code = p->status_code;
  }
  m.http_major = p->http_major;
  m.http_minor = p->http_minor;
  m.chunked = (p->flags & F_CHUNKED) != 0;
  m.headers_complete = true;
  self->phase_ = Phase::kBody;
  const bool no_body = self->listener_->OnHeadersComplete(m);
  // 1 = F_SKIPBODY: libhttp-parser ends the message after the headers.
  return (!self->request_ && no_body) ? 1 : 0;
}

int MessageParser::OnBody(http_parser* p, const char*, size_t n) {
  MessageParser* self = Self(p);
  self->Touch();
  self->msg_.body_bytes += n;
  return 0;
}

int MessageParser::OnChunkHeader(http_parser* p) {
  MessageParser* self = Self(p);
  self->Touch();
  // content_length holds the chunk's size here; 0 is the last chunk.
  self->in_chunk_ = p->content_length > 0;
  return 0;
}

int MessageParser::OnChunkComplete(http_parser* p) {
  Self(p)->in_chunk_ = false;
  return 0;
}

int MessageParser::OnComplete(http_parser* p) {
  MessageParser* self = Self(p);
  self->Touch();
  self->EndMessage(MessageEnd::kComplete);
  return 0;
}

void MessageParser::EndMessage(MessageEnd how) {
  phase_ = Phase::kBetween;
  in_chunk_ = false;
  held_ = false;
  if (how != MessageEnd::kComplete) FillFromParser();
  listener_->OnMessageEnd(msg_, how);
}

void MessageParser::StartResync() {
  resync_ = true;
  in_chunk_ = false;
}

bool MessageParser::Execute(std::string_view data) {
  if (data.empty()) return true;
  const size_t n = http_parser_execute(&parser_, &Settings(), data.data(), data.size());
  if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK) {
    ++stats_->parse_errors;
    if (phase_ != Phase::kBetween) EndMessage(MessageEnd::kParseError);
    phase_ = Phase::kBetween;
    StartResync();
    return false;
  }
  if (parser_.upgrade) {
    // libhttp-parser stops after the message that switches protocols; the
    // bytes after it (n < size) belong to the new protocol.
    upgraded_ = true;
    phase_ = Phase::kBetween;
    listener_->OnUpgrade();
    return false;
  }
  (void)n;
  return true;
}

bool MessageParser::FeedFiller(uint64_t n) {
  while (n > 0) {
    const size_t step = static_cast<size_t>(std::min<uint64_t>(n, kFillerBytes));
    if (!Execute(std::string_view(kFiller, step))) return false;
    n -= step;
  }
  return true;
}

void MessageParser::Feed(const Chunk& chunk) {
  if (upgraded_) return;
  cur_ = chunk;
  const uint64_t gap = chunk.length > chunk.data.size() ? chunk.length - chunk.data.size() : 0;
  if (resync_) {
    if (!StartsMessage(chunk.data, request_)) {
      if (held_) {
        // Still the held message's body.
        msg_.end_ns = chunk.end_ns;
        msg_.last_tid = chunk.tid;
        if (msg_.chunked && gap == 0 && EndsWithLastChunk(chunk.data)) {
          EndMessage(MessageEnd::kBodyUnknown);
        }
      }
      return;
    }
    if (held_) EndMessage(MessageEnd::kBodyUnknown);
    resync_ = false;
    ++stats_->resyncs;
    Reset();
  }
  if (!Execute(chunk.data)) return;
  if (gap > 0) Gap(gap);
}

void MessageParser::Gap(uint64_t n) {
  ++stats_->gaps;
  stats_->gap_bytes += n;
  switch (phase_) {
    case Phase::kBetween:
      listener_->OnMessagesLost();
      StartResync();
      return;
    case Phase::kHeaders:
      EndMessage(MessageEnd::kHeadersCut);
      StartResync();
      return;
    case Phase::kBody:
      break;
  }
  if (!msg_.chunked) {
    const uint64_t remaining = parser_.content_length;  // ULLONG_MAX: until close
    const uint64_t fill = std::min<uint64_t>(n, remaining);
    if (!FeedFiller(fill)) return;
    n -= fill;
    if (n == 0) return;
    // The gap reaches past this message's end into following ones.
    listener_->OnMessagesLost();
    StartResync();
    return;
  }
  if (in_chunk_) {
    const uint64_t fill = std::min<uint64_t>(n, parser_.content_length);
    if (!FeedFiller(fill)) return;
    n -= fill;
    if (n == 0) return;
    if (n <= 2) {
      // Only the CRLF closing the chunk (RFC 9112 §7.1) was not captured.
      Execute(std::string_view("\r\n", n));
      return;
    }
  }
  // Chunk framing lost: the end of this message is found later.
  msg_.body_size_known = false;
  held_ = true;
  phase_ = Phase::kBetween;
  StartResync();
}

void MessageParser::Close(uint64_t ts_ns, uint32_t tid) {
  if (upgraded_) return;
  cur_ = Chunk{std::string_view(), 0, ts_ns, ts_ns, tid};
  if (resync_) {
    if (held_) EndMessage(MessageEnd::kBodyUnknown);
    return;
  }
  if (phase_ == Phase::kBetween) return;
  at_eof_ = true;
  // A zero-length execute signals EOF, which ends a body delimited by the
  // close (RFC 9112 §6.3 rule 8).
  http_parser_execute(&parser_, &Settings(), nullptr, 0);
  at_eof_ = false;
  if (phase_ != Phase::kBetween) EndMessage(MessageEnd::kClosed);
}

void MessageParser::ExpireHeld(uint64_t now_ns, uint64_t idle_ns) {
  if (held_ && now_ns >= msg_.end_ns && now_ns - msg_.end_ns >= idle_ns) {
    EndMessage(MessageEnd::kBodyUnknown);
  }
}

void MessageParser::Resume() {
  if (!upgraded_) return;
  upgraded_ = false;
  Reset();
  StartResync();
}

}  // namespace tracer::http
