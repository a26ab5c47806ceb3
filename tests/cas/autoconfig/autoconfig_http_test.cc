#include "cas/autoconfig/autoconfig_http.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "cas/autoconfig/documents.h"
#include "common/protocol_settings.h"
#include "common/transport_settings.h"

namespace cas::autoconfig {
namespace {

namespace http = boost::beast::http;

class AutoconfigHttpTest : public ::testing::Test {
 protected:
  AutoconfigHttpTest() {
    node_.host_name = "mail.example.test";
    node_.imap4 = {true,
                   std::make_shared<const mail::v1::ProtocolSettings>(common::WithDefaults(
                       mail::v1::ProtocolSettings(), common::SettingsKind::kImap4)),
                   {{143, false}, {993, true}}};
    node_.pop3 = {true,
                  std::make_shared<const mail::v1::ProtocolSettings>(common::WithDefaults(
                      mail::v1::ProtocolSettings(), common::SettingsKind::kPop3)),
                  {{110, false}, {995, true}}};
    node_.transport = std::make_shared<const mail::v1::TransportSettings>(
        common::TransportWithDefaults(mail::v1::TransportSettings()));
  }

  HttpResponse Send(http::verb method, const std::string& target, const std::string& body = "",
                    const char* host = "autoconfig.example.test") {
    HttpRequest req{method, target, 11};
    if (host != nullptr) req.set(http::field::host, host);
    req.body() = body;
    req.prepare_payload();
    return HandleAutoconfigRequest(req, [this] {
      ++snapshots_;
      return node_;
    });
  }

  static std::string Header(const HttpResponse& res, http::field f) {
    auto it = res.find(f);
    return it == res.end() ? "" : std::string(it->value());
  }

  static std::string AutodiscoverBody(
      const std::string& address, const std::string& schema = std::string(kOutlookResponseSchema)) {
    return "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas."
           "microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request>"
           "<EMailAddress>" +
           address + "</EMailAddress><AcceptableResponseSchema>" + schema +
           "</AcceptableResponseSchema></Request></Autodiscover>";
  }

  NodeSnapshot node_;
  int snapshots_ = 0;
};

TEST_F(AutoconfigHttpTest, ThunderbirdBothPaths) {
  for (const char* path : {"/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=",
                           "/mail/config-v1.1.xml?emailaddress="}) {
    HttpResponse res = Send(http::verb::get, std::string(path) + "alice%40Example.org");
    EXPECT_EQ(res.result(), http::status::ok) << path;
    EXPECT_EQ(Header(res, http::field::content_type), "application/xml; charset=utf-8");
    EXPECT_EQ(Header(res, http::field::cache_control), "no-store");
    EXPECT_NE(res.body().find("<emailProvider id=\"example.org\">"), std::string::npos);
    EXPECT_NE(res.body().find("<port>993</port>"), std::string::npos);
  }
}

TEST_F(AutoconfigHttpTest, ThunderbirdWithoutAddressUsesTheHost) {
  HttpResponse res = Send(http::verb::get, "/.well-known/autoconfig/mail/config-v1.1.xml", "",
                          "autoconfig.Example.NET:8080");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_NE(res.body().find("<emailProvider id=\"example.net\">"), std::string::npos);
  res = Send(http::verb::get, "/mail/config-v1.1.xml", "", "[::1]:8080");
  EXPECT_NE(res.body().find("<emailProvider id=\"mail.example.test\">"), std::string::npos);
}

TEST_F(AutoconfigHttpTest, BadAddressesAre400) {
  for (const char* q :
       {"?emailaddress=nobody", "?emailaddress=", "?emailaddress=a%40b%4",
        "?emailaddress=%3Cscript%3E%40example.test", "?emailaddress=a%40b%0D%0AX-Evil:%201"}) {
    EXPECT_EQ(Send(http::verb::get, std::string("/mail/config-v1.1.xml") + q).result(),
              http::status::bad_request)
        << q;
    EXPECT_EQ(Send(http::verb::get, std::string("/apple/mail.mobileconfig") + q).result(),
              http::status::bad_request)
        << q;
  }
  EXPECT_EQ(Send(http::verb::get, "/apple/mail.mobileconfig").result(), http::status::bad_request);
  EXPECT_EQ(
      Send(http::verb::post, "/autodiscover/autodiscover.xml", AutodiscoverBody("x")).result(),
      http::status::bad_request);
  EXPECT_EQ(Send(http::verb::post, "/autodiscover/autodiscover.xml", "").result(),
            http::status::bad_request);
  EXPECT_EQ(Send(http::verb::post, "/autodiscover/autodiscover.xml", "<EMailAddress>a@b").result(),
            http::status::bad_request);
  EXPECT_EQ(snapshots_, 0);  // Refused before looking at the settings.
}

TEST_F(AutoconfigHttpTest, Autodiscover) {
  for (const char* path : {"/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml",
                           "/AUTODISCOVER/AUTODISCOVER.XML"}) {
    HttpResponse res = Send(http::verb::post, path, AutodiscoverBody("alice@example.test"));
    EXPECT_EQ(res.result(), http::status::ok) << path;
    EXPECT_EQ(Header(res, http::field::content_type), "text/xml; charset=utf-8");
    EXPECT_NE(res.body().find("<LoginName>alice@example.test</LoginName>"), std::string::npos);
  }
}

TEST_F(AutoconfigHttpTest, AutodiscoverOtherSchemaIsProviderNotAvailable) {
  HttpResponse res =
      Send(http::verb::post, "/autodiscover/autodiscover.xml",
           AutodiscoverBody("alice@example.test",
                            "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/"
                            "responseschema/2006"));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_NE(res.body().find("<ErrorCode>601</ErrorCode>"), std::string::npos);
}

TEST_F(AutoconfigHttpTest, AppleProfile) {
  HttpResponse res =
      Send(http::verb::get, "/apple/mail.mobileconfig?emailaddress=alice@example.test");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(Header(res, http::field::content_type), "application/x-apple-aspen-config");
  EXPECT_NE(Header(res, http::field::content_disposition).find("mail.mobileconfig"),
            std::string::npos);
  EXPECT_NE(res.body().find("<string>com.apple.mail.managed</string>"), std::string::npos);
}

TEST_F(AutoconfigHttpTest, WrongMethodIs405WithAllow) {
  HttpResponse res = Send(http::verb::get, "/autodiscover/autodiscover.xml");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(Header(res, http::field::allow), "POST");
  for (auto verb : {http::verb::post, http::verb::put, http::verb::delete_, http::verb::options}) {
    res = Send(verb, "/mail/config-v1.1.xml?emailaddress=a@b.test");
    EXPECT_EQ(res.result(), http::status::method_not_allowed);
    EXPECT_EQ(Header(res, http::field::allow), "GET, HEAD");
  }
  EXPECT_EQ(Send(http::verb::head, "/apple/mail.mobileconfig?emailaddress=a@b.test").result(),
            http::status::ok);
}

TEST_F(AutoconfigHttpTest, UnknownPathsAre404) {
  for (const char* path : {"/", "/index.html", "/mail/config-v1.1.xml/", "/MAIL/CONFIG-V1.1.XML",
                           "/.well-known/autoconfig/mail/", "/autodiscover/autodiscover.json",
                           "/apple/mail.mobileconfig.txt"}) {
    EXPECT_EQ(Send(http::verb::get, path).result(), http::status::not_found) << path;
  }
}

TEST_F(AutoconfigHttpTest, BadTargetsAndMissingHost) {
  EXPECT_EQ(Send(http::verb::options, "*").result(), http::status::bad_request);
  EXPECT_EQ(Send(http::verb::get, "/mail/config-v1.1.xml", "", nullptr).result(),
            http::status::bad_request);
  HttpResponse res = Send(http::verb::get,
                          "http://autoconfig.example.test/mail/config-v1.1.xml?emailaddress=a@b.c");
  EXPECT_EQ(res.result(), http::status::ok);
}

TEST_F(AutoconfigHttpTest, EveryRequestSeesTheLiveState) {
  const std::string url = "/mail/config-v1.1.xml?emailaddress=a@example.test";
  HttpResponse res = Send(http::verb::get, url);
  EXPECT_NE(res.body().find("type=\"pop3\""), std::string::npos);
  node_.pop3.running = false;
  node_.pop3.open_ports.clear();
  res = Send(http::verb::get, url);
  EXPECT_EQ(res.body().find("type=\"pop3\""), std::string::npos);
  EXPECT_NE(res.body().find("type=\"imap\""), std::string::npos);
  EXPECT_EQ(snapshots_, 2);
}

TEST_F(AutoconfigHttpTest, NoIncomingServiceIs503) {
  node_.pop3.running = false;
  node_.imap4.running = false;
  using Case = std::tuple<http::verb, std::string, std::string>;
  const std::vector<Case> cases = {
      {http::verb::get, "/mail/config-v1.1.xml?emailaddress=a@b.test", ""},
      {http::verb::get, "/apple/mail.mobileconfig?emailaddress=a@b.test", ""},
      {http::verb::post, "/autodiscover/autodiscover.xml", AutodiscoverBody("a@b.test")}};
  for (const auto& [verb, target, body] : cases) {
    HttpResponse res = Send(verb, target, body);
    EXPECT_EQ(res.result(), http::status::service_unavailable) << target;
    EXPECT_EQ(Header(res, http::field::retry_after), "60");
  }
}

}  // namespace
}  // namespace cas::autoconfig
