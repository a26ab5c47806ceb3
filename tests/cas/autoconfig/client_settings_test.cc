#include "cas/autoconfig/client_settings.h"

#include <gtest/gtest.h>

#include <memory>

#include "common/protocol_settings.h"
#include "common/transport_settings.h"

namespace cas::autoconfig {
namespace {

std::shared_ptr<const mail::v1::ProtocolSettings> Settings(common::SettingsKind kind,
                                                           mail::v1::LoginType type) {
  mail::v1::ProtocolSettings s;
  s.set_login_type(type);
  return std::make_shared<const mail::v1::ProtocolSettings>(common::WithDefaults(s, kind));
}

NodeSnapshot Running() {
  NodeSnapshot n;
  n.host_name = "mail.example.test";
  n.imap4 = {true,
             Settings(common::SettingsKind::kImap4, mail::v1::LOGIN_TYPE_SECURE_LOGIN),
             {{143, false}, {993, true}}};
  n.pop3 = {true,
            Settings(common::SettingsKind::kPop3, mail::v1::LOGIN_TYPE_SECURE_LOGIN),
            {{110, false}, {995, true}}};
  n.transport = std::make_shared<const mail::v1::TransportSettings>(
      common::TransportWithDefaults(mail::v1::TransportSettings()));
  return n;
}

TEST(ClientSettingsTest, EverythingRunningImplicitTlsFirst) {
  ClientSettings c = ComputeClientSettings(Running());
  EXPECT_EQ(c.host_name, "mail.example.test");
  ASSERT_EQ(c.imap4.size(), 2u);
  EXPECT_EQ(c.imap4[0], (ServerEndpoint{Protocol::kImap4, 993, Security::kImplicitTls}));
  EXPECT_EQ(c.imap4[1], (ServerEndpoint{Protocol::kImap4, 143, Security::kStartTls}));
  ASSERT_EQ(c.pop3.size(), 2u);
  EXPECT_EQ(c.pop3[0], (ServerEndpoint{Protocol::kPop3, 995, Security::kImplicitTls}));
  EXPECT_EQ(c.pop3[1], (ServerEndpoint{Protocol::kPop3, 110, Security::kStartTls}));
  // The default connectors: Client TLS (465) and Client Frontend (587) offer AUTH; Default
  // Frontend (25) does not.
  ASSERT_EQ(c.smtp.size(), 2u);
  EXPECT_EQ(c.smtp[0], (ServerEndpoint{Protocol::kSmtp, 465, Security::kImplicitTls}));
  EXPECT_EQ(c.smtp[1], (ServerEndpoint{Protocol::kSmtp, 587, Security::kStartTls}));
  EXPECT_TRUE(c.has_incoming());
}

TEST(ClientSettingsTest, StoppedServiceIsLeftOut) {
  NodeSnapshot n = Running();
  n.pop3.running = false;
  n.pop3.open_ports.clear();
  ClientSettings c = ComputeClientSettings(n);
  EXPECT_TRUE(c.pop3.empty());
  EXPECT_EQ(c.imap4.size(), 2u);
  // Running but with no open listener (a binding failed): nothing to offer either.
  n.imap4.open_ports.clear();
  c = ComputeClientSettings(n);
  EXPECT_TRUE(c.imap4.empty());
  EXPECT_FALSE(c.has_incoming());
}

TEST(ClientSettingsTest, OnlyTheListenersActuallyOpen) {
  NodeSnapshot n = Running();
  n.imap4.open_ports = {{10143, false}, {10993, true}, {10993, true}};  // [::] and 0.0.0.0.
  ClientSettings c = ComputeClientSettings(n);
  ASSERT_EQ(c.imap4.size(), 2u);
  EXPECT_EQ(c.imap4[0].port, 10993);
  EXPECT_EQ(c.imap4[1].port, 10143);
}

TEST(ClientSettingsTest, PlainPortsAreOfferedAsStartTlsUnderEveryLoginType) {
  for (auto type : {mail::v1::LOGIN_TYPE_SECURE_LOGIN, mail::v1::LOGIN_TYPE_PLAIN_TEXT_LOGIN,
                    mail::v1::LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION}) {
    NodeSnapshot n = Running();
    n.imap4.settings = Settings(common::SettingsKind::kImap4, type);
    n.imap4.open_ports = {{143, false}};
    ClientSettings c = ComputeClientSettings(n);
    ASSERT_EQ(c.imap4.size(), 1u);
    EXPECT_EQ(c.imap4[0].security, Security::kStartTls);
  }
}

TEST(ClientSettingsTest, NoSettingsNoServers) {
  NodeSnapshot n = Running();
  n.imap4.settings = nullptr;
  n.transport = nullptr;
  ClientSettings c = ComputeClientSettings(n);
  EXPECT_TRUE(c.imap4.empty());
  EXPECT_TRUE(c.smtp.empty());
  EXPECT_EQ(c.pop3.size(), 2u);
}

TEST(ClientSettingsTest, SmtpOnlyEnabledConnectorsWithAuth) {
  mail::v1::TransportSettings t;
  t.set_receive_connectors_customized(true);
  auto* tls = t.add_receive_connectors();
  tls->set_name("Client TLS");
  tls->set_enabled(true);
  tls->set_implicit_tls(true);
  tls->add_auth_mechanism(mail::v1::AUTH_MECHANISM_BASIC_AUTH);
  tls->add_bindings("[::]:4465");
  tls->add_bindings("0.0.0.0:4465");
  auto* disabled = t.add_receive_connectors();
  disabled->set_name("Client Frontend");
  disabled->set_enabled(false);
  disabled->add_auth_mechanism(mail::v1::AUTH_MECHANISM_BASIC_AUTH_REQUIRE_TLS);
  disabled->add_bindings("0.0.0.0:587");
  auto* inbound = t.add_receive_connectors();
  inbound->set_name("Default Frontend");
  inbound->set_enabled(true);
  inbound->add_auth_mechanism(mail::v1::AUTH_MECHANISM_TLS);
  inbound->add_bindings("0.0.0.0:25");
  auto* custom = t.add_receive_connectors();
  custom->set_name("Submission 2");
  custom->set_enabled(true);
  custom->add_auth_mechanism(mail::v1::AUTH_MECHANISM_TLS);
  custom->add_auth_mechanism(mail::v1::AUTH_MECHANISM_BASIC_AUTH);
  custom->add_auth_mechanism(mail::v1::AUTH_MECHANISM_BASIC_AUTH_REQUIRE_TLS);
  custom->add_bindings("0.0.0.0:2587");
  custom->add_bindings("127.0.0.1:0");  // No port to tell anyone.
  NodeSnapshot n = Running();
  n.transport =
      std::make_shared<const mail::v1::TransportSettings>(common::TransportWithDefaults(t));
  ClientSettings c = ComputeClientSettings(n);
  ASSERT_EQ(c.smtp.size(), 2u);
  EXPECT_EQ(c.smtp[0], (ServerEndpoint{Protocol::kSmtp, 4465, Security::kImplicitTls}));
  EXPECT_EQ(c.smtp[1], (ServerEndpoint{Protocol::kSmtp, 2587, Security::kStartTls}));
}

TEST(BindingPortTest, Forms) {
  EXPECT_EQ(BindingPort("0.0.0.0:587"), 587);
  EXPECT_EQ(BindingPort("[::]:465"), 465);
  EXPECT_EQ(BindingPort("127.0.0.1:0"), 0);
  EXPECT_EQ(BindingPort("host"), 0);
  EXPECT_EQ(BindingPort("host:"), 0);
  EXPECT_EQ(BindingPort("host:99999"), 0);
  EXPECT_EQ(BindingPort("host:12a"), 0);
}

TEST(OpenPortsFromPortLinesTest, ParsesServiceListenerLines) {
  auto ports = OpenPortsFromPortLines({"imap4 plain 143", "imap4 tls 993", "junk", "x y 0"});
  ASSERT_EQ(ports.size(), 2u);
  EXPECT_EQ(ports[0].port, 143);
  EXPECT_FALSE(ports[0].implicit_tls);
  EXPECT_EQ(ports[1].port, 993);
  EXPECT_TRUE(ports[1].implicit_tls);
}

}  // namespace
}  // namespace cas::autoconfig
