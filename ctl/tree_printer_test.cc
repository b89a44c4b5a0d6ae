#include "ctl/tree_printer.h"

#include "agent/strace/format.h"

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace tracer::ctl {
namespace {

using opentelemetry::proto::trace::v1::Span;

void AddString(Span& s, const std::string& k, const std::string& v) {
  auto* kv = s.add_attributes();
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

void AddInt(Span& s, const std::string& k, int64_t v) {
  auto* kv = s.add_attributes();
  kv->set_key(k);
  kv->mutable_value()->set_int_value(v);
}

Span HttpSpan(Span::SpanKind kind, uint64_t duration_ns) {
  Span s;
  s.set_kind(kind);
  s.set_start_time_unix_nano(1'700'000'000'000'000'000);
  s.set_end_time_unix_nano(1'700'000'000'000'000'000 + duration_ns);
  AddString(s, "http.request.method", "GET");
  return s;
}

TEST(HttpSpanLineTest, ServerShowsPathQueryStatusAndMilliseconds) {
  Span s = HttpSpan(Span::SPAN_KIND_SERVER, 12'340'000);
  AddString(s, "url.path", "/index.html");
  AddString(s, "url.query", "a=1");
  AddInt(s, "http.response.status_code", 200);
  EXPECT_EQ(HttpSpanLine(s), "HTTP server GET /index.html?a=1 -> 200 (12.3 ms)");
}

TEST(HttpSpanLineTest, ClientShowsFullUrl) {
  Span s = HttpSpan(Span::SPAN_KIND_CLIENT, 1'250'000);
  AddString(s, "url.full", "http://127.0.0.1:8000/missing");
  AddInt(s, "http.response.status_code", 404);
  EXPECT_EQ(HttpSpanLine(s), "HTTP client GET http://127.0.0.1:8000/missing -> 404 (1.2 ms)");
}

TEST(HttpSpanLineTest, MarkedSpanSaysWhyThereIsNoStatus) {
  Span s = HttpSpan(Span::SPAN_KIND_SERVER, 3'000'000);
  AddString(s, "url.path", "/big");
  AddString(s, "tracer.http.anomaly", "connection_closed");
  EXPECT_EQ(HttpSpanLine(s), "HTTP server GET /big -> no response (connection_closed) (3.0 ms)");
}

TEST(HttpSpanLineTest, OtherMethodShowsTheOriginal) {
  Span s;
  s.set_kind(Span::SPAN_KIND_SERVER);
  AddString(s, "http.request.method", "_OTHER");
  AddString(s, "http.request.method_original", "PURGE");
  AddString(s, "url.path", "/x");
  AddInt(s, "http.response.status_code", 501);
  EXPECT_EQ(HttpSpanLine(s), "HTTP server PURGE /x -> 501 (0.0 ms)");
}

TEST(TreePrinterTest, HttpLineIsIndentedUnderItsProcessEvenAfterItsExit) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  ASSERT_NE(out, nullptr);
  {
    TreePrinter tree(out);
    tree.AddRoot(100, "sh");
    capture::ProcessEvent fork;
    fork.kind = capture::ProcessEvent::Kind::kFork;
    fork.tgid = 101;
    fork.parent_tgid = 100;
    tree.OnProcess(fork);
    capture::ProcessEvent exit;
    exit.kind = capture::ProcessEvent::Kind::kExit;
    exit.tgid = 101;
    tree.OnProcess(exit);
    Span s = HttpSpan(Span::SPAN_KIND_CLIENT, 2'000'000);
    AddString(s, "url.full", "http://h/");
    AddInt(s, "http.response.status_code", 200);
    tree.OnHttpSpan(101, s);
    EXPECT_EQ(tree.http_lines(), 1u);
  }
  std::fclose(out);
  std::string text(buf, len);
  free(buf);
  EXPECT_NE(text.find("\n│ │ ⇄ HTTP client GET http://h/ -> 200 (2.0 ms)\n"), std::string::npos)
      << text;
}

// A syscall line is strace's notation, as FormatArgs / FormatResult give it;
// lines wait in memory until Flush (or 64 KiB), then go out in order.
TEST(TreePrinterTest, SyscallLinesAreBufferedUntilFlushAndKeepTheirFormat) {
  char* buf = nullptr;
  size_t len = 0;
  FILE* out = open_memstream(&buf, &len);
  ASSERT_NE(out, nullptr);
  capture::SyscallEvent e;
  e.tgid = 100;
  e.tid = 102;
  e.nr = 0;  // read
  e.args[0] = 3;
  e.args[2] = 1;
  e.ret = -2;
  e.duration_ns = 1500;
  std::string want;
  {
    TreePrinter tree(out);
    tree.AddRoot(100, "sh");
    tree.OnSyscall(e);
    std::fflush(out);
    EXPECT_EQ(len, 0u) << "nothing written before Flush";
    tree.Flush();
    EXPECT_GT(len, 0u);
    want = "▶ sh [100]\n│ [tid 102] read(" + strace::FormatArgs(e) +
           ") = " + strace::FormatResult(e) + " <0.000002>\n";
    EXPECT_EQ(std::string(buf, len), want);
    e.tid = 100;
    for (int i = 0; i < 2000; ++i) tree.OnSyscall(e);  // > 64 KiB: written without Flush
    std::fflush(out);
    EXPECT_GT(len, 64u << 10);
  }
  std::fclose(out);
  std::string text(buf, len);
  free(buf);
  EXPECT_EQ(text.rfind(want, 0), 0u);
  EXPECT_EQ(text.size(), want.size() + 2000 * (want.size() - std::string("▶ sh [100]\n").size() -
                                               std::string("[tid 102] ").size()));
}

}  // namespace
}  // namespace tracer::ctl
