#include "cas/autoconfig/documents.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

namespace cas::autoconfig {
namespace {

ClientSettings Full() {
  ClientSettings c;
  c.host_name = "mail.example.test";
  c.imap4 = {{Protocol::kImap4, 993, Security::kImplicitTls},
             {Protocol::kImap4, 143, Security::kStartTls}};
  c.pop3 = {{Protocol::kPop3, 995, Security::kImplicitTls},
            {Protocol::kPop3, 110, Security::kStartTls}};
  c.smtp = {{Protocol::kSmtp, 465, Security::kImplicitTls},
            {Protocol::kSmtp, 587, Security::kStartTls}};
  return c;
}

MailAddress Alice() { return *ParseMailAddress("alice@example.test"); }

// The texts of every <name>...</name> in order.
std::vector<std::string> All(const std::string& doc, const std::string& name) {
  std::vector<std::string> out;
  std::regex re("<" + name + ">([^<]*)</" + name + ">");
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

size_t Count(const std::string& doc, const std::string& needle) {
  size_t n = 0;
  for (size_t i = doc.find(needle); i != std::string::npos; i = doc.find(needle, i + 1)) ++n;
  return n;
}

TEST(XmlEscapeTest, EscapesMarkupAndDropsControls) {
  EXPECT_EQ(XmlEscape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
  EXPECT_EQ(XmlEscape(std::string("a\x01"
                                  "b\x1f"
                                  "c\td\ne",
                                  9)),
            "abc\td\ne");
  EXPECT_EQ(XmlEscape("plain text"), "plain text");
}

TEST(ThunderbirdTest, ServersInOrderWithSocketTypes) {
  std::string doc = ThunderbirdConfig(Full(), "example.test");
  EXPECT_EQ(
      doc.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">", 0),
      0u);
  EXPECT_NE(doc.find("<emailProvider id=\"example.test\">"), std::string::npos);
  EXPECT_EQ(All(doc, "domain"), std::vector<std::string>{"example.test"});
  EXPECT_EQ(All(doc, "port"), (std::vector<std::string>{"993", "143", "995", "110", "465", "587"}));
  EXPECT_EQ(All(doc, "socketType"),
            (std::vector<std::string>{"SSL", "STARTTLS", "SSL", "STARTTLS", "SSL", "STARTTLS"}));
  EXPECT_EQ(Count(doc, "<incomingServer type=\"imap\">"), 2u);
  EXPECT_EQ(Count(doc, "<incomingServer type=\"pop3\">"), 2u);
  EXPECT_EQ(Count(doc, "<outgoingServer type=\"smtp\">"), 2u);
  for (const auto& h : All(doc, "hostname")) EXPECT_EQ(h, "mail.example.test");
  for (const auto& u : All(doc, "username")) EXPECT_EQ(u, "%EMAILADDRESS%");
  for (const auto& a : All(doc, "authentication")) EXPECT_EQ(a, "password-cleartext");
  EXPECT_EQ(Count(doc, "password-encrypted"), 0u);
  EXPECT_EQ(doc.substr(doc.size() - 16), "</clientConfig>\n");
}

TEST(ThunderbirdTest, LeavesOutWhatIsNotOffered) {
  ClientSettings c = Full();
  c.pop3.clear();
  c.smtp.erase(c.smtp.begin());
  std::string doc = ThunderbirdConfig(c, "example.test");
  EXPECT_EQ(Count(doc, "type=\"pop3\""), 0u);
  EXPECT_EQ(All(doc, "port"), (std::vector<std::string>{"993", "143", "587"}));
}

TEST(ThunderbirdTest, EscapesHostAndDomain) {
  ClientSettings c = Full();
  c.host_name = "mail<&>\"'.example";
  std::string doc = ThunderbirdConfig(c, "ex\"ample<&>");
  EXPECT_NE(doc.find("<emailProvider id=\"ex&quot;ample&lt;&amp;&gt;\">"), std::string::npos);
  EXPECT_NE(doc.find("<hostname>mail&lt;&amp;&gt;&quot;&apos;.example</hostname>"),
            std::string::npos);
  EXPECT_EQ(doc.find("mail<"), std::string::npos);
}

TEST(AutodiscoverTest, OneProtocolPerTypeBestFirst) {
  std::string doc = AutodiscoverResponse(Full(), Alice());
  EXPECT_NE(doc.find("<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
                     "responseschema/2006\">"),
            std::string::npos);
  EXPECT_NE(doc.find("<Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
                     "outlook/responseschema/2006a\">"),
            std::string::npos);
  EXPECT_EQ(All(doc, "AccountType"), std::vector<std::string>{"email"});
  EXPECT_EQ(All(doc, "Action"), std::vector<std::string>{"settings"});
  EXPECT_EQ(All(doc, "Type"), (std::vector<std::string>{"IMAP", "POP3", "SMTP"}));
  EXPECT_EQ(All(doc, "Port"), (std::vector<std::string>{"993", "995", "465"}));
  EXPECT_EQ(All(doc, "Encryption"), (std::vector<std::string>{"SSL", "SSL", "SSL"}));
  EXPECT_EQ(All(doc, "SSL"), (std::vector<std::string>{"on", "on", "on"}));
  EXPECT_EQ(All(doc, "SPA"), (std::vector<std::string>{"off", "off", "off"}));
  EXPECT_EQ(All(doc, "LoginName"), (std::vector<std::string>(3, "alice@example.test")));
  EXPECT_EQ(All(doc, "Server"), (std::vector<std::string>(3, "mail.example.test")));
  EXPECT_EQ(All(doc, "AuthRequired"), std::vector<std::string>{"on"});  // SMTP only.
}

TEST(AutodiscoverTest, EscapesTheAddress) {
  // '&' and '\'' are atext: valid in a local part, and must be escaped in XML.
  std::string doc = AutodiscoverResponse(Full(), *ParseMailAddress("tom&o'neil@example.test"));
  EXPECT_EQ(All(doc, "LoginName"),
            (std::vector<std::string>(3, "tom&amp;o&apos;neil@example.test")));
  EXPECT_EQ(doc.find("tom&o"), std::string::npos);
  std::string profile = AppleProfile(Full(), *ParseMailAddress("tom&o'neil@example.test"));
  EXPECT_NE(profile.find("<string>tom&amp;o&apos;neil@example.test</string>"), std::string::npos);
  EXPECT_EQ(profile.find("tom&o"), std::string::npos);
}

TEST(AutodiscoverTest, StartTlsIsEncryptionTls) {
  ClientSettings c = Full();
  c.imap4.erase(c.imap4.begin());
  c.pop3.clear();
  c.smtp.erase(c.smtp.begin());
  std::string doc = AutodiscoverResponse(c, Alice());
  EXPECT_EQ(All(doc, "Type"), (std::vector<std::string>{"IMAP", "SMTP"}));
  EXPECT_EQ(All(doc, "Port"), (std::vector<std::string>{"143", "587"}));
  EXPECT_EQ(All(doc, "Encryption"), (std::vector<std::string>{"TLS", "TLS"}));
}

TEST(AutodiscoverTest, ErrorDocument) {
  std::string doc = AutodiscoverError(601, "Provider is not available");
  EXPECT_EQ(All(doc, "ErrorCode"), std::vector<std::string>{"601"});
  EXPECT_EQ(All(doc, "Message"), std::vector<std::string>{"Provider is not available"});
}

TEST(AutodiscoverRequestTest, OutlookRequest) {
  auto r = ParseAutodiscoverRequest(
      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
      "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/"
      "requestschema/2006\">\r\n  <Request>\r\n"
      "    <EMailAddress> alice@example.test </EMailAddress>\r\n"
      "    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/"
      "responseschema/2006a</AcceptableResponseSchema>\r\n"
      "  </Request>\r\n</Autodiscover>\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->email_address, "alice@example.test");
  EXPECT_EQ(r->acceptable_response_schema, kOutlookResponseSchema);
}

TEST(AutodiscoverRequestTest, PrefixesEntitiesCommentsAndCdata) {
  auto r = ParseAutodiscoverRequest(
      "<a:Autodiscover xmlns:a=\"x\"><!-- <EMailAddress>no@example.test</EMailAddress> -->"
      "<a:Request attr='>'><a:EMailAddress>o&apos;brien&#64;example&#x2E;test"
      "</a:EMailAddress></a:Request></a:Autodiscover>");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->email_address, "o'brien@example.test");
  EXPECT_EQ(r->acceptable_response_schema, "");
  r = ParseAutodiscoverRequest(
      "<Request><EMailAddress><![CDATA[bob@example.test]]>"
      "</EMailAddress></Request>");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->email_address, "bob@example.test");
}

TEST(AutodiscoverRequestTest, MissingOrBroken) {
  auto r = ParseAutodiscoverRequest("<Request><Other>x</Other></Request>");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->email_address, "");
  r = ParseAutodiscoverRequest("<Request><EMailAddress/></Request>");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->email_address, "");
  EXPECT_FALSE(ParseAutodiscoverRequest("<Request><EMailAddress>a@b").has_value());
  EXPECT_FALSE(ParseAutodiscoverRequest("<Request><EMailAddress").has_value());
  EXPECT_FALSE(ParseAutodiscoverRequest("<EMailAddress>a&bogus;b</EMailAddress>").has_value());
  EXPECT_FALSE(ParseAutodiscoverRequest("<EMailAddress>a&#233;b</EMailAddress>").has_value());
  EXPECT_FALSE(ParseAutodiscoverRequest("<EMailAddress>a&#0;b</EMailAddress>").has_value());
  EXPECT_FALSE(ParseAutodiscoverRequest("<!-- never closed").has_value());
  r = ParseAutodiscoverRequest("");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->email_address, "");
}

TEST(AppleProfileTest, ImapPreferredWithSsl) {
  std::string doc = AppleProfile(Full(), Alice());
  EXPECT_NE(doc.find("<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\""), std::string::npos);
  EXPECT_NE(doc.find("<key>EmailAccountType</key>\n      <string>EmailTypeIMAP</string>"),
            std::string::npos);
  EXPECT_NE(doc.find("<key>IncomingMailServerPortNumber</key>\n      <integer>993</integer>"),
            std::string::npos);
  EXPECT_NE(doc.find("<key>IncomingMailServerUseSSL</key>\n      <true/>"), std::string::npos);
  EXPECT_NE(doc.find("<key>OutgoingMailServerPortNumber</key>\n      <integer>465</integer>"),
            std::string::npos);
  EXPECT_NE(doc.find("<key>OutgoingMailServerUseSSL</key>\n      <true/>"), std::string::npos);
  EXPECT_EQ(Count(doc, "<string>EmailAuthPassword</string>"), 2u);
  EXPECT_EQ(Count(doc, "<string>com.apple.mail.managed</string>"), 1u);
  EXPECT_EQ(Count(doc, "<string>Configuration</string>"), 1u);
  EXPECT_NE(doc.find("<key>IncomingMailServerHostName</key>\n      "
                     "<string>mail.example.test</string>"),
            std::string::npos);
}

TEST(AppleProfileTest, PopWhenNoImap) {
  ClientSettings c = Full();
  c.imap4.clear();
  c.smtp.clear();
  std::string doc = AppleProfile(c, Alice());
  EXPECT_NE(doc.find("<string>EmailTypePOP</string>"), std::string::npos);
  EXPECT_NE(doc.find("<integer>995</integer>"), std::string::npos);
  EXPECT_EQ(doc.find("OutgoingMailServer"), std::string::npos);
}

TEST(AppleProfileTest, UuidsAreDeterministicAndDistinct) {
  std::string a1 = AppleProfile(Full(), Alice());
  std::string a2 = AppleProfile(Full(), Alice());
  std::string b = AppleProfile(Full(), *ParseMailAddress("bob@example.test"));
  EXPECT_EQ(a1, a2);
  std::regex uuid("<key>PayloadUUID</key>\\s*<string>([0-9A-F-]+)</string>");
  auto uuids = [&](const std::string& doc) {
    std::vector<std::string> out;
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), uuid); it != std::sregex_iterator();
         ++it) {
      out.push_back((*it)[1]);
    }
    return out;
  };
  auto ua = uuids(a1), ub = uuids(b);
  ASSERT_EQ(ua.size(), 2u);
  ASSERT_EQ(ub.size(), 2u);
  EXPECT_NE(ua[0], ua[1]);
  EXPECT_NE(ua[0], ub[0]);
  EXPECT_NE(ua[1], ub[1]);
}

TEST(NameBasedUuidTest, Rfc4122Version5) {
  // Python: uuid.uuid5(uuid.NAMESPACE_URL, "http://example.test/").
  EXPECT_EQ(NameBasedUuid("http://example.test/"), "91EBA657-EED7-5EBA-9A88-A405B2693F0B");
  std::regex form("[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}");
  EXPECT_TRUE(std::regex_match(NameBasedUuid("anything"), form));
}

}  // namespace
}  // namespace cas::autoconfig
