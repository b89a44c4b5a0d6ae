#include "agent/protocols/http1/parse.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tracer::http {
namespace {

struct Ended {
  HttpMessage m;
  MessageEnd how;
};

class Recorder : public MessageListener {
 public:
  void OnMessageBegin(const HttpMessage& m) override { ++begins; }
  bool OnHeadersComplete(const HttpMessage& m) override { return no_body; }
  void OnMessageEnd(const HttpMessage& m, MessageEnd how) override { ended.push_back({m, how}); }
  void OnMessagesLost() override { ++lost; }
  void OnUpgrade() override { ++upgrades; }

  int begins = 0;
  int lost = 0;
  int upgrades = 0;
  bool no_body = false;
  std::vector<Ended> ended;
};

class MessageParserTest : public ::testing::Test {
 protected:
  void Feed(MessageParser& p, std::string_view bytes, size_t captured = std::string::npos) {
    ts_ += 1000;
    MessageParser::Chunk c;
    c.data = bytes.substr(0, std::min(captured, bytes.size()));
    c.length = bytes.size();
    c.start_ns = ts_;
    c.end_ns = ts_ + 10;
    c.tid = 7;
    p.Feed(c);
  }
  absl::flat_hash_set<std::string> keep_{"host", "user-agent"};
  Recorder rec_;
  uint64_t ts_ = 0;
};

TEST_F(MessageParserTest, RequestFields) {
  MessageParser p(true, &keep_, &rec_);
  Feed(p, "GET /a?b=1 HTTP/1.1\r\nHost: example:80\r\nUser-Agent:  curl/8 \r\nX-Other: 1\r\n\r\n");
  ASSERT_EQ(rec_.ended.size(), 1u);
  const HttpMessage& m = rec_.ended[0].m;
  EXPECT_EQ(rec_.ended[0].how, MessageEnd::kComplete);
  EXPECT_EQ(m.method, "GET");
  EXPECT_EQ(m.target, "/a?b=1");
  EXPECT_EQ(m.http_major, 1);
  EXPECT_EQ(m.http_minor, 1);
  ASSERT_EQ(m.headers.size(), 2u);  // X-Other is not kept
  EXPECT_EQ(*m.Header("host"), "example:80");
  EXPECT_EQ(*m.Header("user-agent"), "curl/8");
  EXPECT_EQ(m.body_bytes, 0u);
  EXPECT_EQ(m.start_ns, 1000u);
  EXPECT_EQ(m.end_ns, 1010u);
}

TEST_F(MessageParserTest, HeaderNamesAndValuesSplitAcrossChunks) {
  MessageParser p(true, &keep_, &rec_);
  const std::string req = "POST /up HTTP/1.0\r\nHoSt: h\r\nContent-Length: 3\r\n\r\nabc";
  for (char c : req) Feed(p, std::string_view(&c, 1));
  ASSERT_EQ(rec_.ended.size(), 1u);
  const HttpMessage& m = rec_.ended[0].m;
  EXPECT_EQ(m.method, "POST");
  EXPECT_EQ(*m.Header("host"), "h");
  EXPECT_EQ(m.body_bytes, 3u);
  EXPECT_EQ(m.start_ns, 1000u);
  EXPECT_EQ(m.end_ns, 1000u * req.size() + 10);
}

TEST_F(MessageParserTest, GapInsideContentLengthBodyIsSkippedExactly) {
  MessageParser p(false, &keep_, &rec_);
  const std::string body(100000, 'x');
  const std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + body;
  Feed(p, resp, 4096);
  Feed(p, "HTTP/1.1 204 No Content\r\n\r\n");
  ASSERT_EQ(rec_.ended.size(), 2u);
  EXPECT_EQ(rec_.ended[0].how, MessageEnd::kComplete);
  EXPECT_EQ(rec_.ended[0].m.body_bytes, 100000u);
  EXPECT_EQ(rec_.ended[1].m.status_code, 204);
  EXPECT_EQ(p.stats().gaps, 1u);
  EXPECT_EQ(p.stats().parse_errors, 0u);
}

TEST_F(MessageParserTest, GapInChunkDataWithItsCrlfIsSkipped) {
  MessageParser p(false, &keep_, &rec_);
  Feed(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  // One write per chunk (size line, data, CRLF); only the first 16 bytes copied.
  Feed(p, "1000\r\n" + std::string(4096, 'a') + "\r\n", 16);
  Feed(p, "5\r\nhello\r\n");
  Feed(p, "0\r\n\r\n");
  ASSERT_EQ(rec_.ended.size(), 1u);
  EXPECT_EQ(rec_.ended[0].how, MessageEnd::kComplete);
  EXPECT_TRUE(rec_.ended[0].m.chunked);
  EXPECT_EQ(rec_.ended[0].m.body_bytes, 4096u + 5u);
}

TEST_F(MessageParserTest, LostChunkFramingHoldsUntilTerminator) {
  MessageParser p(false, &keep_, &rec_);
  Feed(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  // Several chunks in one write: framing after the first is lost.
  Feed(p, "4\r\nabcd\r\n4\r\nefgh\r\n4\r\nijkl\r\n", 8);
  EXPECT_TRUE(rec_.ended.empty());
  Feed(p, "4\r\nmnop\r\n0\r\n\r\n");
  ASSERT_EQ(rec_.ended.size(), 1u);
  EXPECT_EQ(rec_.ended[0].how, MessageEnd::kBodyUnknown);
  EXPECT_FALSE(rec_.ended[0].m.body_size_known);
  EXPECT_EQ(rec_.ended[0].m.end_ns, ts_ + 10);
  Feed(p, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(rec_.ended.size(), 2u);
  EXPECT_EQ(rec_.ended[1].how, MessageEnd::kComplete);
}

TEST_F(MessageParserTest, GapInHeadersCutsMessageAndResyncs) {
  MessageParser p(true, &keep_, &rec_);
  Feed(p, "GET /big HTTP/1.1\r\nCookie: " + std::string(8000, 'c') + "\r\n\r\n", 64);
  ASSERT_EQ(rec_.ended.size(), 1u);
  EXPECT_EQ(rec_.ended[0].how, MessageEnd::kHeadersCut);
  EXPECT_EQ(rec_.ended[0].m.method, "GET");
  EXPECT_EQ(rec_.ended[0].m.target, "/big");
  Feed(p, "more bytes of nothing");  // not a message start: ignored
  Feed(p, "GET /next HTTP/1.1\r\n\r\n");
  ASSERT_EQ(rec_.ended.size(), 2u);
  EXPECT_EQ(rec_.ended[1].m.target, "/next");
  EXPECT_EQ(p.stats().resyncs, 1u);
}

TEST_F(MessageParserTest, GapPastMessageEndReportsLostMessages) {
  MessageParser p(true, &keep_, &rec_);
  // The write holds a whole request with a body and the start of the next.
  Feed(p, "POST /a HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789GET /lost HTTP/1.1\r\n\r\n", 45);
  ASSERT_EQ(rec_.ended.size(), 1u);
  EXPECT_EQ(rec_.ended[0].how, MessageEnd::kComplete);
  EXPECT_EQ(rec_.ended[0].m.body_bytes, 10u);
  EXPECT_EQ(rec_.lost, 1);
}

TEST_F(MessageParserTest, ParseErrorResyncs) {
  MessageParser p(true, &keep_, &rec_);
  Feed(p, "GET / HTTP/1.1\r\nBad Header Without Colon\r\n\r\n");
  ASSERT_EQ(rec_.ended.size(), 1u);
  EXPECT_EQ(rec_.ended[0].how, MessageEnd::kParseError);
  EXPECT_EQ(p.stats().parse_errors, 1u);
  Feed(p, "GET /ok HTTP/1.1\r\n\r\n");
  ASSERT_EQ(rec_.ended.size(), 2u);
  EXPECT_EQ(rec_.ended[1].how, MessageEnd::kComplete);
}

TEST_F(MessageParserTest, BodyUntilCloseEndsAtClose) {
  MessageParser p(false, &keep_, &rec_);
  Feed(p, "HTTP/1.0 200 OK\r\n\r\nsome");
  Feed(p, "body", 0);
  EXPECT_TRUE(rec_.ended.empty());
  p.Close(99999, 7);
  ASSERT_EQ(rec_.ended.size(), 1u);
  EXPECT_EQ(rec_.ended[0].how, MessageEnd::kComplete);
  EXPECT_EQ(rec_.ended[0].m.body_bytes, 8u);
  EXPECT_EQ(rec_.ended[0].m.end_ns, ts_ + 10);  // the last byte, not the close
}

TEST_F(MessageParserTest, CloseMidBodyIsClosed) {
  MessageParser p(false, &keep_, &rec_);
  Feed(p, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
  p.Close(99999, 7);
  ASSERT_EQ(rec_.ended.size(), 1u);
  EXPECT_EQ(rec_.ended[0].how, MessageEnd::kClosed);
  EXPECT_EQ(rec_.ended[0].m.status_code, 200);
}

TEST_F(MessageParserTest, NoBodyWhenListenerSaysSo) {
  MessageParser p(false, &keep_, &rec_);
  rec_.no_body = true;  // e.g. the response to HEAD
  Feed(p,
       "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: "
       "1234\r\n\r\n");
  ASSERT_EQ(rec_.ended.size(), 2u);
  EXPECT_EQ(rec_.ended[0].m.body_bytes, 0u);
  EXPECT_EQ(p.stats().parse_errors, 0u);
}

TEST_F(MessageParserTest, UpgradeStopsUntilResume) {
  MessageParser p(true, &keep_, &rec_);
  Feed(p, "GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_EQ(rec_.upgrades, 1);
  Feed(p, "GET /ignored HTTP/1.1\r\n\r\n");
  EXPECT_EQ(rec_.ended.size(), 1u);
  p.Resume();
  Feed(p, "GET /after HTTP/1.1\r\n\r\n");
  ASSERT_EQ(rec_.ended.size(), 2u);
  EXPECT_EQ(rec_.ended[1].m.target, "/after");
}

}  // namespace
}  // namespace tracer::http
