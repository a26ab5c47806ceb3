// Get-PopSettings, Set-PopSettings, Get-ImapSettings and Set-ImapSettings end to end through
// the runner, against the in-process fake mail.v1.Settings server (fake_settings.h): the
// update requests sent (field names and values), the printed views, -WhatIf, the
// PlainTextLogin warning, values refused before anything is sent, and server errors.
#include <gtest/gtest.h>

#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "adminctl/app.h"
#include "adminctl/cmdlet.h"
#include "control.grpc.pb.h"
#include "tests/adminctl/fake_settings.h"

namespace adminctl {
namespace {

using mail::v1::ProtocolSettings;
using mail::v1::UpdateProtocolSettingsRequest;
using test::Outcome;

std::vector<std::string> Fields(const UpdateProtocolSettingsRequest& r) {
  return std::vector<std::string>(r.fields().begin(), r.fields().end());
}

template <typename T>
std::vector<std::string> Strings(const T& repeated) {
  return std::vector<std::string>(repeated.begin(), repeated.end());
}

class ProtocolSettingsCmdletsTest : public test::SettingsCmdletsTest {
 protected:
  ProtocolSettings StoredPop() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.settings.pop3();
  }
  ProtocolSettings StoredImap() {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.settings.imap4();
  }

  // Runs `line`, which must fail before sending anything, and returns its error text.
  std::string Refused(const std::string& line) {
    Outcome o = Run(line);
    EXPECT_FALSE(o.ok) << line;
    EXPECT_EQ(o.out, "") << line;
    EXPECT_EQ(UpdateCount(), 0u) << line;
    return o.err;
  }
};

// ---------------------------------------------------------------------------------------------
// Get-PopSettings / Get-ImapSettings

TEST_F(ProtocolSettingsCmdletsTest, GetDefaultViewIsExchangesSummary) {
  Outcome o = Run("Get-PopSettings");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "UnencryptedOrTLSBindings : {[::]:110, 0.0.0.0:110}\n"
            "SSLBindings              : {[::]:995, 0.0.0.0:995}\n"
            "LoginType                : SecureLogin\n"
            "X509CertificateName      :\n"
            "\n");
  EXPECT_EQ(fake_.gets, 1);
  EXPECT_EQ(UpdateCount(), 0u);
}

TEST_F(ProtocolSettingsCmdletsTest, PopFormatListShowsEveryProperty) {
  Outcome o = Run("Get-PopSettings | Format-List");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "LoginType                         : SecureLogin\n"
            "UnencryptedOrTLSBindings          : {[::]:110, 0.0.0.0:110}\n"
            "SSLBindings                       : {[::]:995, 0.0.0.0:995}\n"
            "X509CertificateName               :\n"
            "InternalConnectionSettings        : {mail.example.test:995:SSL, "
            "mail.example.test:110:TLS}\n"
            "ExternalConnectionSettings        : {}\n"
            "Banner                            : The POP3 service is ready.\n"
            "MaxConnections                    : 2147483647\n"
            "MaxConnectionFromSingleIP         : 2147483647\n"
            "MaxConnectionsPerUser             : 16\n"
            "MaxCommandSize                    : 512\n"
            "PreAuthenticatedConnectionTimeout : 00:01:00\n"
            "AuthenticatedConnectionTimeout    : 00:30:00\n"
            "MessageRetrievalSortOrder         : Ascending\n"
            "ProtocolLogEnabled                : False\n"
            "LogFileLocation                   : /var/log/casmail/POP3\n"
            "SettingsVersion                   : 7\n"
            "NodeSettingsVersions              :\n"
            "\n");
}

TEST_F(ProtocolSettingsCmdletsTest, ImapFormatListHasMaxMessageSizeAndNoSortOrder) {
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.settings.mutable_imap4()->set_login_type(mail::v1::LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION);
    fake_.settings.mutable_imap4()->set_x509_certificate_name("mail.example.test");
    fake_.settings.mutable_imap4()->set_authenticated_connection_timeout_seconds(86400 + 3723);
    fake_.settings.mutable_imap4()->set_protocol_log_enabled(true);
  }
  Outcome o = Run("Get-ImapSettings -Server mbx02 | fl");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "LoginType                         : PlainTextAuthentication\n"
            "UnencryptedOrTLSBindings          : {[::]:143, 0.0.0.0:143}\n"
            "SSLBindings                       : {[::]:993, 0.0.0.0:993}\n"
            "X509CertificateName               : mail.example.test\n"
            "InternalConnectionSettings        : {mail.example.test:993:SSL, "
            "mail.example.test:143:TLS}\n"
            "ExternalConnectionSettings        : {}\n"
            "Banner                            : The IMAP4 service is ready.\n"
            "MaxConnections                    : 2147483647\n"
            "MaxConnectionFromSingleIP         : 2147483647\n"
            "MaxConnectionsPerUser             : 16\n"
            "MaxCommandSize                    : 10240\n"
            "PreAuthenticatedConnectionTimeout : 00:01:00\n"
            "AuthenticatedConnectionTimeout    : 1.01:02:03\n"
            "ProtocolLogEnabled                : True\n"
            "LogFileLocation                   : /var/log/casmail/IMAP4\n"
            "MaxMessageSize                    : 36 MB (37,748,736 bytes)\n"
            "SettingsVersion                   : 7\n"
            "NodeSettingsVersions              :\n"
            "\n");
  o = Run("Get-ImapSettings | fl *ConnectionSettings,*Bindings,X509CertificateName");
  EXPECT_EQ(o.out,
            "\n"
            "InternalConnectionSettings : {mail.example.test:993:SSL, mail.example.test:143:TLS}\n"
            "ExternalConnectionSettings : {}\n"
            "UnencryptedOrTLSBindings   : {[::]:143, 0.0.0.0:143}\n"
            "SSLBindings                : {[::]:993, 0.0.0.0:993}\n"
            "X509CertificateName        : mail.example.test\n"
            "\n");
}

TEST_F(ProtocolSettingsCmdletsTest, UnknownLoginTypeFromTheStoreShowsAsNumber) {
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.settings.mutable_pop3()->set_login_type(static_cast<mail::v1::LoginType>(9));
  }
  Outcome o = Run("Get-PopSettings | fl LoginType");
  EXPECT_EQ(o.out, "\nLoginType : 9\n\n");
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.settings.mutable_pop3()->set_login_type(static_cast<mail::v1::LoginType>(0));
  }
  o = Run("Get-PopSettings | fl LoginType");
  EXPECT_EQ(o.out, "\nLoginType : SecureLogin\n\n");  // 0: not set, or SecureLogin.
}

// ---------------------------------------------------------------------------------------------
// Set-PopSettings / Set-ImapSettings: what is sent

TEST_F(ProtocolSettingsCmdletsTest, SetSendsOnlyTheGivenFields) {
  Outcome o =
      Run("Set-PopSettings -MaxConnectionsPerUser 20 -Banner 'Hello there' -LoginType "
          "PlainTextAuthentication");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "");
  const UpdateProtocolSettingsRequest r = OnlyUpdate();
  EXPECT_EQ(r.protocol(), mail::v1::SETTINGS_PROTOCOL_POP3);
  // In the proto's order, whatever the order on the command line.
  EXPECT_EQ(Fields(r),
            (std::vector<std::string>{"login_type", "banner", "max_connections_per_user"}));
  EXPECT_EQ(r.settings().login_type(), mail::v1::LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION);
  EXPECT_EQ(r.settings().banner(), "Hello there");
  EXPECT_EQ(r.settings().max_connections_per_user(), 20u);

  const ProtocolSettings stored = StoredPop();
  EXPECT_EQ(stored.max_connections_per_user(), 20u);
  EXPECT_EQ(stored.max_command_size(), 512u);  // Untouched.
  EXPECT_EQ(StoredImap().max_connections_per_user(), 16u);
  o = Run("Get-PopSettings | fl LoginType,Banner,SettingsVersion");
  EXPECT_EQ(o.out,
            "\n"
            "LoginType       : PlainTextAuthentication\n"
            "Banner          : Hello there\n"
            "SettingsVersion : 8\n"
            "\n");
}

TEST_F(ProtocolSettingsCmdletsTest, SetEveryPopField) {
  Outcome o =
      Run("Set-PopSettings -Server mbx01 -LoginType 3 -UnencryptedOrTLSBindings "
          "'[::]:1110','0.0.0.0:1110' "
          "-SSLBindings 0.0.0.0:1995 -X509CertificateName mail.example.test "
          "-InternalConnectionSettings mail.example.test:1995:SSL "
          "-ExternalConnectionSettings pop.example.test:995:SSL,pop.example.test:110:TLS "
          "-Banner Hi -MaxConnections 1000 -MaxConnectionFromSingleIP 50 -MaxConnectionsPerUser 4 "
          "-MaxCommandSize 1024 -PreAuthenticatedConnectionTimeout 00:00:30 "
          "-AuthenticatedConnectionTimeout 1:00:00 -MessageRetrievalSortOrder Descending "
          "-ProtocolLogEnabled:$true -LogFileLocation /srv/log/pop");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "");
  const UpdateProtocolSettingsRequest r = OnlyUpdate();
  EXPECT_EQ(Fields(r), (std::vector<std::string>{
                           "login_type",
                           "unencrypted_or_tls_bindings",
                           "ssl_bindings",
                           "x509_certificate_name",
                           "internal_connection_settings",
                           "external_connection_settings",
                           "banner",
                           "max_connections",
                           "max_connection_from_single_ip",
                           "max_connections_per_user",
                           "max_command_size",
                           "pre_authenticated_connection_timeout_seconds",
                           "authenticated_connection_timeout_seconds",
                           "message_retrieval_sort_order",
                           "protocol_log_enabled",
                           "log_file_location",
                       }));
  const ProtocolSettings& s = r.settings();
  EXPECT_EQ(s.login_type(), mail::v1::LOGIN_TYPE_SECURE_LOGIN);
  EXPECT_EQ(Strings(s.unencrypted_or_tls_bindings()),
            (std::vector<std::string>{"[::]:1110", "0.0.0.0:1110"}));
  EXPECT_EQ(Strings(s.ssl_bindings()), std::vector<std::string>{"0.0.0.0:1995"});
  EXPECT_EQ(s.x509_certificate_name(), "mail.example.test");
  EXPECT_EQ(Strings(s.internal_connection_settings()),
            std::vector<std::string>{"mail.example.test:1995:SSL"});
  EXPECT_EQ(Strings(s.external_connection_settings()),
            (std::vector<std::string>{"pop.example.test:995:SSL", "pop.example.test:110:TLS"}));
  EXPECT_EQ(s.banner(), "Hi");
  EXPECT_EQ(s.max_connections(), 1000u);
  EXPECT_EQ(s.max_connection_from_single_ip(), 50u);
  EXPECT_EQ(s.max_connections_per_user(), 4u);
  EXPECT_EQ(s.max_command_size(), 1024u);
  EXPECT_EQ(s.pre_authenticated_connection_timeout_seconds(), 30u);
  EXPECT_EQ(s.authenticated_connection_timeout_seconds(), 3600u);
  EXPECT_EQ(s.message_retrieval_sort_order(), mail::v1::SORT_ORDER_DESCENDING);
  EXPECT_TRUE(s.protocol_log_enabled());
  EXPECT_EQ(s.log_file_location(), "/srv/log/pop");
}

TEST_F(ProtocolSettingsCmdletsTest, SetImapSendsImapProtocolAndSizes) {
  Outcome o = Run("Set-ImapSettings -MaxMessageSize 50MB -MaxCommandSize 16384");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  const UpdateProtocolSettingsRequest r = OnlyUpdate();
  EXPECT_EQ(r.protocol(), mail::v1::SETTINGS_PROTOCOL_IMAP4);
  EXPECT_EQ(Fields(r), (std::vector<std::string>{"max_command_size", "max_message_size"}));
  EXPECT_EQ(r.settings().max_message_size(), 50ull << 20);
  EXPECT_EQ(StoredImap().max_message_size(), 50ull << 20);
  EXPECT_EQ(StoredPop().max_command_size(), 512u);
  o = Run("Get-ImapSettings | fl MaxMessageSize");
  EXPECT_EQ(o.out, "\nMaxMessageSize : 50 MB (52,428,800 bytes)\n\n");
}

TEST_F(ProtocolSettingsCmdletsTest, LoginTypeByNameOrExchangeNumber) {
  struct Case {
    const char* written;
    mail::v1::LoginType sent;
  };
  for (const Case& c :
       {Case{"1", mail::v1::LOGIN_TYPE_PLAIN_TEXT_LOGIN},
        Case{"2", mail::v1::LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION},
        Case{"3", mail::v1::LOGIN_TYPE_SECURE_LOGIN},
        Case{"securelogin", mail::v1::LOGIN_TYPE_SECURE_LOGIN},
        Case{"PlainTextLogin", mail::v1::LOGIN_TYPE_PLAIN_TEXT_LOGIN},
        Case{"'PlainTextAuthentication'", mail::v1::LOGIN_TYPE_PLAIN_TEXT_AUTHENTICATION}}) {
    ClearUpdates();
    Outcome o = Run(std::string("Set-ImapSettings -LoginType ") + c.written);
    EXPECT_TRUE(o.ok) << c.written << ": " << o.err;
    const UpdateProtocolSettingsRequest r = OnlyUpdate();
    EXPECT_EQ(Fields(r), std::vector<std::string>{"login_type"});
    EXPECT_EQ(r.settings().login_type(), c.sent) << c.written;
  }
}

TEST_F(ProtocolSettingsCmdletsTest, BooleansInEveryForm) {
  struct Case {
    const char* written;
    bool sent;
  };
  for (const Case& c :
       {Case{" $true", true}, Case{" $false", false}, Case{":$true", true}, Case{":$false", false},
        Case{" 1", true}, Case{" 0", false}, Case{" true", true}, Case{" False", false}}) {
    ClearUpdates();
    Outcome o = Run(std::string("Set-PopSettings -ProtocolLogEnabled") + c.written);
    EXPECT_TRUE(o.ok) << c.written << ": " << o.err;
    const UpdateProtocolSettingsRequest r = OnlyUpdate();
    EXPECT_EQ(Fields(r), std::vector<std::string>{"protocol_log_enabled"});
    EXPECT_EQ(r.settings().protocol_log_enabled(), c.sent) << c.written;
    EXPECT_EQ(StoredPop().protocol_log_enabled(), c.sent) << c.written;
  }
}

TEST_F(ProtocolSettingsCmdletsTest, TimeSpans) {
  struct Case {
    const char* written;
    uint32_t seconds;
  };
  for (const Case& c :
       {Case{"00:00:30", 30}, Case{"00:30:00", 1800}, Case{"1:00:00", 3600}, Case{"01:30", 5400},
        Case{"1.00:00:00", 86400}, Case{"2.03:04:05", 2 * 86400 + 3 * 3600 + 4 * 60 + 5},
        Case{"'0.00:01:00'", 60}}) {
    ClearUpdates();
    Outcome o = Run(std::string("Set-PopSettings -AuthenticatedConnectionTimeout ") + c.written);
    EXPECT_TRUE(o.ok) << c.written << ": " << o.err;
    const UpdateProtocolSettingsRequest r = OnlyUpdate();
    EXPECT_EQ(Fields(r), std::vector<std::string>{"authenticated_connection_timeout_seconds"});
    EXPECT_EQ(r.settings().authenticated_connection_timeout_seconds(), c.seconds) << c.written;
  }
  Outcome o = Run("Get-PopSettings | fl AuthenticatedConnectionTimeout");
  EXPECT_EQ(o.out, "\nAuthenticatedConnectionTimeout : 00:01:00\n\n");
}

TEST_F(ProtocolSettingsCmdletsTest, SortOrderByNameOrNumber) {
  Outcome o = Run("Set-PopSettings -MessageRetrievalSortOrder 1");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(OnlyUpdate().settings().message_retrieval_sort_order(),
            mail::v1::SORT_ORDER_DESCENDING);
  o = Run("Get-PopSettings | fl MessageRetrievalSortOrder");
  EXPECT_EQ(o.out, "\nMessageRetrievalSortOrder : Descending\n\n");
}

TEST_F(ProtocolSettingsCmdletsTest, NullClearsListsAndStrings) {
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    fake_.settings.mutable_pop3()->add_external_connection_settings("pop.example.test:995:SSL");
    fake_.settings.mutable_pop3()->set_x509_certificate_name("mail.example.test");
  }
  Outcome o = Run("Set-PopSettings -ExternalConnectionSettings $null -X509CertificateName $null");
  EXPECT_TRUE(o.ok) << o.err;
  const UpdateProtocolSettingsRequest r = OnlyUpdate();
  EXPECT_EQ(Fields(r),
            (std::vector<std::string>{"x509_certificate_name", "external_connection_settings"}));
  EXPECT_TRUE(StoredPop().external_connection_settings().empty());
  EXPECT_EQ(StoredPop().x509_certificate_name(), "");
}

TEST_F(ProtocolSettingsCmdletsTest, ServerIsAcceptedAndIgnored) {
  Outcome o = Run("Set-ImapSettings -Server mbx01.example.test -MaxConnectionsPerUser 32");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(Fields(OnlyUpdate()), std::vector<std::string>{"max_connections_per_user"});
}

TEST_F(ProtocolSettingsCmdletsTest, NothingToChangeWarnsAndSendsNothing) {
  Outcome o = Run("Set-PopSettings -Server mbx01");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "WARNING: The command completed successfully but no settings of 'POP3' have been "
            "modified.\n");
  EXPECT_EQ(UpdateCount(), 0u);
}

// ---------------------------------------------------------------------------------------------
// -WhatIf and the PlainTextLogin warning

TEST_F(ProtocolSettingsCmdletsTest, WhatIfPrintsTheChangesAndSendsNothing) {
  Outcome o = Run("Set-PopSettings -LoginType 3 -WhatIf");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "What if: Performing the operation \"Set-PopSettings\" with the changes: "
            "LoginType=SecureLogin\n");
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(UpdateCount(), 0u);

  o =
      Run("Set-ImapSettings -WhatIf -LoginType PlainTextLogin -SSLBindings 0.0.0.0:993 "
          "-PreAuthenticatedConnectionTimeout 00:02:00 -MaxMessageSize 10MB");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "What if: Performing the operation \"Set-ImapSettings\" with the changes: "
            "LoginType=PlainTextLogin, SSLBindings={0.0.0.0:993}, "
            "PreAuthenticatedConnectionTimeout=00:02:00, "
            "MaxMessageSize=10 MB (10,485,760 bytes)\n");
  EXPECT_EQ(o.err, "");  // Nothing changed, so no warning either.
  EXPECT_EQ(UpdateCount(), 0u);

  o = Run("Set-PopSettings -Banner x -WhatIf:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(UpdateCount(), 1u);
}

TEST_F(ProtocolSettingsCmdletsTest, PlainTextLoginWarns) {
  const std::string warning =
      "WARNING: With LoginType PlainTextLogin, passwords can cross the network in clear text on "
      "port 110 (143 for IMAP) before STLS/STARTTLS.\n";
  Outcome o = Run("Set-PopSettings -LoginType PlainTextLogin");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, warning);
  EXPECT_EQ(StoredPop().login_type(), mail::v1::LOGIN_TYPE_PLAIN_TEXT_LOGIN);

  o = Run("Set-ImapSettings -LoginType 1");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, warning);
  EXPECT_EQ(StoredImap().login_type(), mail::v1::LOGIN_TYPE_PLAIN_TEXT_LOGIN);

  // Other login types, and other changes while PlainTextLogin is in force, say nothing.
  o = Run("Set-ImapSettings -LoginType PlainTextAuthentication");
  EXPECT_EQ(o.err, "");
  o = Run("Set-PopSettings -Banner Hello");
  EXPECT_EQ(o.err, "");
}

TEST_F(ProtocolSettingsCmdletsTest, NoWarningWhenTheServerRefuses) {
  Outcome o = Run("Set-PopSettings -LoginType PlainTextLogin -MaxCommandSize 8");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Set-PopSettings: MaxCommandSize must be between 40 and 1024 bytes.\n");
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST_F(ProtocolSettingsCmdletsTest, BadValuesAreRefusedBeforeSending) {
  EXPECT_EQ(Refused("Set-PopSettings -LoginType Foo"),
            "Set-PopSettings: Cannot bind parameter 'LoginType'. Cannot convert value \"Foo\" to "
            "type \"Microsoft.Exchange.Data.Directory.SystemConfiguration.LoginOptions\". Error: "
            "\"Unable to match the identifier name Foo to a valid enumerator name. Specify one "
            "of the following enumerator names and try again: PlainTextLogin, "
            "PlainTextAuthentication, SecureLogin (or 1, 2, 3).\"\n");
  EXPECT_NE(Refused("Set-ImapSettings -LoginType 0").find("identifier name 0 "), std::string::npos);
  EXPECT_NE(Refused("Set-ImapSettings -LoginType 4").find("identifier name 4 "), std::string::npos);
  EXPECT_EQ(Refused("Set-PopSettings -PreAuthenticatedConnectionTimeout soon"),
            "Set-PopSettings: Cannot process argument transformation on parameter "
            "'PreAuthenticatedConnectionTimeout'. Cannot convert value \"soon\" to type "
            "\"Microsoft.Exchange.Data.EnhancedTimeSpan\". Error: \"Give a time span as "
            "hh:mm:ss or d.hh:mm:ss, for example 00:01:00.\"\n");
  for (const char* garbage : {"30", "24:00:00", "00:60:00", "00:00:60", "1:2:3:4", "-00:01:00",
                              "00:01:00.5", "x.00:01:00", "00::00", "00:01:", "1.2.00:00:00"}) {
    EXPECT_NE(
        Refused(std::string("Set-ImapSettings -AuthenticatedConnectionTimeout '") + garbage + "'")
            .find("Cannot convert value \"" + std::string(garbage) + "\""),
        std::string::npos)
        << garbage;
  }
  EXPECT_EQ(Refused("Set-PopSettings -MaxConnections 0"),
            "Set-PopSettings: Cannot validate argument on parameter 'MaxConnections'. The 0 "
            "argument is less than the minimum allowed range of 1. Supply an argument that is "
            "greater than or equal to 1 and then try the command again.\n");
  EXPECT_NE(Refused("Set-PopSettings -MaxConnectionsPerUser many").find("System.Int32"),
            std::string::npos);
  EXPECT_NE(Refused("Set-PopSettings -ProtocolLogEnabled maybe").find("Boolean parameters"),
            std::string::npos);
  EXPECT_NE(Refused("Set-PopSettings -ProtocolLogEnabled $null").find("The argument is null"),
            std::string::npos);
  EXPECT_NE(Refused("Set-PopSettings -LoginType $null").find("The argument is null"),
            std::string::npos);
  EXPECT_NE(Refused("Set-PopSettings -MessageRetrievalSortOrder Random")
                .find("Unable to match the identifier name Random"),
            std::string::npos);
  EXPECT_NE(Refused("Set-ImapSettings -MaxMessageSize lots").find("ByteQuantifiedSize"),
            std::string::npos);
  EXPECT_NE(Refused("Set-ImapSettings -MaxMessageSize unlimited").find("Unlimited is not allowed"),
            std::string::npos);
  EXPECT_EQ(Refused("Set-PopSettings -SSLBindings @{Add='0.0.0.0:1995'}"),
            "Set-PopSettings: -SSLBindings takes the whole list, for example -SSLBindings a,b; "
            "@{Add=...; Remove=...} is not supported.\n");
  // Each protocol has its own parameters.
  EXPECT_NE(Refused("Set-ImapSettings -MessageRetrievalSortOrder Descending")
                .find("A parameter cannot be found that matches parameter name"),
            std::string::npos);
  EXPECT_NE(Refused("Set-PopSettings -MaxMessageSize 10MB")
                .find("A parameter cannot be found that matches parameter name"),
            std::string::npos);
  // A bad value anywhere stops the whole change, even after good ones.
  Refused("Set-PopSettings -Banner ok -MaxConnectionsPerUser 5 -AuthenticatedConnectionTimeout x");
}

TEST_F(ProtocolSettingsCmdletsTest, InvalidArgumentFromTheServerIsShownAndChangesNothing) {
  Outcome o = Run("Set-PopSettings -MaxCommandSize 2000 -Banner changed");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "Set-PopSettings: MaxCommandSize must be between 40 and 1024 bytes.\n");
  EXPECT_EQ(UpdateCount(), 1u);
  EXPECT_EQ(StoredPop().max_command_size(), 512u);
  EXPECT_EQ(StoredPop().banner(), "The POP3 service is ready.");
}

TEST_F(ProtocolSettingsCmdletsTest, ServerFailures) {
  fake_.fail_with = grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "");
  Outcome o = Run("Get-PopSettings");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Get-PopSettings: The mailbox store at " + endpoint_ +
                       " does not serve server settings (mail.v1.Settings); upgrade it.\n");
  fake_.fail_with = grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "admin only");
  o = Run("Set-ImapSettings -Banner x");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Set-ImapSettings: Access denied by the mailbox store at " + endpoint_ +
                       ": admin only\n");

  server_->Shutdown();
  o = Run("Get-ImapSettings");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err.rfind("Get-ImapSettings: Cannot connect to the mailbox store at " + endpoint_, 0),
            0u)
      << o.err;
}

TEST_F(ProtocolSettingsCmdletsTest, ExitCodes) {
  Options options;
  options.mode = Options::Mode::kLine;
  options.endpoint = endpoint_;
  std::ostringstream out, err;
  options.line = "Set-PopSettings -LoginType Foo";
  EXPECT_EQ(RunAdminctl(options, out, err, terminal_), kExitError);
  options.line = "Set-PopSettings -MaxCommandSize 10";
  EXPECT_EQ(RunAdminctl(options, out, err, terminal_), kExitError);
  EXPECT_EQ(UpdateCount(), 1u);
  options.line = "Set-PopSettings -MaxCommandSize 1000";
  std::ostringstream ok_out, ok_err;
  EXPECT_EQ(RunAdminctl(options, ok_out, ok_err, terminal_), kExitOk);
  EXPECT_EQ(ok_out.str(), "");
  EXPECT_EQ(ok_err.str(), "");
  EXPECT_EQ(StoredPop().max_command_size(), 1000u);
  options.line = "Get-PopSettings | fl MaxCommandSize";
  EXPECT_EQ(RunAdminctl(options, ok_out, ok_err, terminal_), kExitOk);
  EXPECT_EQ(ok_out.str(), "\nMaxCommandSize : 1000\n\n");
}

}  // namespace
}  // namespace adminctl
