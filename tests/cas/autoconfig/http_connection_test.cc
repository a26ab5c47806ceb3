#include "cas/autoconfig/http_connection.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace cas::autoconfig {
namespace {

namespace http = boost::beast::http;

struct Seen {
  std::vector<std::string> requests;  // "METHOD target body"
};

HttpConnection Echo(Seen* seen, HttpLimits limits = {}) {
  return HttpConnection(limits, [seen](const HttpRequest& req) {
    std::string line =
        std::string(req.method_string()) + " " + std::string(req.target()) + " " + req.body();
    seen->requests.push_back(line);
    HttpResponse res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain");
    res.body() = "echo:" + line;
    res.prepare_payload();
    return res;
  });
}

std::string WithoutDates(const std::string& text) {
  return std::regex_replace(text, std::regex("Date: [^\r]*\r\n"), "");
}

size_t Count(const std::string& doc, const std::string& needle) {
  size_t n = 0;
  for (size_t i = doc.find(needle); i != std::string::npos; i = doc.find(needle, i + 1)) ++n;
  return n;
}

constexpr char kGet[] = "GET /a?x=1 HTTP/1.1\r\nHost: mail.example.test\r\n\r\n";

TEST(HttpConnectionTest, AnswersAGet) {
  Seen seen;
  HttpConnection conn = Echo(&seen);
  std::string out;
  conn.Feed(kGet, &out);
  ASSERT_EQ(seen.requests, std::vector<std::string>{"GET /a?x=1 "});
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(out.find("Content-Length: 16\r\n"), std::string::npos);
  EXPECT_NE(out.find("Date: "), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\necho:GET /a?x=1 "), std::string::npos);
  EXPECT_FALSE(conn.closing());
  EXPECT_FALSE(conn.mid_request());
  EXPECT_EQ(conn.answered(), 1);
}

TEST(HttpConnectionTest, OneByteAtATimeGivesTheSameAnswers) {
  const std::string input =
      std::string(kGet) +
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
  Seen whole_seen, bytes_seen;
  HttpConnection whole = Echo(&whole_seen);
  HttpConnection bytes = Echo(&bytes_seen);
  std::string whole_out, bytes_out;
  whole.Feed(input, &whole_out);
  for (char c : input) {
    bytes.Feed(std::string_view(&c, 1), &bytes_out);
  }
  EXPECT_EQ(whole_seen.requests,
            (std::vector<std::string>{"GET /a?x=1 ", "POST /b hello", "POST /c abc"}));
  EXPECT_EQ(bytes_seen.requests, whole_seen.requests);
  EXPECT_EQ(WithoutDates(bytes_out), WithoutDates(whole_out));
  EXPECT_EQ(Count(whole_out, "HTTP/1.1 200 OK\r\n"), 3u);
  EXPECT_FALSE(bytes.mid_request());
}

TEST(HttpConnectionTest, MidRequestWhilePartial) {
  Seen seen;
  HttpConnection conn = Echo(&seen);
  std::string out;
  conn.Feed("GET / HTTP/1.1\r\nHo", &out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(conn.mid_request());
  conn.Feed("st: h\r\n\r\n", &out);
  EXPECT_FALSE(conn.mid_request());
  EXPECT_EQ(conn.answered(), 1);
}

TEST(HttpConnectionTest, KeepAliveEndsAfterMaxRequests) {
  Seen seen;
  HttpLimits limits;
  limits.max_requests = 3;
  HttpConnection conn = Echo(&seen, limits);
  std::string out;
  for (int i = 0; i < 5; ++i) conn.Feed(kGet, &out);
  EXPECT_EQ(seen.requests.size(), 3u);
  EXPECT_EQ(Count(out, "HTTP/1.1 200 OK\r\n"), 3u);
  EXPECT_EQ(Count(out, "Connection: close\r\n"), 1u);
  EXPECT_TRUE(conn.closing());
}

TEST(HttpConnectionTest, ConnectionCloseAndHttp10) {
  {
    Seen seen;
    HttpConnection conn = Echo(&seen);
    std::string out;
    conn.Feed("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", &out);
    EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(conn.closing());
  }
  {
    Seen seen;
    HttpConnection conn = Echo(&seen);
    std::string out;
    conn.Feed("GET / HTTP/1.0\r\n\r\n", &out);
    EXPECT_EQ(out.rfind("HTTP/1.0 200 OK\r\n", 0), 0u);
    EXPECT_TRUE(conn.closing());
  }
  {
    Seen seen;
    HttpConnection conn = Echo(&seen);
    std::string out;
    conn.Feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &out);
    EXPECT_NE(out.find("Connection: keep-alive\r\n"), std::string::npos);
    EXPECT_FALSE(conn.closing());
  }
}

TEST(HttpConnectionTest, HeaderTooLargeIs431) {
  Seen seen;
  HttpConnection conn = Echo(&seen);
  std::string out;
  std::string big = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(17000, 'a');
  for (size_t i = 0; i < big.size() && !conn.closing(); i += 1000) {
    conn.Feed(std::string_view(big).substr(i, 1000), &out);
  }
  EXPECT_TRUE(seen.requests.empty());
  EXPECT_EQ(out.rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0), 0u);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(conn.closing());
}

TEST(HttpConnectionTest, HeaderJustUnderTheLimitIsFine) {
  Seen seen;
  HttpConnection conn = Echo(&seen);
  std::string out;
  std::string head = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ";
  std::string req = head + std::string(16 * 1024 - head.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(req.size(), 16u * 1024);
  conn.Feed(req, &out);
  EXPECT_EQ(seen.requests.size(), 1u);
}

TEST(HttpConnectionTest, BodyTooLargeIs413BeforeTheBodyArrives) {
  Seen seen;
  HttpConnection conn = Echo(&seen);
  std::string out;
  conn.Feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65537\r\n\r\n", &out);
  EXPECT_EQ(out.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0u);
  EXPECT_TRUE(conn.closing());
  std::string more;
  conn.Feed(std::string(1000, 'x'), &more);
  EXPECT_TRUE(more.empty());
  EXPECT_TRUE(seen.requests.empty());
}

TEST(HttpConnectionTest, ChunkedBodyTooLargeIs413) {
  Seen seen;
  HttpConnection conn = Echo(&seen);
  std::string out;
  conn.Feed("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", &out);
  std::string chunk = "8000\r\n" + std::string(0x8000, 'x') + "\r\n";
  for (int i = 0; i < 3 && !conn.closing(); ++i) conn.Feed(chunk, &out);
  EXPECT_EQ(out.rfind("HTTP/1.1 413 Payload Too Large\r\n", 0), 0u);
  EXPECT_TRUE(seen.requests.empty());
}

TEST(HttpConnectionTest, BodyAtTheLimitIsFine) {
  Seen seen;
  HttpConnection conn = Echo(&seen);
  std::string out;
  conn.Feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65536\r\n\r\n" + std::string(65536, 'y'),
            &out);
  ASSERT_EQ(seen.requests.size(), 1u);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

TEST(HttpConnectionTest, GarbageIs400) {
  for (const char* junk :
       {"HELLO\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"}) {
    Seen seen;
    HttpConnection conn = Echo(&seen);
    std::string out;
    conn.Feed(junk, &out);
    EXPECT_EQ(out.rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << junk;
    EXPECT_TRUE(conn.closing());
    EXPECT_TRUE(seen.requests.empty());
  }
}

TEST(HttpConnectionTest, ExpectContinue) {
  Seen seen;
  HttpConnection conn = Echo(&seen);
  std::string out;
  conn.Feed("POST /x HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
            &out);
  EXPECT_EQ(out, "HTTP/1.1 100 Continue\r\n\r\n");
  out.clear();
  conn.Feed("a", &out);
  EXPECT_TRUE(out.empty());
  conn.Feed("bc", &out);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(seen.requests, std::vector<std::string>{"POST /x abc"});
}

TEST(HttpConnectionTest, HeadHasTheLengthButNoBody) {
  Seen seen;
  HttpConnection conn = Echo(&seen);
  std::string out;
  conn.Feed("HEAD /z HTTP/1.1\r\nHost: h\r\n\r\n", &out);
  EXPECT_NE(out.find("Content-Length: 13\r\n"), std::string::npos);  // "echo:HEAD /z ".
  EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(HttpConnectionTest, TimeoutIdleClosesQuietlyMidRequestIs408) {
  {
    Seen seen;
    HttpConnection conn = Echo(&seen);
    std::string out;
    conn.Feed(kGet, &out);
    out.clear();
    conn.TimedOut(&out);
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(conn.closing());
  }
  {
    Seen seen;
    HttpConnection conn = Echo(&seen);
    std::string out;
    conn.Feed("GET / HTTP/1.1\r\n", &out);
    conn.TimedOut(&out);
    EXPECT_EQ(out.rfind("HTTP/1.1 408 Request Timeout\r\n", 0), 0u);
    EXPECT_TRUE(conn.closing());
  }
}

}  // namespace
}  // namespace cas::autoconfig
