#include "common/proxy_protocol.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace common {
namespace {

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

std::string V2(uint8_t ver_cmd, uint8_t family, const std::string& body) {
  std::string h = kSig;
  h.push_back(static_cast<char>(ver_cmd));
  h.push_back(static_cast<char>(family));
  h.push_back(static_cast<char>(body.size() >> 8));
  h.push_back(static_cast<char>(body.size() & 0xff));
  return h + body;
}

std::string Bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}

// What HAProxy's send-proxy-v2 sends for 192.0.2.7:50000 -> 10.0.0.1:143.
std::string V2Tcp4() {
  return V2(0x21, 0x11, Bytes({192, 0, 2, 7, 10, 0, 0, 1, 0xc3, 0x50, 0x00, 143}));
}

struct Outcome {
  ProxyHeaderParser::Result result;
  size_t consumed;
  ProxyHeader header;
  std::string error;
};

// Feeds like a reader on a socket: never more than wanted() at once, `piece` at most.
Outcome Parse(const std::string& input, size_t piece) {
  ProxyHeaderParser p;
  size_t pos = 0;
  ProxyHeaderParser::Result r = ProxyHeaderParser::Result::kNeedMore;
  while (r == ProxyHeaderParser::Result::kNeedMore && pos < input.size()) {
    size_t n = std::min({piece, p.wanted(), input.size() - pos});
    EXPECT_GT(n, 0u);
    size_t consumed = 0;
    r = p.Feed(std::string_view(input).substr(pos, n), &consumed);
    EXPECT_EQ(consumed, n);  // Never offered more than it wants, so it takes everything.
    pos += consumed;
  }
  return {r, pos, p.header(), p.error()};
}

TEST(ProxyHeaderParserTest, V2Tcp4WholeAndByteAtATime) {
  const std::string after = "\x16\x03\x01 TLS ClientHello follows";
  for (size_t piece : {size_t{1}, size_t{3}, size_t{1000}}) {
    Outcome o = Parse(V2Tcp4() + after, piece);
    ASSERT_EQ(o.result, ProxyHeaderParser::Result::kDone) << o.error;
    EXPECT_EQ(o.consumed, 28u);  // Nothing of what follows was read.
    EXPECT_EQ(o.header.version, 2);
    EXPECT_FALSE(o.header.use_connection_address);
    EXPECT_EQ(o.header.source_address, "192.0.2.7");
    EXPECT_EQ(o.header.source_port, 50000);
    EXPECT_EQ(o.header.destination_address, "10.0.0.1");
    EXPECT_EQ(o.header.destination_port, 143);
  }
}

TEST(ProxyHeaderParserTest, FeedStopsAtTheEndOfTheHeader) {
  ProxyHeaderParser p;
  size_t consumed = 0;
  std::string input = V2Tcp4() + "A1 LOGIN";
  EXPECT_EQ(p.Feed(input, &consumed), ProxyHeaderParser::Result::kDone);
  EXPECT_EQ(consumed, 28u);
  EXPECT_EQ(p.wanted(), 0u);
}

TEST(ProxyHeaderParserTest, V2Tcp6WithTlvs) {
  std::string body = Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01});
  body += Bytes({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02});
  body += Bytes({0x04, 0x00, 0x00, 25});
  body += Bytes({0x04, 0x00, 0x03, 'a', 'b', 'c'});  // PP2_TYPE_NOOP, skipped.
  Outcome o = Parse(V2(0x21, 0x21, body), 1);
  ASSERT_EQ(o.result, ProxyHeaderParser::Result::kDone) << o.error;
  EXPECT_EQ(o.header.source_address, "2001:db8::1");
  EXPECT_EQ(o.header.source_port, 1024);
  EXPECT_EQ(o.header.destination_port, 25);
}

TEST(ProxyHeaderParserTest, V2MappedIpv6BecomesIpv4) {
  std::string body = Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 2});
  body += Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1});
  body += Bytes({0, 1, 0, 2});
  Outcome o = Parse(V2(0x21, 0x21, body), 100);
  ASSERT_EQ(o.result, ProxyHeaderParser::Result::kDone);
  EXPECT_EQ(o.header.source_address, "127.0.0.2");
}

TEST(ProxyHeaderParserTest, V2LocalUsesTheConnection) {
  // HAProxy health checks: LOCAL with an UNSPEC address block of length 0.
  Outcome o = Parse(V2(0x20, 0x00, ""), 1);
  ASSERT_EQ(o.result, ProxyHeaderParser::Result::kDone);
  EXPECT_TRUE(o.header.use_connection_address);
  EXPECT_TRUE(o.header.source_address.empty());
  // LOCAL with addresses: they are ignored.
  o = Parse(V2(0x20, 0x11, Bytes({1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2})), 5);
  ASSERT_EQ(o.result, ProxyHeaderParser::Result::kDone);
  EXPECT_TRUE(o.header.use_connection_address);
}

TEST(ProxyHeaderParserTest, V2UnspecAndUnixUseTheConnection) {
  EXPECT_TRUE(Parse(V2(0x21, 0x00, ""), 100).header.use_connection_address);
  Outcome o = Parse(V2(0x21, 0x31, std::string(216, 'x')), 100);
  ASSERT_EQ(o.result, ProxyHeaderParser::Result::kDone);
  EXPECT_TRUE(o.header.use_connection_address);
}

TEST(ProxyHeaderParserTest, V2Errors) {
  struct Case {
    std::string input;
    std::string error_part;
  };
  std::vector<Case> cases = {
      {V2(0x11, 0x11, std::string(12, '\0')), "version"},
      {V2(0x22, 0x11, std::string(12, '\0')), "command"},
      {V2(0x21, 0x11, std::string(8, '\0')), "too short"},
      {V2(0x21, 0x21, std::string(12, '\0')), "too short"},
      {V2(0x21, 0x12, std::string(12, '\0')), "transport"},
      {V2(0x21, 0x41, std::string(12, '\0')), "family"},
      {V2(0x21, 0x11, std::string(2000, '\0')), "longer than"},
  };
  for (const Case& c : cases) {
    Outcome o = Parse(c.input, 1);
    EXPECT_EQ(o.result, ProxyHeaderParser::Result::kError);
    EXPECT_NE(o.error.find(c.error_part), std::string::npos) << o.error;
  }
}

TEST(ProxyHeaderParserTest, V2LengthLimitIsASetting) {
  ProxyHeaderLimits limits;
  limits.max_v2_length = 20;
  ProxyHeaderParser p(limits);
  size_t consumed = 0;
  EXPECT_EQ(p.Feed(V2Tcp4(), &consumed), ProxyHeaderParser::Result::kError);
  EXPECT_EQ(consumed, 16u);  // Refused on the length field, before reading the body.
}

TEST(ProxyHeaderParserTest, V1Lines) {
  Outcome o = Parse("PROXY TCP4 192.0.2.7 10.0.0.1 50000 143\r\nA1 CAPABILITY\r\n", 1);
  ASSERT_EQ(o.result, ProxyHeaderParser::Result::kDone) << o.error;
  EXPECT_EQ(o.consumed, 41u);
  EXPECT_EQ(o.header.version, 1);
  EXPECT_EQ(o.header.source_address, "192.0.2.7");
  EXPECT_EQ(o.header.source_port, 50000);
  EXPECT_EQ(o.header.destination_port, 143);

  o = Parse("PROXY TCP6 2001:DB8::7 2001:db8::1 1 65535\r\n", 1000);
  ASSERT_EQ(o.result, ProxyHeaderParser::Result::kDone) << o.error;
  EXPECT_EQ(o.header.source_address, "2001:db8::7");
  EXPECT_EQ(o.header.destination_port, 65535);

  o = Parse("PROXY UNKNOWN\r\n", 1000);
  ASSERT_EQ(o.result, ProxyHeaderParser::Result::kDone);
  EXPECT_TRUE(o.header.use_connection_address);
  o = Parse("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", 2);
  ASSERT_EQ(o.result, ProxyHeaderParser::Result::kDone);
  EXPECT_TRUE(o.header.use_connection_address);
}

TEST(ProxyHeaderParserTest, V1Errors) {
  for (const std::string& bad : {
           std::string("PROXY TCP4 192.0.2.7 10.0.0.1 50000\r\n"),
           std::string("PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n"),
           std::string("PROXY TCP6 192.0.2.7 10.0.0.1 1 2\r\n"),
           std::string("PROXY TCP4 192.0.2.7 10.0.0.1 65536 2\r\n"),
           std::string("PROXY TCP4 192.0.2.7 10.0.0.1 -1 2\r\n"),
           std::string("PROXY TCP4 192.0.2.7  10.0.0.1 1 2\r\n"),
           std::string("PROXY UDP4 192.0.2.7 10.0.0.1 1 2\r\n"),
           std::string("PROXY TCP4 192.0.2.7 10.0.0.1 1 2\n"),
           std::string("PROXY ") + std::string(200, 'A') + "\r\n",
       }) {
    Outcome o = Parse(bad, 1);
    EXPECT_EQ(o.result, ProxyHeaderParser::Result::kError) << bad;
    EXPECT_LE(o.consumed, 107u);
    EXPECT_FALSE(o.error.empty());
  }
}

TEST(ProxyHeaderParserTest, NotAHeaderFailsOnTheFirstDifferentOctet) {
  Outcome o = Parse("EHLO client.example\r\n", 1);
  EXPECT_EQ(o.result, ProxyHeaderParser::Result::kError);
  EXPECT_EQ(o.consumed, 1u);
  o = Parse("\r\n\r\nX", 1);
  EXPECT_EQ(o.result, ProxyHeaderParser::Result::kError);
  EXPECT_EQ(o.consumed, 5u);
  EXPECT_NE(o.error.find("does not start with a PROXY"), std::string::npos);
}

TEST(ProxyHeaderParserTest, IncompleteNeedsMore) {
  const std::string h = V2Tcp4();
  for (size_t cut = 1; cut < h.size(); ++cut) {
    Outcome o = Parse(h.substr(0, cut), 1);
    EXPECT_EQ(o.result, ProxyHeaderParser::Result::kNeedMore) << cut;
  }
}

TEST(TrustedNetworksTest, MatchesCidrsOfBothFamilies) {
  auto n = TrustedNetworks::Parse({"10.0.0.0/8", "192.0.2.7", "2001:db8::/32", "::1"});
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_TRUE(n->Contains("10.1.2.3"));
  EXPECT_TRUE(n->Contains("::ffff:10.1.2.3"));
  EXPECT_FALSE(n->Contains("11.0.0.1"));
  EXPECT_TRUE(n->Contains("192.0.2.7"));
  EXPECT_FALSE(n->Contains("192.0.2.8"));
  EXPECT_TRUE(n->Contains("2001:db8:ffff::1"));
  EXPECT_FALSE(n->Contains("2001:db9::1"));
  EXPECT_TRUE(n->Contains("::1"));
  EXPECT_FALSE(n->Contains("not an address"));
  EXPECT_FALSE(n->Contains(""));

  auto odd = TrustedNetworks::Parse({"127.0.0.0/9"});
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->Contains("127.127.0.1"));
  EXPECT_FALSE(odd->Contains("127.128.0.1"));
  auto all = TrustedNetworks::Parse({"0.0.0.0/0"});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Contains("203.0.113.9"));
  EXPECT_FALSE(all->Contains("2001:db8::1"));
}

TEST(TrustedNetworksTest, RejectsWhatIsNotANetwork) {
  for (const char* bad : {"10.0.0.0/33", "2001:db8::/129", "10.0.0/8", "host.example", "10.0.0.1/",
                          "10.0.0.1/x", ""}) {
    auto n = TrustedNetworks::Parse({bad});
    EXPECT_FALSE(n.ok()) << bad;
    if (!n.ok()) {
      EXPECT_NE(n.status().message().find("proxy_protocol_trusted_networks"), std::string::npos);
    }
  }
  EXPECT_TRUE(TrustedNetworks::Parse({})->empty());
}

}  // namespace
}  // namespace common
