// SnapshotFromControlPlane: what adminctl feeds ComputeClientSettings from Settings.GetSettings
// and Control.GetServices (the computation itself is tested with the autoconfig documents).
#include <gtest/gtest.h>

#include "common/client_settings.h"
#include "common/protocol_settings.h"
#include "common/transport_settings.h"

namespace common {
namespace {

mail::v1::ServerSettings Settings() {
  mail::v1::ServerSettings s;
  *s.mutable_pop3() = WithDefaults(mail::v1::ProtocolSettings(), SettingsKind::kPop3);
  *s.mutable_imap4() = WithDefaults(mail::v1::ProtocolSettings(), SettingsKind::kImap4);
  return s;
}

mail::v1::ServiceState State(const char* node, mail::v1::ServiceName service,
                             mail::v1::ServiceStatus status, std::vector<std::string> endpoints) {
  mail::v1::ServiceState s;
  s.set_node(node);
  s.set_service(service);
  s.set_status(status);
  for (auto& e : endpoints) s.add_endpoints(e);
  return s;
}

mail::v1::GetServicesResponse TwoNodes() {
  mail::v1::GetServicesResponse r;
  mail::v1::Node* cas = r.add_nodes();
  cas->set_name("node1");
  cas->add_services(mail::v1::SERVICE_NAME_POP3);
  cas->add_services(mail::v1::SERVICE_NAME_IMAP4);
  cas->add_services(mail::v1::SERVICE_NAME_SMTP);
  cas->set_host_name("mail.example.test");
  mail::v1::Node* other = r.add_nodes();
  other->set_name("node2");
  other->add_services(mail::v1::SERVICE_NAME_IMAP4);
  *r.add_services() = State("node1", mail::v1::SERVICE_NAME_IMAP4, mail::v1::SERVICE_STATUS_RUNNING,
                            {"imaps://0.0.0.0:993", "imap://[::]:143"});
  *r.add_services() = State("node2", mail::v1::SERVICE_NAME_IMAP4, mail::v1::SERVICE_STATUS_RUNNING,
                            {"imaps://0.0.0.0:1993"});
  *r.add_services() =
      State("node1", mail::v1::SERVICE_NAME_POP3, mail::v1::SERVICE_STATUS_STOPPED, {});
  *r.add_services() =
      State("node1", mail::v1::SERVICE_NAME_SMTP, mail::v1::SERVICE_STATUS_RUNNING,
            {"smtp://0.0.0.0:2587 Client Frontend", "smtps://0.0.0.0:465 Client TLS",
             "smtp://0.0.0.0:25 Default Frontend"});
  return r;
}

TEST(SnapshotFromControlPlaneTest, LiveListenersOfEveryNode) {
  ClientSettings c = ComputeClientSettings(SnapshotFromControlPlane(Settings(), TwoNodes()));
  EXPECT_EQ(c.host_name, "mail.example.test");
  ASSERT_EQ(c.imap4.size(), 3u);
  EXPECT_EQ(c.imap4[0],
            (ServerEndpoint{ClientProtocol::kImap4, 993, ClientSecurity::kImplicitTls}));
  EXPECT_EQ(c.imap4[1],
            (ServerEndpoint{ClientProtocol::kImap4, 1993, ClientSecurity::kImplicitTls}));
  EXPECT_EQ(c.imap4[2], (ServerEndpoint{ClientProtocol::kImap4, 143, ClientSecurity::kStartTls}));
  EXPECT_TRUE(c.pop3.empty());  // Stopped.
  // The ports transportd listens on now, not the configured 587; port 25 offers no AUTH.
  ASSERT_EQ(c.smtp.size(), 2u);
  EXPECT_EQ(c.smtp[0], (ServerEndpoint{ClientProtocol::kSmtp, 465, ClientSecurity::kImplicitTls}));
  EXPECT_EQ(c.smtp[1], (ServerEndpoint{ClientProtocol::kSmtp, 2587, ClientSecurity::kStartTls}));
}

TEST(SnapshotFromControlPlaneTest, UnreachableAndDisabledAreNotOffered) {
  mail::v1::GetServicesResponse r = TwoNodes();
  for (auto& s : *r.mutable_services()) s.set_status(mail::v1::SERVICE_STATUS_UNREACHABLE);
  ClientSettings c = ComputeClientSettings(SnapshotFromControlPlane(Settings(), r));
  EXPECT_FALSE(c.has_incoming());
  EXPECT_TRUE(c.smtp.empty());

  // A disabled connector is not offered even where it listens.
  r = TwoNodes();
  mail::v1::ServerSettings settings = Settings();
  *settings.mutable_transport() = TransportWithDefaults(mail::v1::TransportSettings());
  settings.mutable_transport()->set_receive_connectors_customized(true);
  for (auto& connector : *settings.mutable_transport()->mutable_receive_connectors()) {
    if (connector.name() == "Client TLS") connector.set_enabled(false);
  }
  c = ComputeClientSettings(SnapshotFromControlPlane(settings, r));
  ASSERT_EQ(c.smtp.size(), 1u);
  EXPECT_EQ(c.smtp[0].port, 2587);
}

TEST(SnapshotFromControlPlaneTest, HostNameFallsBackToTheNodeName) {
  mail::v1::GetServicesResponse r = TwoNodes();
  r.mutable_nodes(0)->clear_host_name();
  EXPECT_EQ(SnapshotFromControlPlane(Settings(), r).host_name, "node1");
  EXPECT_EQ(SnapshotFromControlPlane(Settings(), mail::v1::GetServicesResponse()).host_name, "");
}

}  // namespace
}  // namespace common
