// Get-/New-/Set-/Remove-ReceiveConnector, Get-/Set-SendConnector, Get-/Set-TransportService and
// Get-/Set-TransportConfig end to end through the runner, against the in-process fake
// mail.v1.Settings server (fake_settings.h): the views, the update requests sent (action, field
// names and values), value forms (sizes, time spans, AuthMechanism lists, smart hosts),
// -WhatIf, confirmation, values refused before anything is sent, and the store's errors.
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "adminctl/cmdlet.h"
#include "control.grpc.pb.h"
#include "tests/adminctl/fake_settings.h"

namespace adminctl {
namespace {

using mail::v1::ReceiveConnector;
using mail::v1::TransportSettings;
using mail::v1::UpdateReceiveConnectorRequest;
using mail::v1::UpdateTransportSettingsRequest;
using test::Outcome;

template <typename T>
std::vector<std::string> Strings(const T& repeated) {
  return std::vector<std::string>(repeated.begin(), repeated.end());
}

std::vector<int> Ints(const google::protobuf::RepeatedField<int>& repeated) {
  return std::vector<int>(repeated.begin(), repeated.end());
}

constexpr int kTls = mail::v1::AUTH_MECHANISM_TLS;
constexpr int kBasic = mail::v1::AUTH_MECHANISM_BASIC_AUTH;
constexpr int kBasicTls = mail::v1::AUTH_MECHANISM_BASIC_AUTH_REQUIRE_TLS;
constexpr int kIntegrated = mail::v1::AUTH_MECHANISM_INTEGRATED;
constexpr int kExternal = mail::v1::AUTH_MECHANISM_EXTERNAL_AUTHORITATIVE;

class TransportCmdletsTest : public test::SettingsCmdletsTest {
 protected:
  TransportSettings Stored() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.settings.transport();
  }

  ReceiveConnector StoredConnector(const std::string& name) {
    const TransportSettings stored = Stored();
    for (const ReceiveConnector& c : stored.receive_connectors()) {
      if (c.name() == name) return c;
    }
    ADD_FAILURE() << "no connector " << name;
    return {};
  }

  std::vector<UpdateReceiveConnectorRequest> ConnectorUpdates() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.connector_updates;
  }

  std::vector<UpdateTransportSettingsRequest> TransportUpdates() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.transport_updates;
  }

  // The one connector update sent since the last Clear().
  UpdateReceiveConnectorRequest OnlyConnectorUpdate() {
    std::vector<UpdateReceiveConnectorRequest> all = ConnectorUpdates();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? UpdateReceiveConnectorRequest() : all.back();
  }

  UpdateTransportSettingsRequest OnlyTransportUpdate() {
    std::vector<UpdateTransportSettingsRequest> all = TransportUpdates();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? UpdateTransportSettingsRequest() : all.back();
  }

  void Clear() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.connector_updates.clear();
    fake_.transport_updates.clear();
  }

  size_t Sent() { return ConnectorUpdates().size() + TransportUpdates().size(); }

  // Runs `line`, which must fail before sending any update, and returns its error text.
  std::string Refused(const std::string& line) {
    const size_t before = Sent();
    Outcome o = Run(line);
    EXPECT_FALSE(o.ok) << line;
    EXPECT_EQ(o.out, "") << line;
    EXPECT_EQ(Sent(), before) << line;
    return o.err;
  }

  void AddSmartHost(const std::string& host, uint32_t port, bool tls) {
    std::lock_guard<std::mutex> lock(fake_.mu);
    mail::v1::SmartHost* h = fake_.settings.mutable_transport()->add_smart_hosts();
    h->set_host(host);
    h->set_port(port);
    h->set_require_tls(tls);
  }
};

std::vector<std::string> Fields(const UpdateReceiveConnectorRequest& r) {
  return Strings(r.fields());
}

std::vector<std::string> Fields(const UpdateTransportSettingsRequest& r) {
  return Strings(r.fields());
}

// ---------------------------------------------------------------------------------------------
// Get-ReceiveConnector

TEST_F(TransportCmdletsTest, GetReceiveConnectorDefaultView) {
  Outcome o = Run("Get-ReceiveConnector");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "Name             Bindings                Enabled\n"
            "----             --------                -------\n"
            "Client Frontend  {[::]:587, 0.0.0.0:587} True\n"
            "Client TLS       {[::]:465, 0.0.0.0:465} True\n"
            "Default Frontend {[::]:25, 0.0.0.0:25}   True\n"
            "\n");
  EXPECT_EQ(Sent(), 0u);
}

TEST_F(TransportCmdletsTest, GetReceiveConnectorFormatListShowsEveryProperty) {
  Outcome o = Run("Get-ReceiveConnector 'Client Frontend' | Format-List");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name                          : Client Frontend\n"
            "Bindings                      : {[::]:587, 0.0.0.0:587}\n"
            "Enabled                       : True\n"
            "Banner                        : ESMTP service ready\n"
            "Fqdn                          :\n"
            "TlsCertificateName            :\n"
            "MaxMessageSize                : 36 MB (37,748,736 bytes)\n"
            "MaxRecipientsPerMessage       : 200\n"
            "MaxInboundConnection          : 5000\n"
            "MaxInboundConnectionPerSource : 20\n"
            "ConnectionTimeout             : 00:10:00\n"
            "AuthMechanism                 : Tls, BasicAuth, BasicAuthRequireTLS\n"
            "RequireTLS                    : False\n"
            "AuthRequired                  : True\n"
            "RelayAllowed                  : True\n"
            "ImplicitTls                   : False\n"
            "ProtocolLoggingLevel          : None\n"
            "Identity                      : Client Frontend\n"
            "\n");
  o = Run("Get-ReceiveConnector 'Default Frontend' | fl AuthMechanism,AuthRequired,RelayAllowed");
  EXPECT_EQ(o.out,
            "\n"
            "AuthMechanism : Tls\n"
            "AuthRequired  : False\n"
            "RelayAllowed  : False\n"
            "\n");
  o = Run("Get-ReceiveConnector 'Client TLS' | fl ImplicitTls");
  EXPECT_EQ(o.out, "\nImplicitTls : True\n\n");
}

TEST_F(TransportCmdletsTest, GetReceiveConnectorIdentityForms) {
  struct Case {
    const char* identity;
    std::vector<std::string> names;
  };
  for (const Case& c : {
           Case{"'Client Frontend'", {"Client Frontend"}},
           Case{"'client frontend'", {"Client Frontend"}},
           Case{"'MBX01\\Client TLS'", {"Client TLS"}},
           Case{"Client*", {"Client Frontend", "Client TLS"}},
           Case{"*Frontend", {"Client Frontend", "Default Frontend"}},
           Case{"Nothing*", {}},
       }) {
    Outcome o = Run(std::string("Get-ReceiveConnector ") + c.identity + " | fl Name");
    EXPECT_TRUE(o.ok) << c.identity << ": " << o.err;
    std::string want = c.names.empty() ? "" : "\n";
    for (const std::string& n : c.names) want += "Name : " + n + "\n\n";
    EXPECT_EQ(o.out, want) << c.identity;
  }
  Outcome o = Run("Get-ReceiveConnector Partners");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Get-ReceiveConnector: The receive connector 'Partners' wasn't found.\n");
  // -Server is accepted for Exchange's scripts and ignored.
  o = Run("Get-ReceiveConnector -Server mbx02 | fl Name");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_NE(o.out.find("Default Frontend"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Set-ReceiveConnector: what is sent

TEST_F(TransportCmdletsTest, SetSendsOnlyTheNamedField) {
  Outcome o = Run("Set-ReceiveConnector 'Client Frontend' -MaxMessageSize 10MB");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "");
  const UpdateReceiveConnectorRequest r = OnlyConnectorUpdate();
  EXPECT_EQ(r.action(), UpdateReceiveConnectorRequest::ACTION_SET);
  EXPECT_EQ(r.identity(), "Client Frontend");
  EXPECT_EQ(Fields(r), std::vector<std::string>{"max_message_size"});
  EXPECT_EQ(r.connector().max_message_size(), 10485760u);
  EXPECT_EQ(StoredConnector("Client Frontend").max_message_size(), 10485760u);
  EXPECT_EQ(StoredConnector("Client Frontend").max_recipients_per_message(), 200u);
  o = Run("Get-ReceiveConnector 'Client Frontend' | fl MaxMessageSize");
  EXPECT_EQ(o.out, "\nMaxMessageSize : 10 MB (10,485,760 bytes)\n\n");
  EXPECT_TRUE(TransportUpdates().empty());
}

TEST_F(TransportCmdletsTest, SetEveryField) {
  Outcome o =
      Run("Set-ReceiveConnector -Identity 'MBX01\\Default Frontend' -ProtocolLoggingLevel Verbose "
          "-RelayAllowed $false -AuthRequired:$false -RequireTLS $true -ImplicitTls $false "
          "-AuthMechanism Tls,Integrated -ConnectionTimeout 00:05:00 "
          "-MaxInboundConnectionPerSource 50 -MaxInboundConnection 1000 "
          "-MaxRecipientsPerMessage 500 -MaxMessageSize 64MB -TlsCertificateName mail.example.test "
          "-Fqdn mail.example.test -Banner 'Hello there' -Enabled $true "
          "-Bindings '[::]:2525','0.0.0.0:2525' -Name Inbound");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "");
  const UpdateReceiveConnectorRequest r = OnlyConnectorUpdate();
  EXPECT_EQ(r.identity(), "Default Frontend");  // The server part is dropped.
  // In the table's order, whatever the order on the command line.
  EXPECT_EQ(Fields(r), (std::vector<std::string>{
                           "name",
                           "bindings",
                           "enabled",
                           "banner",
                           "fqdn",
                           "tls_certificate_name",
                           "max_message_size",
                           "max_recipients_per_message",
                           "max_inbound_connection",
                           "max_inbound_connection_per_source",
                           "connection_timeout_seconds",
                           "auth_mechanism",
                           "require_tls",
                           "require_auth",
                           "allow_relay_authenticated",
                           "implicit_tls",
                           "protocol_log_enabled",
                       }));
  const ReceiveConnector& c = r.connector();
  EXPECT_EQ(c.name(), "Inbound");
  EXPECT_EQ(Strings(c.bindings()), (std::vector<std::string>{"[::]:2525", "0.0.0.0:2525"}));
  EXPECT_TRUE(c.enabled());
  EXPECT_EQ(c.banner(), "Hello there");
  EXPECT_EQ(c.fqdn(), "mail.example.test");
  EXPECT_EQ(c.tls_certificate_name(), "mail.example.test");
  EXPECT_EQ(c.max_message_size(), 64ull << 20);
  EXPECT_EQ(c.max_recipients_per_message(), 500u);
  EXPECT_EQ(c.max_inbound_connection(), 1000u);
  EXPECT_EQ(c.max_inbound_connection_per_source(), 50u);
  EXPECT_EQ(c.connection_timeout_seconds(), 300u);
  EXPECT_EQ(Ints(c.auth_mechanism()), (std::vector<int>{kTls, kIntegrated}));
  EXPECT_TRUE(c.require_tls());
  EXPECT_FALSE(c.require_auth());
  EXPECT_FALSE(c.allow_relay_authenticated());
  EXPECT_FALSE(c.implicit_tls());
  EXPECT_TRUE(c.protocol_log_enabled());

  o =
      Run("Get-ReceiveConnector Inbound | fl Name,Bindings,ConnectionTimeout,AuthMechanism,"
          "ProtocolLoggingLevel");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name                 : Inbound\n"
            "Bindings             : {[::]:2525, 0.0.0.0:2525}\n"
            "ConnectionTimeout    : 00:05:00\n"
            "AuthMechanism        : Tls, Integrated\n"
            "ProtocolLoggingLevel : Verbose\n"
            "\n");
}

TEST_F(TransportCmdletsTest, ValueForms) {
  struct Case {
    std::string parameters;
    std::string field;
    // Checks the value sent.
    std::function<bool(const ReceiveConnector&)> sent;
  };
  const std::vector<Case> cases = {
      {"-MaxMessageSize 36MB", "max_message_size",
       [](const ReceiveConnector& c) { return c.max_message_size() == 37748736u; }},
      {"-MaxMessageSize '10 MB'", "max_message_size",
       [](const ReceiveConnector& c) { return c.max_message_size() == 10485760u; }},
      {"-MaxMessageSize 1GB", "max_message_size",
       [](const ReceiveConnector& c) { return c.max_message_size() == 1073741824u; }},
      {"-MaxMessageSize 65536", "max_message_size",
       [](const ReceiveConnector& c) { return c.max_message_size() == 65536u; }},
      {"-MaxMessageSize '36 MB (37,748,736 bytes)'", "max_message_size",
       [](const ReceiveConnector& c) { return c.max_message_size() == 37748736u; }},
      {"-ConnectionTimeout 00:10:00", "connection_timeout_seconds",
       [](const ReceiveConnector& c) { return c.connection_timeout_seconds() == 600u; }},
      {"-ConnectionTimeout 1.00:00:00", "connection_timeout_seconds",
       [](const ReceiveConnector& c) { return c.connection_timeout_seconds() == 86400u; }},
      {"-ConnectionTimeout 0:30", "connection_timeout_seconds",
       [](const ReceiveConnector& c) { return c.connection_timeout_seconds() == 1800u; }},
      {"-AuthMechanism Tls,BasicAuth,BasicAuthRequireTLS", "auth_mechanism",
       [](const ReceiveConnector& c) {
         return Ints(c.auth_mechanism()) == std::vector<int>{kTls, kBasic, kBasicTls};
       }},
      // Exchange's flags as one word, in any order and case: sent in display order.
      {"-AuthMechanism 'BasicAuth, tls'", "auth_mechanism",
       [](const ReceiveConnector& c) {
         return Ints(c.auth_mechanism()) == std::vector<int>{kTls, kBasic};
       }},
      {"-AuthMechanism Tls,Tls", "auth_mechanism",
       [](const ReceiveConnector& c) {
         return Ints(c.auth_mechanism()) == std::vector<int>{kTls};
       }},
      {"-AuthMechanism ExternalAuthoritative,Tls", "auth_mechanism",
       [](const ReceiveConnector& c) {
         return Ints(c.auth_mechanism()) == std::vector<int>{kTls, kExternal};
       }},
      {"-AuthMechanism None", "auth_mechanism",
       [](const ReceiveConnector& c) { return c.auth_mechanism().empty(); }},
      {"-ProtocolLoggingLevel none", "protocol_log_enabled",
       [](const ReceiveConnector& c) { return !c.protocol_log_enabled(); }},
      {"-ProtocolLoggingLevel 1", "protocol_log_enabled",
       [](const ReceiveConnector& c) { return c.protocol_log_enabled(); }},
      {"-Enabled 0", "enabled", [](const ReceiveConnector& c) { return !c.enabled(); }},
      {"-Banner $null", "banner", [](const ReceiveConnector& c) { return c.banner().empty(); }},
      {"-MaxRecipientsPerMessage 512000", "max_recipients_per_message",
       [](const ReceiveConnector& c) { return c.max_recipients_per_message() == 512000u; }},
  };
  for (const Case& c : cases) {
    Clear();
    Outcome o = Run("Set-ReceiveConnector 'Client TLS' " + c.parameters);
    EXPECT_TRUE(o.ok) << c.parameters << ": " << o.err;
    const UpdateReceiveConnectorRequest r = OnlyConnectorUpdate();
    EXPECT_EQ(Fields(r), std::vector<std::string>{c.field}) << c.parameters;
    EXPECT_TRUE(c.sent(r.connector())) << c.parameters << ": " << r.connector().DebugString();
  }
}

TEST_F(TransportCmdletsTest, BadValuesAreRefusedBeforeSending) {
  EXPECT_EQ(Refused("Set-ReceiveConnector 'Client TLS' -AuthMechanism Tls,Kerberos"),
            "Set-ReceiveConnector: Cannot bind parameter 'AuthMechanism'. Cannot convert value "
            "\"Kerberos\" to type "
            "\"Microsoft.Exchange.Data.Directory.SystemConfiguration.AuthMechanisms\". Error: "
            "\"Unable to match the identifier name Kerberos to a valid enumerator name. Specify "
            "one of the following enumerator names and try again: None, Tls, Integrated, "
            "BasicAuth, BasicAuthRequireTLS, ExternalAuthoritative\"\n");
  EXPECT_EQ(Refused("Set-ReceiveConnector 'Client TLS' -AuthMechanism None,Tls"),
            "Set-ReceiveConnector: AuthMechanism None can't be combined with other values.\n");
  EXPECT_EQ(Refused("Set-ReceiveConnector 'Client TLS' -AuthMechanism BasicAuthRequireTLS"),
            "Set-ReceiveConnector: AuthMechanism BasicAuthRequireTLS needs BasicAuth and Tls "
            "too, for example -AuthMechanism Tls,BasicAuth,BasicAuthRequireTLS.\n");
  EXPECT_EQ(Refused("Set-ReceiveConnector 'Client TLS' -AuthMechanism "
                    "ExternalAuthoritative,BasicAuth"),
            "Set-ReceiveConnector: AuthMechanism ExternalAuthoritative can be combined only "
            "with Tls.\n");
  EXPECT_NE(Refused("Set-ReceiveConnector 'Client TLS' -AuthMechanism $null")
                .find("The argument is null"),
            std::string::npos);
  EXPECT_NE(Refused("Set-ReceiveConnector 'Client TLS' -AuthMechanism @{Add='Tls'}")
                .find("takes the whole list"),
            std::string::npos);
  EXPECT_EQ(Refused("Set-ReceiveConnector 'Client TLS' -ConnectionTimeout 600"),
            "Set-ReceiveConnector: Cannot process argument transformation on parameter "
            "'ConnectionTimeout'. Cannot convert value \"600\" to type "
            "\"Microsoft.Exchange.Data.EnhancedTimeSpan\". Error: \"Give a time span as "
            "hh:mm:ss or d.hh:mm:ss, for example 00:10:00.\"\n");
  EXPECT_EQ(Refused("Set-ReceiveConnector 'Client TLS' -MaxRecipientsPerMessage 0"),
            "Set-ReceiveConnector: Cannot validate argument on parameter "
            "'MaxRecipientsPerMessage'. The 0 argument is less than the minimum allowed range of "
            "1. Supply an argument that is greater than or equal to 1 and then try the command "
            "again.\n");
  EXPECT_EQ(Refused("Set-ReceiveConnector 'Client TLS' -MaxInboundConnectionPerSource 10001"),
            "Set-ReceiveConnector: Cannot validate argument on parameter "
            "'MaxInboundConnectionPerSource'. The 10001 argument is greater than the maximum "
            "allowed range of 10000. Supply an argument that is less than or equal to 10000 and "
            "then try the command again.\n");
  EXPECT_NE(Refused("Set-ReceiveConnector 'Client TLS' -MaxMessageSize Unlimited")
                .find("Unlimited is not allowed"),
            std::string::npos);
  EXPECT_NE(
      Refused("Set-ReceiveConnector 'Client TLS' -MaxMessageSize lots").find("ByteQuantifiedSize"),
      std::string::npos);
  EXPECT_NE(Refused("Set-ReceiveConnector 'Client TLS' -ProtocolLoggingLevel Low")
                .find("Unable to match the identifier name Low"),
            std::string::npos);
  EXPECT_EQ(Refused("Set-ReceiveConnector 'Client TLS' -Name ''"),
            "Set-ReceiveConnector: Cannot bind argument to parameter 'Name' because it is an "
            "empty string.\n");
  EXPECT_NE(Refused("Set-ReceiveConnector 'Client TLS' -Bindings $null").find("is null"),
            std::string::npos);
  EXPECT_NE(Refused("Set-ReceiveConnector 'Client TLS' -Enabled maybe").find("Boolean"),
            std::string::npos);
  EXPECT_NE(Refused("Set-ReceiveConnector -MaxMessageSize 10MB")
                .find("missing mandatory parameters: Identity"),
            std::string::npos);
  // A bad value anywhere stops the whole change.
  Refused("Set-ReceiveConnector 'Client TLS' -Banner ok -ConnectionTimeout soon");
}

TEST_F(TransportCmdletsTest, StoreErrorsArePassedThrough) {
  Outcome o = Run("Set-ReceiveConnector Partners -Enabled $false");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "Set-ReceiveConnector: The receive connector 'Partners' wasn't found.\n");
  EXPECT_EQ(ConnectorUpdates().size(), 1u);

  o = Run("Set-ReceiveConnector 'Client TLS' -MaxMessageSize 1KB");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Set-ReceiveConnector: MaxMessageSize must be between 64 KB and 2 GB\n");
  EXPECT_EQ(StoredConnector("Client TLS").max_message_size(), 36ull << 20);

  fake_.fail_with = grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "");
  o = Run("Get-ReceiveConnector");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Get-ReceiveConnector: The mailbox store at " + endpoint_ +
                       " does not serve transport settings (mail.v1.Settings); upgrade it.\n");
  fake_.fail_with.reset();

  server_->Shutdown();
  o = Run("Set-ReceiveConnector 'Client TLS' -Enabled $false");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(
      o.err.rfind("Set-ReceiveConnector: Cannot connect to the mailbox store at " + endpoint_, 0),
      0u)
      << o.err;
}

TEST_F(TransportCmdletsTest, SetWhatIfSendsNothing) {
  Outcome o =
      Run("Set-ReceiveConnector 'client tls' -MaxMessageSize 10MB -AuthMechanism "
          "Tls,BasicAuth,BasicAuthRequireTLS -ConnectionTimeout 1.00:00:00 -WhatIf");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "What if: Performing the operation \"Set-ReceiveConnector\" on target \"Client TLS\" "
            "with the changes: MaxMessageSize=10 MB (10,485,760 bytes), "
            "ConnectionTimeout=1.00:00:00, AuthMechanism=Tls, BasicAuth, BasicAuthRequireTLS\n");
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(Sent(), 0u);

  o = Run("Set-ReceiveConnector Partners -Enabled $false -WhatIf");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "Set-ReceiveConnector: The receive connector 'Partners' wasn't found.\n");
  EXPECT_EQ(Sent(), 0u);

  o = Run("Set-ReceiveConnector 'Client TLS' -Enabled $false -WhatIf:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(Sent(), 1u);
}

TEST_F(TransportCmdletsTest, NothingToChangeWarns) {
  Outcome o = Run("Set-ReceiveConnector 'MBX01\\client tls'");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err,
            "WARNING: The command completed successfully but no settings of 'Client TLS' have "
            "been modified.\n");
  EXPECT_EQ(Sent(), 0u);
  o = Run("Set-ReceiveConnector Partners");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Set-ReceiveConnector: The receive connector 'Partners' wasn't found.\n");
}

TEST_F(TransportCmdletsTest, PipelineSetsEachConnector) {
  Outcome o =
      Run("Get-ReceiveConnector *Frontend | Set-ReceiveConnector -ProtocolLoggingLevel "
          "Verbose");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  std::vector<UpdateReceiveConnectorRequest> all = ConnectorUpdates();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].identity(), "Client Frontend");
  EXPECT_EQ(all[1].identity(), "Default Frontend");
  EXPECT_TRUE(StoredConnector("Default Frontend").protocol_log_enabled());
  EXPECT_FALSE(StoredConnector("Client TLS").protocol_log_enabled());
}

TEST_F(TransportCmdletsTest, CleartextAuthWarns) {
  const std::string warning =
      "WARNING: With AuthMechanism BasicAuth and without BasicAuthRequireTLS, passwords can "
      "cross the network in clear text before STARTTLS on the receive connector 'Client "
      "Frontend'.\n";
  Outcome o = Run("Set-ReceiveConnector 'Client Frontend' -AuthMechanism Tls,BasicAuth");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, warning);
  // Implicit TLS (465) or RequireTLS protects the password.
  o = Run("Set-ReceiveConnector 'Client TLS' -AuthMechanism Tls,BasicAuth");
  EXPECT_EQ(o.err, "");
  o =
      Run("Set-ReceiveConnector 'Client Frontend' -AuthMechanism Tls,BasicAuth,"
          "BasicAuthRequireTLS");
  EXPECT_EQ(o.err, "");
}

// ---------------------------------------------------------------------------------------------
// New-ReceiveConnector and Remove-ReceiveConnector

TEST_F(TransportCmdletsTest, NewReceiveConnector) {
  Outcome o = Run("New-ReceiveConnector Partners -Bindings 0.0.0.0:2525 -MaxMessageSize 50MB");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "Name     Bindings       Enabled\n"
            "----     --------       -------\n"
            "Partners {0.0.0.0:2525} True\n"
            "\n");
  const UpdateReceiveConnectorRequest r = OnlyConnectorUpdate();
  EXPECT_EQ(r.action(), UpdateReceiveConnectorRequest::ACTION_NEW);
  EXPECT_EQ(r.connector().name(), "Partners");
  EXPECT_EQ(Strings(r.connector().bindings()), std::vector<std::string>{"0.0.0.0:2525"});
  EXPECT_TRUE(r.connector().enabled());
  EXPECT_EQ(Ints(r.connector().auth_mechanism()), std::vector<int>{kTls});
  EXPECT_FALSE(r.connector().require_auth());
  EXPECT_FALSE(r.connector().allow_relay_authenticated());
  EXPECT_EQ(r.connector().max_message_size(), 50ull << 20);
  // The store fills in the other limits.
  EXPECT_EQ(StoredConnector("Partners").max_recipients_per_message(), 200u);
  EXPECT_EQ(Stored().receive_connectors_size(), 4);
}

TEST_F(TransportCmdletsTest, NewReceiveConnectorUsages) {
  struct Case {
    const char* usage;
    std::vector<int> auth;
    bool auth_required;
  };
  for (const Case& c : {Case{"", {kTls}, false}, Case{"-Usage Custom", {kTls}, false},
                        Case{"-Usage Internet", {kTls}, false},
                        Case{"-Usage client", {kTls, kBasic, kBasicTls}, true}}) {
    Clear();
    Outcome o =
        Run(std::string("New-ReceiveConnector -Name 'Submission 2' -Bindings 0.0.0.0:2587 ") +
            c.usage + " -WhatIf");
    EXPECT_TRUE(o.ok) << o.err;
    EXPECT_EQ(Sent(), 0u);
    o = Run(std::string("New-ReceiveConnector -Name 'Submission 2' -Bindings 0.0.0.0:2587 ") +
            c.usage);
    EXPECT_TRUE(o.ok) << c.usage << ": " << o.err;
    const UpdateReceiveConnectorRequest r = OnlyConnectorUpdate();
    EXPECT_EQ(Ints(r.connector().auth_mechanism()), c.auth) << c.usage;
    EXPECT_EQ(r.connector().require_auth(), c.auth_required) << c.usage;
    EXPECT_EQ(r.connector().allow_relay_authenticated(), c.auth_required) << c.usage;
    o = Run("Remove-ReceiveConnector 'Submission 2' -Confirm:$false");
    EXPECT_TRUE(o.ok) << o.err;
  }
  // Given parameters win over the usage's defaults.
  Clear();
  Outcome o =
      Run("New-ReceiveConnector Relay -Bindings 0.0.0.0:2526 -Usage Client "
          "-RelayAllowed $false -AuthMechanism Tls,BasicAuth,BasicAuthRequireTLS,"
          "Integrated");
  EXPECT_TRUE(o.ok) << o.err;
  const UpdateReceiveConnectorRequest r = OnlyConnectorUpdate();
  EXPECT_FALSE(r.connector().allow_relay_authenticated());
  EXPECT_TRUE(r.connector().require_auth());
  EXPECT_EQ(Ints(r.connector().auth_mechanism()),
            (std::vector<int>{kTls, kIntegrated, kBasic, kBasicTls}));
}

TEST_F(TransportCmdletsTest, NewReceiveConnectorErrors) {
  Outcome o = Run("New-ReceiveConnector 'client frontend' -Bindings 0.0.0.0:2525");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "New-ReceiveConnector: A receive connector named 'client frontend' already "
            "exists.\n");
  EXPECT_NE(Refused("New-ReceiveConnector Partners").find("Bindings"), std::string::npos);
  EXPECT_NE(Refused("New-ReceiveConnector -Bindings 0.0.0.0:2525").find("Name"), std::string::npos);
  EXPECT_NE(Refused("New-ReceiveConnector Partners -Bindings 0.0.0.0:2525 -Usage Partner")
                .find("Unable to match the identifier name Partner"),
            std::string::npos);

  o = Run("New-ReceiveConnector Partners -Bindings 0.0.0.0:2525 -RequireTLS $true -WhatIf");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "What if: Performing the operation \"New-ReceiveConnector\" on target \"Partners\" "
            "with the changes: Name=Partners, Bindings={0.0.0.0:2525}, RequireTLS=True\n");
  EXPECT_EQ(ConnectorUpdates().size(), 1u);  // Only the refused duplicate.
}

TEST_F(TransportCmdletsTest, RemoveReceiveConnector) {
  // Without a terminal, -Confirm:$false is needed.
  EXPECT_EQ(Refused("Remove-ReceiveConnector 'Client TLS'"),
            "Remove-ReceiveConnector: Removing receive connector 'Client TLS' needs "
            "confirmation, but standard input is not a terminal, so adminctl cannot ask. Add "
            "-Confirm:$false to remove it without a prompt.\n");

  terminal_.interactive = true;
  terminal_.answers = {"n"};
  Outcome o = Run("Remove-ReceiveConnector 'Client TLS'");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(Sent(), 0u);
  ASSERT_EQ(terminal_.prompts.size(), 1u);
  EXPECT_EQ(terminal_.prompts[0],
            "\nConfirm\nAre you sure you want to perform this action?\nRemoving Receive "
            "connector \"Client TLS\".\n[Y] Yes  [N] No  (default is \"N\"): ");

  terminal_.answers = {"maybe", "y"};
  o = Run("Remove-ReceiveConnector 'Client TLS'");
  EXPECT_TRUE(o.ok) << o.err;
  UpdateReceiveConnectorRequest r = OnlyConnectorUpdate();
  EXPECT_EQ(r.action(), UpdateReceiveConnectorRequest::ACTION_REMOVE);
  EXPECT_EQ(r.identity(), "Client TLS");
  EXPECT_EQ(Stored().receive_connectors_size(), 2);
  terminal_.interactive = false;

  o = Run("Remove-ReceiveConnector 'Client TLS' -Confirm:$false");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Remove-ReceiveConnector: The receive connector 'Client TLS' wasn't found.\n");

  Clear();
  o = Run("Remove-ReceiveConnector 'mbx01\\default frontend' -WhatIf");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "What if: Performing the operation \"Remove-ReceiveConnector\" on target \"Default "
            "Frontend\".\n");
  EXPECT_EQ(Sent(), 0u);

  o = Run("Get-ReceiveConnector | Remove-ReceiveConnector -Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(Stored().receive_connectors_size(), 0);
}

// ---------------------------------------------------------------------------------------------
// Get-SendConnector and Set-SendConnector

TEST_F(TransportCmdletsTest, GetSendConnectorWithoutSmartHostsWarns) {
  Outcome o = Run("Get-SendConnector");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Identity                AddressSpaces SmartHosts Enabled\n"
            "--------                ------------- ---------- -------\n"
            "Outbound to smart hosts {SMTP:*;1}    {}         True\n"
            "\n");
  EXPECT_EQ(o.err,
            "WARNING: The organisation has no smart hosts: each transportd uses those of its "
            "configuration file, and without any, mail to other domains stays queued. Set them "
            "with Set-SendConnector -SmartHosts.\n");
}

TEST_F(TransportCmdletsTest, GetSendConnectorFormatList) {
  AddSmartHost("relay.example.net", 587, true);
  AddSmartHost("2001:db8::1", 2525, true);
  Outcome o = Run("Get-SendConnector 'Outbound to smart hosts' | Format-List");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "Name              : Outbound to smart hosts\n"
            "Identity          : Outbound to smart hosts\n"
            "AddressSpaces     : {SMTP:*;1}\n"
            "SmartHosts        : {relay.example.net, [2001:db8::1]:2525}\n"
            "Port              : 587\n"
            "RequireTLS        : True\n"
            "DNSRoutingEnabled : False\n"
            "Enabled           : True\n"
            "\n");
  EXPECT_FALSE(Run("Get-SendConnector Internet").ok);
}

TEST_F(TransportCmdletsTest, SetSmartHostsForms) {
  struct Host {
    std::string host;
    uint32_t port;
    bool tls;
  };
  struct Case {
    std::string parameters;
    std::vector<Host> sent;
  };
  for (const Case& c : std::vector<Case>{
           {"-SmartHosts relay.example.net", {{"relay.example.net", 25, false}}},
           {"-SmartHosts relay.example.net:587 -RequireTLS $true",
            {{"relay.example.net", 587, true}}},
           {"-SmartHosts a.example.net,b.example.net -Port 2525",
            {{"a.example.net", 2525, false}, {"b.example.net", 2525, false}}},
           // A written port wins over -Port.
           {"-SmartHosts a.example.net:587,b.example.net -Port 2525",
            {{"a.example.net", 587, false}, {"b.example.net", 2525, false}}},
           {"-SmartHosts '[2001:db8::1]:2525','[192.0.2.1]',2001:db8::2",
            {{"2001:db8::1", 2525, false}, {"192.0.2.1", 25, false}, {"2001:db8::2", 25, false}}},
           {"-Identity 'MBX01\\Outbound to smart hosts' -SmartHosts 192.0.2.7:26",
            {{"192.0.2.7", 26, false}}},
       }) {
    Clear();
    {
      std::lock_guard<std::mutex> lock(fake_.mu);
      fake_.settings.mutable_transport()->clear_smart_hosts();
    }
    Outcome o = Run("Set-SendConnector " + c.parameters);
    EXPECT_TRUE(o.ok) << c.parameters << ": " << o.err;
    EXPECT_EQ(o.out, "") << c.parameters;
    const UpdateTransportSettingsRequest r = OnlyTransportUpdate();
    EXPECT_EQ(Fields(r), std::vector<std::string>{"smart_hosts"}) << c.parameters;
    ASSERT_EQ(r.settings().smart_hosts_size(), static_cast<int>(c.sent.size())) << c.parameters;
    for (size_t i = 0; i < c.sent.size(); ++i) {
      const mail::v1::SmartHost& h = r.settings().smart_hosts(static_cast<int>(i));
      EXPECT_EQ(h.host(), c.sent[i].host) << c.parameters;
      EXPECT_EQ(h.port(), c.sent[i].port) << c.parameters;
      EXPECT_EQ(h.require_tls(), c.sent[i].tls) << c.parameters;
    }
  }
}

TEST_F(TransportCmdletsTest, SetPortAndRequireTlsKeepTheHosts) {
  AddSmartHost("a.example.net", 25, false);
  AddSmartHost("b.example.net", 25, false);
  Outcome o = Run("Set-SendConnector -Port 587 -RequireTLS $true");
  EXPECT_TRUE(o.ok) << o.err;
  UpdateTransportSettingsRequest r = OnlyTransportUpdate();
  ASSERT_EQ(r.settings().smart_hosts_size(), 2);
  EXPECT_EQ(r.settings().smart_hosts(0).host(), "a.example.net");
  EXPECT_EQ(r.settings().smart_hosts(1).port(), 587u);
  EXPECT_TRUE(r.settings().smart_hosts(1).require_tls());
  o = Run("Get-SendConnector | fl SmartHosts,Port,RequireTLS");
  EXPECT_EQ(o.out,
            "\n"
            "SmartHosts : {a.example.net, b.example.net}\n"
            "Port       : 587\n"
            "RequireTLS : True\n"
            "\n");

  // @{Add=...; Remove=...}: new hosts take the connector's port and TLS requirement.
  Clear();
  o = Run("Set-SendConnector -SmartHosts @{Add='c.example.net'; Remove='a.example.net'}");
  EXPECT_TRUE(o.ok) << o.err;
  r = OnlyTransportUpdate();
  ASSERT_EQ(r.settings().smart_hosts_size(), 2);
  EXPECT_EQ(r.settings().smart_hosts(0).host(), "b.example.net");
  EXPECT_EQ(r.settings().smart_hosts(1).host(), "c.example.net");
  EXPECT_EQ(r.settings().smart_hosts(1).port(), 587u);
  EXPECT_TRUE(r.settings().smart_hosts(1).require_tls());

  // $null clears the list.
  Clear();
  o = Run("Set-SendConnector -SmartHosts $null");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(OnlyTransportUpdate().settings().smart_hosts_size(), 0);
  EXPECT_EQ(Stored().smart_hosts_size(), 0);
}

TEST_F(TransportCmdletsTest, SetSendConnectorWhatIfAndErrors) {
  Outcome o =
      Run("Set-SendConnector -SmartHosts relay.example.net:587,'[2001:db8::1]' "
          "-RequireTLS $true -WhatIf");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "What if: Performing the operation \"Set-SendConnector\" on target \"Outbound to "
            "smart hosts\" with the changes: SmartHosts={relay.example.net:587, "
            "[2001:db8::1]:25}, RequireTLS=True\n");
  EXPECT_EQ(Sent(), 0u);

  for (const char* bad :
       {"'relay example'", "relay.example.net:", "relay.example.net:0", "relay.example.net:70000",
        "'[2001:db8::1'", "user@relay.example.net", "'[::1]x'"}) {
    EXPECT_NE(Refused(std::string("Set-SendConnector -SmartHosts ") + bad)
                  .find("Cannot process argument transformation on parameter 'SmartHosts'"),
              std::string::npos)
        << bad;
  }
  EXPECT_EQ(Refused("Set-SendConnector -SmartHosts a.example.net,A.example.net"),
            "Set-SendConnector: The smart host 'A.example.net:25' is given more than once in "
            "SmartHosts.\n");
  EXPECT_EQ(Refused("Set-SendConnector -Port 587"),
            "Set-SendConnector: There are no smart hosts for -Port or -RequireTLS to apply to; "
            "give them with -SmartHosts.\n");
  EXPECT_NE(Refused("Set-SendConnector -SmartHosts a.example.net -Port 0")
                .find("less than the minimum allowed range of 1"),
            std::string::npos);
  EXPECT_EQ(Refused("Set-SendConnector Internet -SmartHosts a.example.net"),
            "Set-SendConnector: The operation couldn't be performed because object 'Internet' "
            "couldn't be found.\n");
  EXPECT_EQ(Refused("Set-SendConnector -SmartHosts @{Remove='a.example.net'}"),
            "Set-SendConnector: The smart host 'a.example.net' isn't in SmartHosts, so it can't "
            "be removed.\n");
  o = Run("Set-SendConnector");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err,
            "WARNING: The command completed successfully but no settings of 'Outbound to smart "
            "hosts' have been modified.\n");
  EXPECT_EQ(Sent(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Get-/Set-TransportService and Get-/Set-TransportConfig

TEST_F(TransportCmdletsTest, TransportService) {
  Outcome o = Run("Get-TransportService");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name                     : mbx01\n"
            "Identity                 : mbx01\n"
            "MessageExpirationTimeout : 2.00:00:00\n"
            "\n");
  struct Case {
    const char* written;
    uint32_t seconds;
  };
  for (const Case& c :
       {Case{"2.00:00:00", 172800}, Case{"1.00:00:00", 86400}, Case{"00:30:00", 1800},
        Case{"'90.00:00:00'", 90 * 86400}, Case{"00:01:00", 60}}) {
    Clear();
    o = Run(std::string("Set-TransportService mbx01 -MessageExpirationTimeout ") + c.written);
    EXPECT_TRUE(o.ok) << c.written << ": " << o.err;
    const UpdateTransportSettingsRequest r = OnlyTransportUpdate();
    EXPECT_EQ(Fields(r), std::vector<std::string>{"message_expiration_seconds"});
    EXPECT_EQ(r.settings().message_expiration_seconds(), c.seconds) << c.written;
  }
  o = Run("Get-TransportService | fl MessageExpirationTimeout");
  EXPECT_EQ(o.out, "\nMessageExpirationTimeout : 00:01:00\n\n");

  Clear();
  o = Run("Set-TransportService -MessageExpirationTimeout 3.00:00:00 -WhatIf");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "What if: Performing the operation \"Set-TransportService\" on target \"mbx01\" with "
            "the changes: MessageExpirationTimeout=3.00:00:00\n");
  EXPECT_EQ(Sent(), 0u);
  EXPECT_NE(Refused("Set-TransportService -MessageExpirationTimeout 2days")
                .find("Cannot convert value \"2days\""),
            std::string::npos);
  EXPECT_EQ(Refused("Set-TransportService -MessageExpirationTimeout 00:00:30"),
            "Set-TransportService: MessageExpirationTimeout must be between 00:01:00 and "
            "90.00:00:00.\n");
  EXPECT_NE(
      Refused("Set-TransportService -MessageExpirationTimeout 91.00:00:00").find("must be between"),
      std::string::npos);
  o = Run("Set-TransportService");
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.err,
            "WARNING: The command completed successfully but no settings of 'mbx01' have been "
            "modified.\n");
}

TEST_F(TransportCmdletsTest, TransportConfig) {
  Outcome o = Run("Get-TransportConfig");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Identity                         : Transport Settings\n"
            "ExternalPostmasterAddress        :\n"
            "SmtpClientAuthenticationDisabled : False\n"
            "\n");
  o =
      Run("Set-TransportConfig -ExternalPostmasterAddress postmaster@example.test "
          "-SmtpClientAuthenticationDisabled $true");
  EXPECT_TRUE(o.ok) << o.err;
  UpdateTransportSettingsRequest r = OnlyTransportUpdate();
  EXPECT_EQ(Fields(r), (std::vector<std::string>{"smtp_client_authentication_disabled",
                                                 "postmaster_address"}));
  EXPECT_TRUE(r.settings().smtp_client_authentication_disabled());
  EXPECT_EQ(r.settings().postmaster_address(), "postmaster@example.test");
  o = Run("Get-TransportConfig | fl ExternalPostmasterAddress,SmtpClientAuthenticationDisabled");
  EXPECT_EQ(o.out,
            "\n"
            "ExternalPostmasterAddress        : postmaster@example.test\n"
            "SmtpClientAuthenticationDisabled : True\n"
            "\n");

  // -PostmasterAddress is an alias; $null goes back to postmaster@<default domain>.
  Clear();
  o = Run("Set-TransportConfig -PostmasterAddress $null");
  EXPECT_TRUE(o.ok) << o.err;
  r = OnlyTransportUpdate();
  EXPECT_EQ(Fields(r), std::vector<std::string>{"postmaster_address"});
  EXPECT_EQ(Stored().postmaster_address(), "");

  Clear();
  o = Run("Set-TransportConfig -SmtpClientAuthenticationDisabled $false -WhatIf");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "What if: Performing the operation \"Set-TransportConfig\" on target \"Transport "
            "Settings\" with the changes: SmtpClientAuthenticationDisabled=False\n");
  EXPECT_EQ(Sent(), 0u);
  EXPECT_EQ(Refused("Set-TransportConfig -ExternalPostmasterAddress postmaster"),
            "Set-TransportConfig: 'postmaster' is not a valid SMTP address.\n");
  EXPECT_NE(Refused("Set-TransportConfig -SmtpClientAuthenticationDisabled $null")
                .find("The argument is null"),
            std::string::npos);
}

}  // namespace
}  // namespace adminctl
