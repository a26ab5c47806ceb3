// The mailbox-administration cmdlets added for the admin and client-setup issues, through the
// runner against in-process fakes of mail.v1.Directory, Settings and Control on one server:
// the OPATH -Filter (table-driven, bad input included), Enable-/Disable-Mailbox,
// Get-MailboxStatistics and Get-MailboxFolderStatistics, Get-CASMailbox -ProtocolSettings,
// Get-ClientAccessDnsRecords, and Get-PopSettings' NodeSettingsVersions.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "adminctl/opath_filter.h"
#include "tests/adminctl/fake_control.h"
#include "tests/adminctl/fake_directory.h"
#include "tests/adminctl/fake_settings.h"

namespace adminctl {
namespace {

using test::Outcome;

// ---------------------------------------------------------------------------------------------
// OpathFilter on its own.

Record Cas(const std::string& name, bool pop, bool imap, const std::string& size = "0 B (0 bytes)",
           const std::string& addresses = "{SMTP:a@example.test}") {
  Record r;
  r.Add("Name", name);
  r.Add("PopEnabled", FormatBool(pop));
  r.Add("ImapEnabled", FormatBool(imap));
  r.Add("TotalItemSize", size);
  r.Add("ItemCount", "12");
  r.Add("EmailAddresses", addresses);
  r.Add("DisplayName", "");
  return r;
}

const std::vector<std::string>& Names() {
  static const std::vector<std::string> names = {"Name",          "PopEnabled", "ImapEnabled",
                                                 "TotalItemSize", "ItemCount",  "EmailAddresses",
                                                 "DisplayName"};
  return names;
}

struct MatchCase {
  const char* filter;
  bool alice;  // Name alice, POP off, IMAP on, 1.5 MB, 12 items.
  bool bob;    // Name bob, POP on, IMAP on, 0 B.
};

TEST(OpathFilterTest, Evaluates) {
  const Record alice = Cas("alice", false, true, "1.5 MB (1,572,864 bytes)",
                           "{SMTP:alice@example.test, smtp:al@example.test}");
  const Record bob = Cas("bob", true, true);
  const MatchCase cases[] = {
      {"PopEnabled -eq $false", true, false},
      {"PopEnabled -eq $true", false, true},
      {"popenabled -EQ 'false'", true, false},
      {"PopEnabled -ne $false", false, true},
      {"Name -like 'a*'", true, false},
      {"Name -like \"*O*\"", false, true},
      {"Name -notlike a*", false, true},
      {"Name -eq ALICE", true, false},
      {"PopEnabled -eq $false -and ImapEnabled -eq $false", false, false},
      {"PopEnabled -eq $false -or Name -eq bob", true, true},
      {"-not (Name -eq bob)", true, false},
      {"-not Name -eq bob", true, false},
      {"(Name -eq alice -or Name -eq bob) -and PopEnabled -eq $true", false, true},
      // -and binds tighter than -or.
      {"Name -eq bob -or Name -eq alice -and PopEnabled -eq $true", false, true},
      {"TotalItemSize -gt 1MB", true, false},
      {"TotalItemSize -le 1048576", false, true},
      {"ItemCount -ge 12", true, true},
      {"ItemCount -lt 9", false, false},
      {"EmailAddresses -like '*al@*'", true, false},
      {"EmailAddresses -eq 'SMTP:alice@example.test'", true, false},
      {"DisplayName -eq $null", true, true},
      {"DisplayName -ne $null", false, false},
      {"Name -ne $null", true, true},
  };
  for (const MatchCase& c : cases) {
    OpathFilter f;
    std::string error;
    ASSERT_TRUE(f.Parse(c.filter, Names(), &error)) << c.filter << ": " << error;
    EXPECT_EQ(f.Matches(alice), c.alice) << c.filter;
    EXPECT_EQ(f.Matches(bob), c.bob) << c.filter;
  }
}

struct BadCase {
  const char* filter;
  const char* position;  // " at position N."
  const char* reason;    // A part of the message.
};

TEST(OpathFilterTest, BadFiltersNameThePosition) {
  const BadCase cases[] = {
      {"", "at position 1.", "Expected a comparison"},
      {"PopEnabled", "at position 11.", "Expected an operator"},
      {"PopEnabled -zz $true", "at position 12.", "found '-zz'"},
      {"PopEnabled -eq", "at position 15.", "Expected a value after 'PopEnabled -eq'"},
      {"PopEnabled -eq $maybe", "at position 16.", "Only $true, $false and $null"},
      {"PopEnabled -gt $null", "at position 16.", "$null can only be compared"},
      {"(PopEnabled -eq $true", "at position 22.", "Missing closing ')'"},
      {"PopEnabled -eq $true)", "at position 21.", "without a matching '('"},
      {"PopEnabled -eq $true Name", "at position 22.", "Expected -and, -or"},
      {"PopEnabled -eq 'open", "at position 16.", "missing the terminator"},
      {"PopEnabled -eq $true -and", "at position 26.", "Expected a comparison"},
      {"-eq $true", "at position 1.", "Expected a property name"},
      {"Bogus -eq 1", "at position 1.", "'Bogus' is not a recognized filterable property"},
  };
  for (const BadCase& c : cases) {
    OpathFilter f;
    std::string error;
    EXPECT_FALSE(f.Parse(c.filter, Names(), &error)) << c.filter;
    EXPECT_TRUE(error.starts_with("Cannot bind parameter 'Filter' to the target.")) << error;
    EXPECT_NE(error.find(c.position), std::string::npos) << c.filter << ": " << error;
    EXPECT_NE(error.find(c.reason), std::string::npos) << c.filter << ": " << error;
    EXPECT_NE(error.find("\"" + std::string(c.filter) + "\""), std::string::npos) << error;
    EXPECT_FALSE(f.Matches(Cas("x", true, true)));
  }
}

TEST(OpathFilterTest, LimitsLengthAndDepth) {
  std::string error;
  OpathFilter f;
  EXPECT_FALSE(f.Parse(std::string(OpathFilter::kMaxLength + 1, 'a'), Names(), &error));
  EXPECT_NE(error.find("longer than 4096"), std::string::npos) << error;
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "(";
  deep += "Name -eq a";
  for (int i = 0; i < 100; ++i) deep += ")";
  EXPECT_FALSE(f.Parse(deep, Names(), &error));
  EXPECT_NE(error.find("too deeply"), std::string::npos) << error;
  std::string nots;
  for (int i = 0; i < 100; ++i) nots += "-not ";
  EXPECT_FALSE(f.Parse(nots + "Name -eq a", Names(), &error));
}

// ---------------------------------------------------------------------------------------------
// The cmdlets, against one server with the three fakes.

class ClientAccessCmdletsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&directory_);
    builder.RegisterService(&settings_);
    builder.RegisterService(&control_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                   grpc::InsecureChannelCredentials());
    directory_stub_ = mail::v1::Directory::NewStub(channel_);
    settings_stub_ = mail::v1::Settings::NewStub(channel_);
    control_stub_ = mail::v1::Control::NewStub(channel_);
    context_.directory = directory_stub_.get();
    context_.settings = settings_stub_.get();
    context_.control = control_stub_.get();
    context_.endpoint = "127.0.0.1:" + std::to_string(port_);
    context_.server_name = "mbx01";
    context_.terminal = &terminal_;
    mail::v1::AcceptedDomain d;
    d.set_domain_name("example.test");
    d.set_is_default(true);
    directory_.domains.push_back(d);
    // cas01 and cas02 run casd with the standard ports; edge01 runs transportd with the two
    // client connectors.
    for (mail::v1::Node& node : control_.nodes) {
      if (node.name() == "cas01") node.set_host_name("mail.example.test");
      for (mail::v1::ServiceState& s : *node.mutable_states()) {
        if (s.service() == mail::v1::SERVICE_NAME_IMAP4) {
          s.add_endpoints("imap://0.0.0.0:143");
          s.add_endpoints("imaps://0.0.0.0:993");
        } else if (s.service() == mail::v1::SERVICE_NAME_POP3) {
          s.add_endpoints("pop3://0.0.0.0:110");
          s.add_endpoints("pop3s://0.0.0.0:995");
        } else {
          s.set_status(mail::v1::SERVICE_STATUS_RUNNING);
          s.add_endpoints("smtp://0.0.0.0:587 Client Frontend");
          s.add_endpoints("smtps://0.0.0.0:465 Client TLS");
          s.add_endpoints("smtp://0.0.0.0:25 Default Frontend");
        }
      }
    }
  }

  void TearDown() override { server_->Shutdown(); }

  Outcome Run(std::string_view line) { return test::RunCmdletLine(registry_, context_, line); }

  void SetStatus(const std::string& node, mail::v1::ServiceName service,
                 mail::v1::ServiceStatus status) {
    std::lock_guard<std::mutex> lock(control_.mu);
    control_.State(node, service)->set_status(status);
  }

  test::FakeDirectory directory_;
  test::FakeSettings settings_;
  test::FakeControl control_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<mail::v1::Directory::Stub> directory_stub_;
  std::unique_ptr<mail::v1::Settings::Stub> settings_stub_;
  std::unique_ptr<mail::v1::Control::Stub> control_stub_;
  test::FakeTerminal terminal_;
  CmdletContext context_;
  CmdletRegistry registry_ = DefaultRegistry();
};

TEST_F(ClientAccessCmdletsTest, FilterSelectsOnTheOutputProperties) {
  directory_.Add("alice");
  directory_.Add("bob");
  directory_.Add("carol");
  ASSERT_TRUE(Run("Set-CASMailbox bob -PopEnabled $false").ok);
  Outcome o = Run("Get-CASMailbox -Filter \"PopEnabled -eq $false\" | Format-Table Name");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "\nName\n----\nbob\n\n");
  o =
      Run("Get-CASMailbox -Filter 'PopEnabled -eq $true -and Name -notlike \"a*\"' | "
          "Format-Table Name");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "\nName\n----\ncarol\n\n");
  // ResultSize counts the matches.
  o =
      Run("Get-Mailbox -Filter \"PopEnabled -ne 'x' -or Name -like '*'\" -ResultSize 2 | "
          "Format-Table Name");
  EXPECT_FALSE(o.ok);  // PopEnabled is not a Get-Mailbox property.
  EXPECT_NE(o.err.find("'PopEnabled' is not a recognized filterable property"), std::string::npos)
      << o.err;
  o = Run("Get-Mailbox -Filter \"Name -like '*'\" -ResultSize 2 | Format-Table Name");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "\nName\n----\nalice\nbob\n\n");
  // Identity and -Filter together.
  o = Run("Get-Mailbox b* -Filter \"IsMailboxEnabled -eq $true\" | Format-Table Name");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "\nName\n----\nbob\n\n");
  // Nothing matches: no output, no error.
  o = Run("Get-Mailbox -Filter \"Name -eq nobody\"");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out + o.err, "");
  // A bad filter is a PowerShell-shaped error that names the position; exit status non-zero.
  o = Run("Get-CASMailbox -Filter \"PopEnabled -eq\"");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.err.find("Get-CASMailbox: Cannot bind parameter 'Filter'"), std::string::npos)
      << o.err;
  EXPECT_NE(o.err.find("\"PopEnabled -eq\" at position 15."), std::string::npos) << o.err;
}

TEST_F(ClientAccessCmdletsTest, DisableAndEnableMailbox) {
  directory_.Add("alice");
  // Disable-Mailbox asks; without a terminal it refuses and changes nothing.
  Outcome o = Run("Disable-Mailbox alice");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.err.find("Add -Confirm:$false"), std::string::npos) << o.err;
  o = Run("Disable-Mailbox alice -WhatIf");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "What if: Disabling mailbox \"alice\".\n");
  EXPECT_TRUE(directory_.updates.empty());

  o = Run("Disable-Mailbox alice -Confirm:$false");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  ASSERT_EQ(directory_.updates.size(), 1u);
  EXPECT_TRUE(directory_.updates[0].update().has_mailbox_disabled());
  EXPECT_TRUE(directory_.updates[0].update().mailbox_disabled());
  // Nothing else is touched.
  EXPECT_FALSE(directory_.updates[0].update().has_account_disabled());
  o = Run("Get-Mailbox alice | Format-List IsMailboxEnabled,AccountDisabled");
  EXPECT_EQ(o.out, "\nIsMailboxEnabled : False\nAccountDisabled  : False\n\n");
  o = Run("Get-Mailbox -Filter \"IsMailboxEnabled -eq $false\" | Format-Table Name");
  EXPECT_EQ(o.out, "\nName\n----\nalice\n\n");

  // Enable-Mailbox does not ask and shows the mailbox.
  o = Run("Enable-Mailbox alice -WhatIf");
  EXPECT_EQ(o.out, "What if: Enabling mailbox \"alice\".\n");
  EXPECT_EQ(directory_.updates.size(), 1u);
  o = Run("Enable-Mailbox alice");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_NE(o.out.find("alice"), std::string::npos) << o.out;
  ASSERT_EQ(directory_.updates.size(), 2u);
  EXPECT_FALSE(directory_.updates[1].update().mailbox_disabled());
  o = Run("Get-Mailbox alice | Format-List IsMailboxEnabled");
  EXPECT_EQ(o.out, "\nIsMailboxEnabled : True\n\n");

  // Unknown mailboxes are the usual error; pipelines work.
  o = Run("Disable-Mailbox nobody -Confirm:$false");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.err.find("couldn't be found"), std::string::npos) << o.err;
  directory_.Add("bob");
  o = Run("Get-Mailbox | Disable-Mailbox -Confirm:$false");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_TRUE(directory_.mailboxes["alice"].mailbox_disabled());
  EXPECT_TRUE(directory_.mailboxes["bob"].mailbox_disabled());
}

TEST_F(ClientAccessCmdletsTest, MailboxStatistics) {
  directory_.Add("alice", 2'000'000);
  {
    std::lock_guard<std::mutex> lock(directory_.mu);
    mail::v1::Mailbox& m = directory_.mailboxes["alice"];
    m.set_display_name("Alice Liddell");
    m.set_total_messages(7);
    m.set_total_size(1'234'567);
    m.set_last_logon_unix(test::kNow);
    auto folder = [](const char* name, const char* special, uint32_t messages, uint32_t deleted,
                     uint64_t size) {
      mail::v1::FolderStatistics f;
      f.set_name(name);
      f.set_special_use(special);
      f.set_messages(messages);
      f.set_unseen(1);
      f.set_deleted(deleted);
      f.set_size(size);
      f.set_created_unix(test::kCreated);
      return f;
    };
    directory_.folders["alice"] = {
        folder("INBOX", "", 4, 1, 1'000'000),
        folder("INBOX/Lists", "", 1, 0, 34'567),
        folder("Sent Items", "\\Sent", 2, 0, 200'000),
        folder("Deleted Items", "\\Trash", 0, 0, 0),
    };
  }
  Outcome o = Run("Get-MailboxStatistics alice");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "DisplayName   ItemCount StorageLimitStatus LastLogonTime\n"
            "-----------   --------- ------------------ -------------\n"
            "Alice Liddell 7         BelowLimit         1/1/2025 12:00:00 PM\n"
            "\n");
  // Piped from Get-Mailbox, as Exchange administrators write it.
  EXPECT_EQ(Run("Get-Mailbox | Get-MailboxStatistics").out, o.out);
  o = Run("Get-MailboxStatistics alice | Format-List TotalItemSize,DeletedItemCount,FolderCount");
  EXPECT_EQ(o.out,
            "\n"
            "TotalItemSize    : 1.177 MB (1,234,567 bytes)\n"
            "DeletedItemCount : 1\n"
            "FolderCount      : 4\n"
            "\n");
  o = Run("Get-MailboxFolderStatistics alice");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name          FolderPath     FolderType   ItemsInFolder FolderSize\n"
            "----          ----------     ----------   ------------- ----------\n"
            "Inbox         /Inbox         Inbox        4             976.563 KB (1,000,000 bytes)\n"
            "Lists         /Inbox/Lists   User Created 1             33.757 KB (34,567 bytes)\n"
            "Sent Items    /Sent Items    SentItems    2             195.313 KB (200,000 bytes)\n"
            "Deleted Items /Deleted Items DeletedItems 0             0 B (0 bytes)\n"
            "\n");
  o =
      Run("Get-MailboxFolderStatistics alice -FolderScope Inbox | Format-List "
          "Name,ItemsInFolderAndSubfolders,FolderAndSubfolderSize");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name                       : Inbox\n"
            "ItemsInFolderAndSubfolders : 5\n"
            "FolderAndSubfolderSize     : 1010.319 KB (1,034,567 bytes)\n"
            "\n"
            "Name                       : Lists\n"
            "ItemsInFolderAndSubfolders : 1\n"
            "FolderAndSubfolderSize     : 33.757 KB (34,567 bytes)\n"
            "\n");
  o = Run("Get-MailboxFolderStatistics alice -FolderScope Nonsense");
  EXPECT_FALSE(o.ok);
  o = Run("Get-MailboxStatistics nobody");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.err.find("couldn't be found"), std::string::npos) << o.err;
  // Over a quota.
  {
    std::lock_guard<std::mutex> lock(directory_.mu);
    directory_.mailboxes["alice"].set_total_size(3'000'000);
  }
  o = Run("Get-MailboxStatistics alice | Format-List StorageLimitStatus");
  EXPECT_EQ(o.out, "\nStorageLimitStatus : ProhibitSend\n\n");
}

TEST_F(ClientAccessCmdletsTest, ProtocolSettingsTable) {
  directory_.Add("alice");
  Outcome o = Run("Get-CASMailbox alice -ProtocolSettings");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "Name  Protocol Server            Port Encryption UserName\n"
            "----  -------- ------            ---- ---------- --------\n"
            "alice IMAP4    mail.example.test 993  SSL/TLS    alice@example.test\n"
            "alice IMAP4    mail.example.test 143  STARTTLS   alice@example.test\n"
            "alice POP3     mail.example.test 995  SSL/TLS    alice@example.test\n"
            "alice POP3     mail.example.test 110  STARTTLS   alice@example.test\n"
            "alice SMTP     mail.example.test 465  SSL/TLS    alice@example.test\n"
            "alice SMTP     mail.example.test 587  STARTTLS   alice@example.test\n"
            "\n");
  // Exchange's properties, for scripts written against it.
  o =
      Run("Get-CASMailbox alice -ProtocolSettings | Format-List "
          "ExternalImapSettings,ExternalSmtpSettings");
  EXPECT_NE(o.out.find("ExternalImapSettings : {mail.example.test:993:SSL, "
                       "mail.example.test:143:TLS}"),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("ExternalSmtpSettings : {mail.example.test:465:SSL, "
                       "mail.example.test:587:TLS}"),
            std::string::npos)
      << o.out;

  // POP3 off for the mailbox, IMAP4 stopped on every node: only SMTP is left.
  ASSERT_TRUE(Run("Set-CASMailbox alice -PopEnabled $false").ok);
  SetStatus("cas01", mail::v1::SERVICE_NAME_IMAP4, mail::v1::SERVICE_STATUS_STOPPED);
  SetStatus("cas02", mail::v1::SERVICE_NAME_IMAP4, mail::v1::SERVICE_STATUS_UNREACHABLE);
  o =
      Run("Get-CASMailbox alice -ProtocolSettings | ConvertTo-Json Protocol,Port,Encryption "
          "-Compress");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "[{\"Protocol\":\"SMTP\",\"Port\":\"465\",\"Encryption\":\"SSL/TLS\"},"
            "{\"Protocol\":\"SMTP\",\"Port\":\"587\",\"Encryption\":\"STARTTLS\"}]\n");

  // A disabled mailbox gets nothing, with a warning.
  ASSERT_TRUE(Run("Disable-Mailbox alice -Confirm:$false").ok);
  o = Run("Get-CASMailbox alice -ProtocolSettings");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_NE(o.err.find("WARNING: No mail client can be set up for 'alice' now: the mailbox is "
                       "disabled."),
            std::string::npos)
      << o.err;
}

TEST_F(ClientAccessCmdletsTest, DnsRecordsAsZoneFileLines) {
  // POP3 stopped everywhere: its SRV records say "not offered".
  SetStatus("cas01", mail::v1::SERVICE_NAME_POP3, mail::v1::SERVICE_STATUS_STOPPED);
  Outcome o = Run("Get-ClientAccessDnsRecords");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name                            TTL  Class Type  Data\n"
            "----                            ---  ----- ----  ----\n"
            "example.test.                   3600 IN    MX    10 mail.example.test.\n"
            "_imaps._tcp.example.test.       3600 IN    SRV   0 1 993 mail.example.test.\n"
            "_imap._tcp.example.test.        3600 IN    SRV   10 1 143 mail.example.test.\n"
            "_pop3s._tcp.example.test.       3600 IN    SRV   0 0 0 .\n"
            "_pop3._tcp.example.test.        3600 IN    SRV   0 0 0 .\n"
            "_submissions._tcp.example.test. 3600 IN    SRV   0 1 465 mail.example.test.\n"
            "_submission._tcp.example.test.  3600 IN    SRV   10 1 587 mail.example.test.\n"
            "autoconfig.example.test.        3600 IN    CNAME mail.example.test.\n"
            "autodiscover.example.test.      3600 IN    CNAME mail.example.test.\n"
            "\n");
  // The alias, a domain filter and JSON.
  o = Run("Get-MailDnsRecords example.test | ConvertTo-Json Name,Type,Data,Offered -Compress");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_NE(o.out.find("{\"Name\":\"_pop3s._tcp.example.test.\",\"Type\":\"SRV\",\"Data\":"
                       "\"0 0 0 .\",\"Offered\":\"False\"}"),
            std::string::npos)
      << o.out;
  o = Run("Get-ClientAccessDnsRecords other.test");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.err.find("accepted domain 'other.test' couldn't be found"), std::string::npos)
      << o.err;
  // No casd node: nothing to point the records at.
  {
    std::lock_guard<std::mutex> lock(control_.mu);
    control_.nodes.clear();
  }
  o = Run("Get-ClientAccessDnsRecords");
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.err.find("No casd node has registered"), std::string::npos) << o.err;
}

TEST_F(ClientAccessCmdletsTest, PopSettingsShowEachNodesVersion) {
  // The fake settings are at version 7; cas01 reports 7, cas02 6.
  {
    std::lock_guard<std::mutex> lock(control_.mu);
    control_.State("cas01", mail::v1::SERVICE_NAME_POP3)->set_settings_version(7);
    control_.State("cas02", mail::v1::SERVICE_NAME_POP3)->set_settings_version(6);
  }
  Outcome o = Run("Get-PopSettings | Format-List SettingsVersion,NodeSettingsVersions");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "SettingsVersion      : 7\n"
            "NodeSettingsVersions : {cas02: 6 (applying), cas01: 7}\n"
            "\n");
  o = Run("Get-PopSettings -Server cas02 | Format-List NodeSettingsVersions");
  EXPECT_EQ(o.out, "\nNodeSettingsVersions : {cas02: 6 (applying)}\n\n");
  SetStatus("cas02", mail::v1::SERVICE_NAME_IMAP4, mail::v1::SERVICE_STATUS_UNREACHABLE);
  o = Run("Get-ImapSettings | Format-List NodeSettingsVersions");
  EXPECT_EQ(o.out, "\nNodeSettingsVersions : {cas02: Unreachable, cas01: 12}\n\n");
}

}  // namespace
}  // namespace adminctl
