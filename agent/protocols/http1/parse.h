// One direction of one connection: a byte stream of HTTP/1.x requests (or
// responses) fed chunk by chunk as captured, parsed with libhttp-parser 2.9
// (RFC 9112 message framing, §6 and §7 for bodies).
//
// Captured chunks may hold fewer bytes than were moved (the kernel copies
// only the first bytes of each read/write). The missing bytes form a *gap*
// right after the chunk's data, and the parser uses what it knows to stay
// in step:
//  - a gap inside a body of known length (Content-Length, or the current
//    chunk of a chunked body plus its CRLF) is counted, not parsed: parsing
//    continues exactly at the next byte;
//  - a gap inside a header section ends that message as kHeadersCut;
//  - a gap that swallows the chunk framing of a chunked body ends the
//    message as kBodyUnknown once its end is found (the next message start,
//    a captured chunked terminator "0\r\n\r\n", the close, or an idle
//    timeout);
//  - a gap reaching past a message end (or starting between messages)
//    reports OnMessagesLost().
// After a gap of unknown contents or a parse error the parser
// *resynchronises*: it ignores chunks until one begins with a request-line
// start ("GET ") or status-line start ("HTTP/1.1"), see detect.h.
#ifndef TRACER_AGENT_PROTOCOLS_HTTP1_PARSE_H_
#define TRACER_AGENT_PROTOCOLS_HTTP1_PARSE_H_

#include <http_parser.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "agent/protocols/http1/types.h"

namespace tracer::http {

// Receives what a MessageParser finds. Called synchronously from Feed(),
// Close() and ExpireHeld(); `m` is valid only during the call. A listener
// must not call back into the parser that is calling it.
class MessageListener {
 public:
  virtual ~MessageListener() = default;
  // A message's first byte was parsed (m.start_ns, m.first_tid are set).
  virtual void OnMessageBegin(const HttpMessage& m) = 0;
  // The header section ended. Return true when the message has no body
  // although its headers might say otherwise (RFC 9112 §6.3 rule 1: a
  // response to HEAD, or a 1xx, 204 or 304 response).
  virtual bool OnHeadersComplete(const HttpMessage& m) = 0;
  // The message begun last ended as `how`.
  virtual void OnMessageEnd(const HttpMessage& m, MessageEnd how) = 0;
  // The start of one or more messages was lost in a capture gap.
  virtual void OnMessagesLost() = 0;
  // The message that just ended switches protocols (Upgrade, CONNECT).
  // The parser ignores further bytes until Resume().
  virtual void OnUpgrade() = 0;
};

// What one parser counted.
struct MessageParserStats {
  uint64_t gaps = 0;          // chunks with fewer bytes than moved
  uint64_t gap_bytes = 0;     // bytes in those gaps
  uint64_t parse_errors = 0;  // chunks libhttp-parser rejected
  uint64_t resyncs = 0;       // times parsing restarted at a message start
};

// Thread-safety: none; one thread feeds a parser.
class MessageParser {
 public:
  // One captured chunk: `data` holds the first bytes of the `length` bytes
  // moved (data.size() <= length). Timestamps CLOCK_MONOTONIC ns.
  struct Chunk {
    std::string_view data;
    uint64_t length = 0;
    uint64_t start_ns = 0;
    uint64_t end_ns = 0;
    uint32_t tid = 0;
  };

  // `request`: parse requests (else responses). `keep_headers`: lowercase
  // header names to keep in HttpMessage::headers. `stats`: where to count
  // (may be shared by many parsers; nullptr: the parser's own). None of the
  // pointers is owned; all must outlive the parser.
  MessageParser(bool request, const absl::flat_hash_set<std::string>* keep_headers,
                MessageListener* listener, MessageParserStats* stats = nullptr);
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  // Parses `chunk.data`, then accounts for the gap of
  // chunk.length - chunk.data.size() bytes (if any) as described above.
  void Feed(const Chunk& chunk);

  // The connection closed at `ts_ns`: a body delimited by the close ends
  // (kComplete), any other message in progress ends as kClosed, a held
  // kBodyUnknown message ends.
  void Close(uint64_t ts_ns, uint32_t tid);

  // Ends a held kBodyUnknown message whose last byte is older than
  // now_ns - idle_ns.
  void ExpireHeld(uint64_t now_ns, uint64_t idle_ns);

  // After OnUpgrade(): the switch did not happen (the peer answered with a
  // normal response), so parsing resumes at the next message start.
  void Resume();

  // True while a message has begun and not ended (held ones included).
  bool InMessage() const { return phase_ != Phase::kBetween || held_; }
  bool upgraded() const { return upgraded_; }
  const MessageParserStats& stats() const { return *stats_; }

 private:
  enum class Phase { kBetween, kHeaders, kBody };

  static int OnBegin(http_parser* p);
  static int OnUrl(http_parser* p, const char* at, size_t n);
  static int OnStatus(http_parser* p, const char* at, size_t n);
  static int OnHeaderField(http_parser* p, const char* at, size_t n);
  static int OnHeaderValue(http_parser* p, const char* at, size_t n);
  static int OnHeadersDone(http_parser* p);
  static int OnBody(http_parser* p, const char* at, size_t n);
  static int OnChunkHeader(http_parser* p);
  static int OnChunkComplete(http_parser* p);
  static int OnComplete(http_parser* p);
  static const http_parser_settings& Settings();

  void Reset();
  // Runs libhttp-parser over `data`; false if it stopped (error, upgrade).
  bool Execute(std::string_view data);
  // Feeds `n` filler bytes standing for body bytes that were not captured.
  bool FeedFiller(uint64_t n);
  void Gap(uint64_t n);
  void Touch();
  void CommitHeader();
  void FillFromParser();
  void EndMessage(MessageEnd how);
  void StartResync();

  const bool request_;
  const absl::flat_hash_set<std::string>* const keep_headers_;
  MessageListener* const listener_;

  http_parser parser_;
  Phase phase_ = Phase::kBetween;
  bool resync_ = false;    // ignoring chunks until a message start
  bool held_ = false;      // msg_ awaits its end (kBodyUnknown)
  bool upgraded_ = false;  // ignoring everything until Resume()
  bool in_chunk_ = false;  // inside a chunk's data (or its CRLF)
  bool at_eof_ = false;    // Close() is feeding EOF
  Chunk cur_;
  HttpMessage msg_;
  // Header field being assembled (callbacks may split names and values).
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  bool field_too_long_ = false;
  MessageParserStats own_stats_;
  MessageParserStats* const stats_;
};

}  // namespace tracer::http

#endif  // TRACER_AGENT_PROTOCOLS_HTTP1_PARSE_H_
