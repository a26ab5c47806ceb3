// The mailbox cmdlets end to end through the runner, against an in-process fake
// mail.v1.Directory server on 127.0.0.1:<picked port>: the requests sent, the printed output
// and errors, and the outcome for success and each kind of failure.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "adminctl/app.h"
#include "adminctl/cmdlet.h"
#include "adminctl/runner.h"
#include "directory.grpc.pb.h"
#include "tests/adminctl/fake_directory.h"

namespace adminctl {
namespace {

using grpc::Status;
using grpc::StatusCode;
using mail::v1::Mailbox;
using test::FakeDirectory;
using test::Outcome;

class MailboxCmdletsTest : public test::DirectoryCmdletsTest {};

constexpr char kAliceTable[] =
    "\n"
    "Name  Alias ServerName ProhibitSendQuota\n"
    "----  ----- ---------- -----------------\n"
    "alice alice mbx01      Unlimited\n"
    "\n";

// ---------------------------------------------------------------------------------------------
// New-Mailbox

TEST_F(MailboxCmdletsTest, NewMailboxCreatesAndPrintsTheTable) {
  Outcome o =
      Run("New-Mailbox -Name alice -PrimarySmtpAddress alice@example.test -Password 'P@ss;1' "
          "-DisplayName 'Alice Smith'");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out, kAliceTable);
  ASSERT_EQ(fake_.creates.size(), 1u);
  const mail::v1::CreateMailboxRequest& r = fake_.creates[0];
  EXPECT_EQ(r.name(), "alice");
  EXPECT_EQ(r.display_name(), "Alice Smith");
  EXPECT_EQ(r.primary_smtp_address(), "alice@example.test");
  EXPECT_EQ(r.password(), "P@ss;1");
  EXPECT_EQ(fake_.domain_lists, 0);
  EXPECT_EQ(fake_.authorization, std::vector<std::string>{"Bearer s3cret-token"});
}

TEST_F(MailboxCmdletsTest, NewMailboxNameIsPositionalAndDisplayNameDefaultsToIt) {
  Outcome o = Run("new-mailbox alice -Prim alice@example.test -Pass:P1");
  EXPECT_TRUE(o.ok) << o.err;
  ASSERT_EQ(fake_.creates.size(), 1u);
  EXPECT_EQ(fake_.creates[0].display_name(), "alice");
  EXPECT_EQ(fake_.creates[0].password(), "P1");
}

TEST_F(MailboxCmdletsTest, NewMailboxAcceptsConvertToSecureString) {
  Outcome o =
      Run("New-Mailbox -Name alice -PrimarySmtpAddress alice@example.test -Password "
          "(ConvertTo-SecureString -String 'P@ss1' -AsPlainText -Force)");
  EXPECT_TRUE(o.ok) << o.err;
  ASSERT_EQ(fake_.creates.size(), 1u);
  EXPECT_EQ(fake_.creates[0].password(), "P@ss1");
}

TEST_F(MailboxCmdletsTest, NewMailboxUsesTheDefaultAcceptedDomain) {
  mail::v1::AcceptedDomain other, main;
  other.set_domain_name("other.test");
  main.set_domain_name("example.test");
  main.set_is_default(true);
  fake_.domains = {other, main};
  Outcome o = Run("New-Mailbox -Name alice -Password pw");
  EXPECT_TRUE(o.ok) << o.err;
  ASSERT_EQ(fake_.creates.size(), 1u);
  EXPECT_EQ(fake_.creates[0].primary_smtp_address(), "alice@example.test");
}

TEST_F(MailboxCmdletsTest, NewMailboxWithoutAddressOrDefaultDomainFails) {
  mail::v1::AcceptedDomain other;
  other.set_domain_name("other.test");
  fake_.domains = {other};
  Outcome o = Run("New-Mailbox -Name alice -Password pw");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "New-Mailbox: No -PrimarySmtpAddress was given and there is no default accepted "
            "domain to build one from. Give -PrimarySmtpAddress alice@<domain>, or make an "
            "accepted domain the default.\n");
  EXPECT_TRUE(fake_.creates.empty());
}

TEST_F(MailboxCmdletsTest, NewMailboxPromptsForThePasswordOnATerminal) {
  terminal_.interactive = true;
  terminal_.answers = {"Secret-1", "Secret-1"};
  Outcome o = Run("New-Mailbox alice -PrimarySmtpAddress alice@example.test");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(terminal_.secret_prompts,
            (std::vector<std::string>{"Password: ", "Confirm password: "}));
  ASSERT_EQ(fake_.creates.size(), 1u);
  EXPECT_EQ(fake_.creates[0].password(), "Secret-1");
  EXPECT_EQ(o.out.find("Secret-1"), std::string::npos);
}

TEST_F(MailboxCmdletsTest, NewMailboxPasswordWithoutValuePromptsToo) {
  terminal_.interactive = true;
  terminal_.answers = {"a", "b"};
  Outcome o = Run("New-Mailbox alice -PrimarySmtpAddress alice@example.test -Password");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "New-Mailbox: The passwords do not match.\n");
  EXPECT_TRUE(fake_.creates.empty());
}

TEST_F(MailboxCmdletsTest, NewMailboxWithoutPasswordAndNoTerminalFails) {
  Outcome o = Run("New-Mailbox alice -PrimarySmtpAddress alice@example.test");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "New-Mailbox: A value for parameter 'Password' is required, and standard input is "
            "not a terminal, so adminctl cannot prompt for it. Give -Password '<password>'.\n");
  EXPECT_TRUE(terminal_.secret_prompts.empty());
  EXPECT_TRUE(fake_.creates.empty());
}

TEST_F(MailboxCmdletsTest, ErrorsNeverEchoAPassword) {
  Outcome o = Run("New-Mailbox alice -PrimarySmtpAddress a@example.test -Password 'Hunter2");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "ParserError: The string is missing the terminator: '.\n"
            "At offset 64 (the line is not shown because it may contain a password)\n");
  o = Run("New-Mailbox alice -PrimarySmtpAddress a@example.test -Password $Hunter2");
  EXPECT_EQ(o.err,
            "New-Mailbox: The value of parameter 'Password' starts with '$', which is read as "
            "a variable; put it in single quotes.\n");
  o = Run("Set-Mailbox alice -Pass Hunter 2");
  EXPECT_EQ(o.err,
            "Set-Mailbox: A positional parameter cannot be found that accepts one of the "
            "arguments (not shown because the line may contain a password).\n");
  EXPECT_TRUE(fake_.creates.empty());
  EXPECT_TRUE(fake_.passwords.empty());
}

TEST_F(MailboxCmdletsTest, NewMailboxDuplicateNameOrAddress) {
  fake_.Add("alice");
  Outcome o = Run("New-Mailbox alice -PrimarySmtpAddress other@example.test -Password pw");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "New-Mailbox: The name or address is already being used: The name \"alice\" is "
            "already being used.\n");
  o = Run("New-Mailbox alice2 -PrimarySmtpAddress alice@example.test -Password pw");
  EXPECT_EQ(o.err,
            "New-Mailbox: The name or address is already being used: The proxy address "
            "\"SMTP:alice@example.test\" is already being used by \"alice\".\n");
}

TEST_F(MailboxCmdletsTest, NewMailboxMissingName) {
  Outcome o = Run("New-Mailbox -Password pw");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "New-Mailbox: Cannot process command because of one or more missing mandatory "
            "parameters: Name.\n");
  o = Run("New-Mailbox -Name");
  EXPECT_EQ(o.err,
            "New-Mailbox: Missing an argument for parameter 'Name'. Specify a parameter of type "
            "'System.String' and try again.\n");
  EXPECT_TRUE(fake_.creates.empty());
}

// ---------------------------------------------------------------------------------------------
// Get-Mailbox

TEST_F(MailboxCmdletsTest, GetMailboxDefaultTable) {
  fake_.Add("alice");
  fake_.Add("bob", 2147483648ull);
  Outcome o = Run("Get-Mailbox");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name  Alias ServerName ProhibitSendQuota\n"
            "----  ----- ---------- -----------------\n"
            "alice alice mbx01      Unlimited\n"
            "bob   bob   mbx01      2 GB (2,147,483,648 bytes)\n"
            "\n");
  ASSERT_GE(fake_.lists.size(), 1u);
  EXPECT_EQ(fake_.lists[0].result_size(), 1000u);
  EXPECT_EQ(fake_.lists[0].after_name(), "");
}

TEST_F(MailboxCmdletsTest, GetMailboxFormatListShowsEverything) {
  fake_.Add("alice", 2147483648ull);
  {
    std::lock_guard<std::mutex> lock(fake_.mu);
    Mailbox& m = fake_.mailboxes["alice"];
    m.set_display_name("Alice Smith");
    m.add_email_addresses("al@example.test");
  }
  Outcome o = Run("Get-Mailbox -Identity alice | Format-List");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name                     : alice\n"
            "Alias                    : alice\n"
            "DisplayName              : Alice Smith\n"
            "Identity                 : alice\n"
            "Guid                     : 6f1c2a9e-0000-4000-8000-100000000100\n"
            "RecipientTypeDetails     : UserMailbox\n"
            "PrimarySmtpAddress       : alice@example.test\n"
            "EmailAddresses           : {SMTP:alice@example.test, smtp:al@example.test}\n"
            "ServerName               : mbx01\n"
            "AccountDisabled          : False\n"
            "IsMailboxEnabled         : True\n"
            "WhenCreated              : 11/26/2024 5:36:12 AM\n"
            "IssueWarningQuota        : Unlimited\n"
            "ProhibitSendQuota        : 2 GB (2,147,483,648 bytes)\n"
            "ProhibitSendReceiveQuota : Unlimited\n"
            "TotalItemSize            : 0 B (0 bytes)\n"
            "ItemCount                : 0\n"
            "LastLogonTime            :\n"
            "\n");
  EXPECT_EQ(fake_.gets, std::vector<std::string>{"alice"});
}

TEST_F(MailboxCmdletsTest, GetMailboxFormatListWildcardProperties) {
  fake_.Add("alice");
  Outcome o = Run("Get-Mailbox alice | fl *Quota*");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "IssueWarningQuota        : Unlimited\n"
            "ProhibitSendQuota        : Unlimited\n"
            "ProhibitSendReceiveQuota : Unlimited\n"
            "\n");
}

TEST_F(MailboxCmdletsTest, GetMailboxFormatTableChosenColumns) {
  fake_.Add("alice");
  fake_.Add("bob");
  Outcome o = Run("Get-Mailbox | Format-Table Name,PrimarySmtpAddress");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name  PrimarySmtpAddress\n"
            "----  ------------------\n"
            "alice alice@example.test\n"
            "bob   bob@example.test\n"
            "\n");
  // Format-Table without columns keeps the default view.
  EXPECT_EQ(Run("Get-Mailbox alice | ft").out, kAliceTable);
}

TEST_F(MailboxCmdletsTest, GetMailboxNotFound) {
  Outcome o = Run("Get-Mailbox bob");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "Get-Mailbox: The operation couldn't be performed because object 'bob' couldn't be "
            "found.\n");
}

TEST_F(MailboxCmdletsTest, GetMailboxWildcardIdentity) {
  fake_.Add("alice");
  fake_.Add("albert");
  fake_.Add("bob");
  Outcome o = Run("Get-Mailbox al* | ft Name");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "\nName\n----\nalbert\nalice\n\n");
  EXPECT_TRUE(fake_.gets.empty());
  // No match: nothing, and no error (as PowerShell does for wildcards).
  o = Run("Get-Mailbox zz*");
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.out, "");
}

TEST_F(MailboxCmdletsTest, GetMailboxPagesThroughTheStore) {
  for (const char* name : {"a", "b", "c", "d", "e"}) fake_.Add(name);
  fake_.max_page = 2;
  Outcome o = Run("Get-Mailbox -ResultSize Unlimited | ft Name");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "\nName\n----\na\nb\nc\nd\ne\n\n");
  ASSERT_EQ(fake_.lists.size(), 4u);  // a,b / c,d / e / (empty).
  EXPECT_EQ(fake_.lists[1].after_name(), "b");
  EXPECT_EQ(fake_.lists[3].after_name(), "e");

  fake_.lists.clear();
  o = Run("Get-Mailbox -ResultSize 3 | ft Name");
  EXPECT_EQ(o.out, "\nName\n----\na\nb\nc\n\n");
  ASSERT_EQ(fake_.lists.size(), 2u);
  EXPECT_EQ(fake_.lists[0].result_size(), 3u);
  EXPECT_EQ(fake_.lists[1].result_size(), 1u);
}

TEST_F(MailboxCmdletsTest, GetMailboxWarnsWhenTheDefaultLimitCutsTheList) {
  for (int i = 0; i < 1001; ++i) fake_.Add("user" + std::to_string(10000 + i));
  Outcome o = Run("Get-Mailbox | ft Name");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err,
            "WARNING: By default, only the first 1000 items are returned. Use the ResultSize "
            "parameter to specify the number of items returned. To return all items, specify "
            "\"-ResultSize Unlimited\".\n");
  EXPECT_EQ(std::count(o.out.begin(), o.out.end(), '\n'), 1000 + 4);
  EXPECT_EQ(o.out.find("user11000"), std::string::npos);
}

TEST_F(MailboxCmdletsTest, GetMailboxBadResultSize) {
  Outcome o = Run("Get-Mailbox -ResultSize 0");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Get-Mailbox: Cannot validate argument on parameter 'ResultSize'. Give a number "
            "larger than 0, or Unlimited.\n");
}

// ---------------------------------------------------------------------------------------------
// Set-Mailbox

TEST_F(MailboxCmdletsTest, SetMailboxSendsOnlyWhatWasGiven) {
  fake_.Add("alice");
  Outcome o =
      Run("Set-Mailbox alice -DisplayName 'Alice S' -ProhibitSendQuota 2GB -IssueWarningQuota "
          "1.5GB -ProhibitSendReceiveQuota unlimited -AccountDisabled:$true");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "");
  ASSERT_EQ(fake_.updates.size(), 1u);
  const mail::v1::UpdateMailboxRequest& r = fake_.updates[0];
  EXPECT_EQ(r.identity(), "alice");
  const mail::v1::MailboxUpdate& u = r.update();
  EXPECT_EQ(u.display_name(), "Alice S");
  EXPECT_EQ(u.prohibit_send_quota(), 2147483648ull);
  EXPECT_EQ(u.issue_warning_quota(), 1610612736ull);
  ASSERT_TRUE(u.has_prohibit_send_receive_quota());
  EXPECT_EQ(u.prohibit_send_receive_quota(), 0u);  // Unlimited.
  EXPECT_TRUE(u.account_disabled());
  EXPECT_FALSE(u.has_name());
  EXPECT_FALSE(u.has_primary_smtp_address());
  EXPECT_FALSE(u.has_email_addresses());
  EXPECT_TRUE(fake_.passwords.empty());
}

TEST_F(MailboxCmdletsTest, SetMailboxEmailAddressesReplace) {
  fake_.Add("alice");
  Outcome o =
      Run("Set-Mailbox alice -EmailAddresses SMTP:a@example.test,smtp:b@example.test,"
          "'c@example.test'");
  EXPECT_TRUE(o.ok) << o.err;
  ASSERT_EQ(fake_.updates.size(), 1u);
  const mail::v1::MailboxUpdate& u = fake_.updates[0].update();
  EXPECT_TRUE(u.has_email_addresses());
  EXPECT_EQ(std::vector<std::string>(u.email_addresses().begin(), u.email_addresses().end()),
            (std::vector<std::string>{"b@example.test", "c@example.test"}));
  EXPECT_EQ(u.primary_smtp_address(), "a@example.test");
}

TEST_F(MailboxCmdletsTest, SetMailboxEmailAddressesAddRemove) {
  fake_.Add("alice");
  Outcome o =
      Run("Set-Mailbox alice -EmailAddresses @{Add=\"x@example.test\",\"y@example.test\"; "
          "Remove=\"smtp:z@example.test\"}");
  EXPECT_TRUE(o.ok) << o.err;
  ASSERT_EQ(fake_.updates.size(), 1u);
  const mail::v1::MailboxUpdate& u = fake_.updates[0].update();
  EXPECT_FALSE(u.has_email_addresses());
  EXPECT_EQ(
      std::vector<std::string>(u.add_email_addresses().begin(), u.add_email_addresses().end()),
      (std::vector<std::string>{"x@example.test", "y@example.test"}));
  EXPECT_EQ(std::vector<std::string>(u.remove_email_addresses().begin(),
                                     u.remove_email_addresses().end()),
            (std::vector<std::string>{"z@example.test"}));
}

TEST_F(MailboxCmdletsTest, SetMailboxRejectsBadAddressListsLocally) {
  fake_.Add("alice");
  Outcome o = Run("Set-Mailbox alice -EmailAddresses X500:/o=x,a@example.test");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Set-Mailbox: Only SMTP addresses are supported; 'X500:/o=x' has the prefix "
            "'X500:'.\n");
  o = Run("Set-Mailbox alice -PrimarySmtpAddress a@example.test -EmailAddresses SMTP:b@x.test");
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(fake_.updates.empty());
}

TEST_F(MailboxCmdletsTest, SetMailboxPassword) {
  fake_.Add("alice");
  Outcome o = Run("Set-Mailbox alice -Password 'N3w;pass' -DisplayName A");
  EXPECT_TRUE(o.ok) << o.err;
  ASSERT_EQ(fake_.passwords.size(), 1u);
  EXPECT_EQ(fake_.passwords[0].identity(), "alice");
  EXPECT_EQ(fake_.passwords[0].password(), "N3w;pass");
  EXPECT_EQ(fake_.updates.size(), 1u);
  EXPECT_EQ(o.out + o.err, "");
}

TEST_F(MailboxCmdletsTest, SetMailboxNotFound) {
  Outcome o = Run("Set-Mailbox bob -DisplayName Bob");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Set-Mailbox: The operation couldn't be performed because object 'bob' couldn't be "
            "found.\n");
}

TEST_F(MailboxCmdletsTest, SetMailboxInvalidArgumentShowsTheServerMessage) {
  fake_.Add("alice");
  Outcome o = Run("Set-Mailbox alice -PrimarySmtpAddress not-an-address");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Set-Mailbox: 'not-an-address' is not a valid SMTP address.\n");
}

TEST_F(MailboxCmdletsTest, SetMailboxWithNothingToChangeWarns) {
  fake_.Add("alice");
  Outcome o = Run("Set-Mailbox alice");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err,
            "WARNING: The command completed successfully but no settings of 'alice' have been "
            "modified.\n");
  EXPECT_TRUE(fake_.updates.empty());
  EXPECT_FALSE(Run("Set-Mailbox nobody").ok);
}

TEST_F(MailboxCmdletsTest, SetMailboxTypeErrorsStopBeforeAnyCall) {
  Outcome o = Run("Set-Mailbox alice -ProhibitSendQuota lots");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err.rfind("Set-Mailbox: Cannot process argument transformation on parameter "
                        "'ProhibitSendQuota'. Cannot convert value \"lots\"",
                        0),
            0u)
      << o.err;
  o = Run("Set-Mailbox alice -AccountDisabled maybe");
  EXPECT_NE(o.err.find("Cannot convert value \"maybe\" to type \"System.Boolean\"."),
            std::string::npos);
  o = Run("Set-Mailbox alice -ProhibitSendQuota 0");
  EXPECT_EQ(o.err,
            "Set-Mailbox: The value of ProhibitSendQuota must be larger than 0 bytes, or "
            "Unlimited.\n");
  EXPECT_TRUE(fake_.updates.empty());
  EXPECT_TRUE(fake_.authorization.empty());
}

// ---------------------------------------------------------------------------------------------
// Remove-Mailbox

TEST_F(MailboxCmdletsTest, RemoveMailboxRefusesWithoutATerminal) {
  fake_.Add("alice");
  Outcome o = Run("Remove-Mailbox alice");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Remove-Mailbox: Removing mailbox 'alice' needs confirmation, but standard input is "
            "not a terminal, so adminctl cannot ask. Add -Confirm:$false to remove it without a "
            "prompt.\n");
  EXPECT_TRUE(fake_.deletes.empty());
  EXPECT_TRUE(terminal_.prompts.empty());
  // -Confirm (true) asks too.
  EXPECT_FALSE(Run("Remove-Mailbox alice -Confirm").ok);
  EXPECT_TRUE(fake_.deletes.empty());
}

TEST_F(MailboxCmdletsTest, RemoveMailboxWithConfirmFalse) {
  fake_.Add("alice");
  Outcome o = Run("Remove-Mailbox -Identity alice -Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out + o.err, "");
  EXPECT_EQ(fake_.deletes, std::vector<std::string>{"alice"});
  o = Run("Remove-Mailbox alice -Confirm:$false");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Remove-Mailbox: The operation couldn't be performed because object 'alice' "
            "couldn't be found.\n");
}

TEST_F(MailboxCmdletsTest, RemoveMailboxPromptsOnATerminal) {
  fake_.Add("alice");
  terminal_.interactive = true;
  terminal_.answers = {""};  // Enter: the default, No.
  Outcome o = Run("Remove-Mailbox alice");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_TRUE(fake_.deletes.empty());
  ASSERT_EQ(terminal_.prompts.size(), 1u);
  EXPECT_EQ(terminal_.prompts[0],
            "\nConfirm\nAre you sure you want to perform this action?\nRemoving mailbox "
            "\"alice\".\n[Y] Yes  [N] No  (default is \"N\"): ");

  terminal_.answers = {"maybe", "Y"};
  o = Run("Remove-Mailbox alice");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(fake_.deletes, std::vector<std::string>{"alice"});
  EXPECT_EQ(terminal_.prompts.size(), 3u);
}

TEST_F(MailboxCmdletsTest, RemoveMailboxEndOfInputMeansNo) {
  fake_.Add("alice");
  terminal_.interactive = true;
  Outcome o = Run("Remove-Mailbox alice");
  EXPECT_TRUE(o.ok);
  EXPECT_TRUE(fake_.deletes.empty());
}

// ---------------------------------------------------------------------------------------------
// Pipelines

TEST_F(MailboxCmdletsTest, PipedObjectsBindIdentity) {
  fake_.Add("alice");
  fake_.Add("bob");
  Outcome o = Run("Get-Mailbox | Set-Mailbox -ProhibitSendQuota 1GB");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  ASSERT_EQ(fake_.updates.size(), 2u);
  EXPECT_EQ(fake_.updates[0].identity(), "alice");
  EXPECT_EQ(fake_.updates[1].identity(), "bob");
  EXPECT_EQ(fake_.updates[1].update().prohibit_send_quota(), 1073741824ull);

  o = Run("Get-Mailbox b* | Remove-Mailbox -Confirm:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(fake_.deletes, std::vector<std::string>{"bob"});
}

TEST_F(MailboxCmdletsTest, PipelineErrors) {
  Outcome o = Run("Get-Mailbox | Format-List | Format-Table");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Format-List: It must be the last command of a pipeline.\n");
  o = Run("Format-List");
  EXPECT_EQ(o.err, "Format-List: Pipe objects into it, for example: Get-Mailbox | Format-List.\n");
  o = Run("Get-Mailbox | New-Mailbox x");
  EXPECT_EQ(o.err.rfind("New-Mailbox: The input object cannot be bound to any parameters", 0), 0u);
  o = Run("Get-Mailboxes");
  EXPECT_EQ(o.err,
            "Get-Mailboxes: The term 'Get-Mailboxes' is not recognized as a name of a cmdlet. "
            "Run Get-Command for the list of cmdlets.\n");
  o = Run("Get-Mailbox -Foo bar");
  EXPECT_EQ(o.err,
            "Get-Mailbox: A parameter cannot be found that matches parameter name "
            "'Foo'.\n");
  o = Run("Get-Mailbox 'bob");
  EXPECT_EQ(o.err,
            "ParserError: The string is missing the terminator: '.\n"
            "At line:1 char:13\n"
            "+ Get-Mailbox 'bob\n"
            "+             ~~~~\n");
  EXPECT_TRUE(fake_.authorization.empty());  // None of these reached the store.
}

TEST_F(MailboxCmdletsTest, StatementsRunInOrderAndStopAtTheFirstError) {
  Outcome o =
      Run("New-Mailbox a -PrimarySmtpAddress a@example.test -Password p; Set-Mailbox nobody "
          "-DisplayName x; New-Mailbox c -PrimarySmtpAddress c@example.test -Password p");
  EXPECT_FALSE(o.ok);
  ASSERT_EQ(fake_.creates.size(), 1u);
  EXPECT_EQ(fake_.creates[0].name(), "a");
}

TEST_F(MailboxCmdletsTest, ScriptsStopAtTheFirstErrorAndSayWhere) {
  std::ostringstream out, err;
  Runner runner(registry_, context_, out, err);
  const bool ok = RunScript(runner,
                            "# setup\n"
                            "New-Mailbox a -PrimarySmtpAddress a@example.test -Password p\n"
                            "Set-Mailbox nobody `\n"
                            "  -DisplayName x\n"
                            "New-Mailbox c -PrimarySmtpAddress c@example.test -Password p\n",
                            err);
  EXPECT_FALSE(ok);
  ASSERT_EQ(fake_.creates.size(), 1u);
  EXPECT_EQ(err.str(),
            "Set-Mailbox: The operation couldn't be performed because object 'nobody' couldn't "
            "be found.\n"
            "At line:3 char:1\n");
}

TEST_F(MailboxCmdletsTest, ScriptLinesAreBounded) {
  std::ostringstream out, err;
  Runner runner(registry_, context_, out, err);
  const std::string script = "Get-Mailbox\nGet-Mailbox " + std::string(70000, 'x') + "\n";
  EXPECT_FALSE(RunScript(runner, script, err));
  EXPECT_EQ(err.str(), "ParserError: Line 2 is 70012 bytes long; the limit is 65536 bytes.\n");
  EXPECT_TRUE(fake_.lists.empty());
}

// ---------------------------------------------------------------------------------------------
// Transport-level failures

TEST_F(MailboxCmdletsTest, UnavailableNamesTheEndpoint) {
  // A port that just stopped listening.
  int dead_port = 0;
  {
    FakeDirectory other;
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &dead_port);
    builder.RegisterService(&other);
    std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
    server->Shutdown();
  }
  const std::string dead = "127.0.0.1:" + std::to_string(dead_port);
  auto stub =
      mail::v1::Directory::NewStub(grpc::CreateChannel(dead, grpc::InsecureChannelCredentials()));
  context_.directory = stub.get();
  context_.endpoint = dead;
  Outcome o = Run("Get-Mailbox");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err.rfind("Get-Mailbox: Cannot connect to the mailbox store at " + dead + ": ", 0),
            0u)
      << o.err;
  context_.directory = stub_.get();
}

TEST_F(MailboxCmdletsTest, DeadlineExceeded) {
  fake_.delay = std::chrono::milliseconds(600);
  context_.deadline = std::chrono::milliseconds(200);
  Outcome o = Run("Get-Mailbox");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Get-Mailbox: The mailbox store at " + endpoint_ + " did not answer within 200 ms.\n");
}

TEST_F(MailboxCmdletsTest, AuthenticationFailures) {
  fake_.fail_with = Status(StatusCode::UNAUTHENTICATED, "bad token");
  Outcome o = Run("Get-Mailbox");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Get-Mailbox: Access denied by the mailbox store at " + endpoint_ +
                       ": bad token (give an admin token with --token or MAIL_ADMIN_TOKEN).\n");
  fake_.fail_with = Status(StatusCode::PERMISSION_DENIED, "read-only token");
  o = Run("Remove-Mailbox a -Confirm:$false");
  EXPECT_EQ(o.err, "Remove-Mailbox: Access denied by the mailbox store at " + endpoint_ +
                       ": read-only token\n");
  fake_.fail_with = Status(StatusCode::INTERNAL, "disk on fire");
  o = Run("Get-Mailbox a");
  EXPECT_EQ(o.err, "Get-Mailbox: The mailbox store failed the request (code 13): disk on fire\n");
}

TEST_F(MailboxCmdletsTest, NoTokenMeansNoAuthorizationHeader) {
  context_.token.clear();
  EXPECT_TRUE(Run("Get-Mailbox").ok);
  ASSERT_FALSE(fake_.authorization.empty());
  EXPECT_EQ(fake_.authorization[0], "");
}

// ---------------------------------------------------------------------------------------------
// The program: options in, exit code out.

TEST_F(MailboxCmdletsTest, RunAdminctlExitCodes) {
  fake_.Add("alice");
  Options options;
  options.mode = Options::Mode::kLine;
  options.endpoint = endpoint_;
  options.token = "tok";
  options.line = "Get-Mailbox alice";
  std::ostringstream out, err;
  EXPECT_EQ(RunAdminctl(options, out, err, terminal_), kExitOk);
  EXPECT_NE(out.str().find("alice alice"), std::string::npos) << out.str();
  EXPECT_EQ(fake_.authorization.back(), "Bearer tok");

  options.line = "Get-Mailbox nobody";
  EXPECT_EQ(RunAdminctl(options, out, err, terminal_), kExitError);
  options.line = "Get-Mailbox 'x";
  EXPECT_EQ(RunAdminctl(options, out, err, terminal_), kExitError);

  options.mode = Options::Mode::kUsage;
  std::ostringstream usage;
  EXPECT_EQ(RunAdminctl(options, out, usage, terminal_), kExitUsage);
  EXPECT_EQ(usage.str().rfind("Usage: adminctl", 0), 0u);

  options.mode = Options::Mode::kFile;
  options.file = "/nonexistent/script.ps1";
  std::ostringstream file_err;
  EXPECT_EQ(RunAdminctl(options, out, file_err, terminal_), kExitError);
  EXPECT_EQ(file_err.str(), "adminctl: cannot open /nonexistent/script.ps1\n");
}

}  // namespace
}  // namespace adminctl
