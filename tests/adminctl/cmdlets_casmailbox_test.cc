// Get-CASMailbox and Set-CASMailbox end to end through the runner, against the in-process fake
// mail.v1.Directory server (fake_directory.h): the updates sent, the printed views, warnings
// and errors, pipelines from Get-Mailbox and Get-CASMailbox, and the program's exit code.
#include <gtest/gtest.h>

#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "adminctl/app.h"
#include "adminctl/cmdlet.h"
#include "directory.grpc.pb.h"
#include "tests/adminctl/fake_directory.h"

namespace adminctl {
namespace {

using grpc::Status;
using grpc::StatusCode;
using mail::v1::Mailbox;
using test::kNow;
using test::Outcome;

class CasMailboxCmdletsTest : public test::DirectoryCmdletsTest {
 protected:
  // Changes a stored mailbox directly, as another admin or the store itself would.
  template <typename F>
  void Edit(const std::string& name, F change) {
    std::lock_guard<std::mutex> lock(fake_.mu);
    change(fake_.mailboxes.at(name));
  }

  Mailbox Stored(const std::string& name) {
    std::lock_guard<std::mutex> lock(fake_.mu);
    return fake_.mailboxes.at(name);
  }

  // The one update sent so far.
  mail::v1::MailboxUpdate OnlyUpdate() {
    EXPECT_EQ(fake_.updates.size(), 1u);
    if (fake_.updates.empty()) return {};
    return fake_.updates.back().update();
  }
};

std::vector<std::string> Folders(const google::protobuf::RepeatedPtrField<std::string>& f) {
  return std::vector<std::string>(f.begin(), f.end());
}

// ---------------------------------------------------------------------------------------------
// Get-CASMailbox

TEST_F(CasMailboxCmdletsTest, DefaultViewIsExchangesSummaryTable) {
  fake_.Add("alice");
  fake_.Add("bob");
  Edit("bob", [](Mailbox& m) { m.set_pop_enabled(false); });
  Outcome o = Run("Get-CASMailbox");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "Name  ActiveSyncEnabled OWAEnabled PopEnabled ImapEnabled MapiEnabled\n"
            "----  ----------------- ---------- ---------- ----------- -----------\n"
            "alice False             False      True       True        False\n"
            "bob   False             False      False      True        False\n"
            "\n");
  ASSERT_EQ(fake_.lists.size(), 2u);  // One page, then the empty page that ends the list.
  EXPECT_EQ(fake_.lists[0].result_size(), 1000u);
  EXPECT_EQ(fake_.authorization[0], "Bearer s3cret-token");
}

TEST_F(CasMailboxCmdletsTest, FormatListShowsEveryProperty) {
  fake_.Add("alice");
  Edit("alice", [](Mailbox& m) { m.set_display_name("Alice Smith"); });
  Outcome o = Run("Get-CASMailbox -Identity alice | Format-List");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name                             : alice\n"
            "Identity                         : alice\n"
            "DisplayName                      : Alice Smith\n"
            "PrimarySmtpAddress               : alice@example.test\n"
            "ActiveSyncEnabled                : False\n"
            "OWAEnabled                       : False\n"
            "MapiEnabled                      : False\n"
            "PopEnabled                       : True\n"
            "PopUseProtocolDefaults           : True\n"
            "PopEnableExactRFC822Size         : True\n"
            "PopDownloadScope                 : AllMail\n"
            "PopRetrievalAction               : Keep\n"
            "PopFolders                       : {Inbox}\n"
            "PopEnabledSince                  : 11/26/2024 5:36:12 AM\n"
            "ImapEnabled                      : True\n"
            "ImapUseProtocolDefaults          : True\n"
            "SmtpClientAuthenticationDisabled :\n"
            "\n");
  EXPECT_EQ(fake_.gets, std::vector<std::string>{"alice"});
  EXPECT_TRUE(fake_.lists.empty());
}

TEST_F(CasMailboxCmdletsTest, FormatListWildcardSelectsPopProperties) {
  fake_.Add("alice");
  Edit("alice", [](Mailbox& m) {
    m.set_pop_download_scope(mail::v1::POP_DOWNLOAD_SCOPE_FROM_NOW);
    m.set_pop_retrieval_action(mail::v1::POP_RETRIEVAL_ACTION_DELETE);
    m.add_pop_folders("Junk");
    m.set_pop_enabled_since_unix(kNow);
  });
  Outcome o = Run("Get-CASMailbox alice | Format-List Pop*");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "PopEnabled               : True\n"
            "PopUseProtocolDefaults   : True\n"
            "PopEnableExactRFC822Size : True\n"
            "PopDownloadScope         : FromNow\n"
            "PopRetrievalAction       : Delete\n"
            "PopFolders               : {Inbox, Junk}\n"
            "PopEnabledSince          : 1/1/2025 12:00:00 PM\n"
            "\n");
  o = Run("Get-CASMailbox alice | fl Imap*,Name");
  EXPECT_EQ(o.out,
            "\n"
            "ImapEnabled             : True\n"
            "ImapUseProtocolDefaults : True\n"
            "Name                    : alice\n"
            "\n");
}

TEST_F(CasMailboxCmdletsTest, SmtpClientAuthenticationDisabledIsTriState) {
  fake_.Add("a");
  fake_.Add("b");
  fake_.Add("c");
  Edit("b", [](Mailbox& m) { m.set_smtp_client_authentication_disabled(mail::v1::TRISTATE_TRUE); });
  Edit("c",
       [](Mailbox& m) { m.set_smtp_client_authentication_disabled(mail::v1::TRISTATE_FALSE); });
  Outcome o = Run("Get-CASMailbox | Format-Table Name,SmtpClientAuthenticationDisabled");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name SmtpClientAuthenticationDisabled\n"
            "---- --------------------------------\n"
            "a\n"
            "b    True\n"
            "c    False\n"
            "\n");
}

TEST_F(CasMailboxCmdletsTest, UnknownEnumNumbersFromTheStoreShowAsNumbers) {
  fake_.Add("alice");
  Edit("alice", [](Mailbox& m) {
    m.set_pop_retrieval_action(static_cast<mail::v1::PopRetrievalAction>(7));
  });
  Outcome o = Run("Get-CASMailbox alice | fl PopRetrievalAction");
  EXPECT_EQ(o.out, "\nPopRetrievalAction : 7\n\n");
}

TEST_F(CasMailboxCmdletsTest, WildcardsResultSizeAndPaging) {
  for (const char* name : {"al", "alice", "albert", "bob", "carol"}) fake_.Add(name);
  Outcome o = Run("Get-CASMailbox al* | ft Name");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "\nName\n----\nal\nalbert\nalice\n\n");
  EXPECT_TRUE(fake_.gets.empty());

  fake_.lists.clear();
  fake_.max_page = 2;
  o = Run("Get-CASMailbox -ResultSize 3 | ft Name");
  EXPECT_EQ(o.out, "\nName\n----\nal\nalbert\nalice\n\n");
  ASSERT_EQ(fake_.lists.size(), 2u);
  EXPECT_EQ(fake_.lists[0].result_size(), 3u);
  EXPECT_EQ(fake_.lists[1].result_size(), 1u);

  o = Run("Get-CASMailbox -ResultSize unlimited | ft Name");
  EXPECT_EQ(o.out, "\nName\n----\nal\nalbert\nalice\nbob\ncarol\n\n");

  o = Run("Get-CASMailbox -ResultSize 0");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Get-CASMailbox: Cannot validate argument on parameter 'ResultSize'. Give a number "
            "larger than 0, or Unlimited.\n");
}

TEST_F(CasMailboxCmdletsTest, DefaultResultSizeWarns) {
  for (int i = 0; i < 1001; ++i) fake_.Add("user" + std::to_string(10000 + i));
  Outcome o = Run("Get-CASMailbox | ft Name");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err,
            "WARNING: By default, only the first 1000 items are returned. Use the ResultSize "
            "parameter to specify the number of items returned. To return all items, specify "
            "\"-ResultSize Unlimited\".\n");
  EXPECT_EQ(o.out.find("user11000"), std::string::npos);
}

TEST_F(CasMailboxCmdletsTest, GetUnknownIdentityFails) {
  Outcome o = Run("Get-CASMailbox bob");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "Get-CASMailbox: The operation couldn't be performed because object 'bob' couldn't "
            "be found.\n");
  // A wildcard that matches nothing is not an error (as Get-Mailbox).
  o = Run("Get-CASMailbox zz*");
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.out + o.err, "");
}

// -ProtocolSettings itself is tested with the settings and control fakes
// (cmdlets_clientaccess_test.cc).
TEST_F(CasMailboxCmdletsTest, WithoutProtocolSettingsNoSuchProperties) {
  fake_.Add("alice");
  for (const char* line : {"Get-CASMailbox alice | Format-List *Settings",
                           "Get-CASMailbox alice -ProtocolSettings:$false | Format-List"}) {
    Outcome o = Run(line);
    EXPECT_TRUE(o.ok) << o.err;
    EXPECT_EQ(o.err, "") << line;
    EXPECT_EQ(o.out.find("Settings"), std::string::npos) << line;
  }
  // No warning when the lookup itself failed.
  Outcome o = Run("Get-CASMailbox nobody -ProtocolSettings");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err.find("WARNING"), std::string::npos) << o.err;
}

// ---------------------------------------------------------------------------------------------
// Set-CASMailbox

TEST_F(CasMailboxCmdletsTest, SetSendsOnlyWhatWasGivenAndPrintsNothing) {
  fake_.Add("alice");
  Outcome o = Run("Set-CASMailbox alice -PopEnabled $false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out + o.err, "");
  ASSERT_EQ(fake_.updates.size(), 1u);
  EXPECT_EQ(fake_.updates[0].identity(), "alice");
  const mail::v1::MailboxUpdate u = OnlyUpdate();
  ASSERT_TRUE(u.has_pop_enabled());
  EXPECT_FALSE(u.pop_enabled());
  EXPECT_FALSE(u.has_imap_enabled());
  EXPECT_FALSE(u.has_smtp_client_authentication_disabled());
  EXPECT_FALSE(u.has_pop_download_scope());
  EXPECT_FALSE(u.has_pop_retrieval_action());
  EXPECT_FALSE(u.has_pop_folders());
  EXPECT_FALSE(u.has_name());
  EXPECT_FALSE(u.has_display_name());
  EXPECT_FALSE(u.has_account_disabled());
  EXPECT_EQ(fake_.authorization, std::vector<std::string>{"Bearer s3cret-token"});
  EXPECT_FALSE(Stored("alice").pop_enabled());
}

TEST_F(CasMailboxCmdletsTest, SetEverythingAtOnce) {
  fake_.Add("alice");
  Outcome o =
      Run("Set-CASMailbox -Identity alice -PopEnabled:$true -ImapEnabled 0 "
          "-SmtpClientAuthenticationDisabled $true -PopDownloadScope FromNow "
          "-PopRetrievalAction MarkRead -PopFolders Inbox,Junk");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out + o.err, "");
  const mail::v1::MailboxUpdate u = OnlyUpdate();
  EXPECT_TRUE(u.pop_enabled());
  ASSERT_TRUE(u.has_imap_enabled());
  EXPECT_FALSE(u.imap_enabled());
  EXPECT_EQ(u.smtp_client_authentication_disabled(), mail::v1::TRISTATE_TRUE);
  EXPECT_EQ(u.pop_download_scope(), mail::v1::POP_DOWNLOAD_SCOPE_FROM_NOW);
  EXPECT_EQ(u.pop_retrieval_action(), mail::v1::POP_RETRIEVAL_ACTION_MARK_READ);
  EXPECT_TRUE(u.has_pop_folders());
  EXPECT_EQ(Folders(u.pop_folders()), (std::vector<std::string>{"Inbox", "Junk"}));

  // And Get-CASMailbox shows the result.
  o =
      Run("Get-CASMailbox alice | fl PopDownloadScope,PopRetrievalAction,PopFolders,ImapEnabled,"
          "SmtpClientAuthenticationDisabled");
  EXPECT_EQ(o.out,
            "\n"
            "PopDownloadScope                 : FromNow\n"
            "PopRetrievalAction               : MarkRead\n"
            "PopFolders                       : {Inbox, Junk}\n"
            "ImapEnabled                      : False\n"
            "SmtpClientAuthenticationDisabled : True\n"
            "\n");
}

TEST_F(CasMailboxCmdletsTest, BooleanSpellings) {
  fake_.Add("alice");
  const struct {
    const char* written;
    bool value;
  } cases[] = {
      {"$true", true},  {"$false", false},  {"true", true},  {"false", false},
      {"TRUE", true},   {"$False", false},  {"1", true},     {"0", false},
      {":$true", true}, {":$false", false}, {":true", true}, {":0", false},
  };
  for (const auto& c : cases) {
    fake_.updates.clear();
    const std::string written = c.written;
    const std::string sep = written[0] == ':' ? "" : " ";
    Outcome o =
        Run("Set-CASMailbox alice -ImapEnabled" + sep + written + " -PopEnabled" + sep + written);
    EXPECT_TRUE(o.ok) << written << ": " << o.err;
    ASSERT_EQ(fake_.updates.size(), 1u) << written;
    EXPECT_EQ(fake_.updates[0].update().imap_enabled(), c.value) << written;
    EXPECT_EQ(fake_.updates[0].update().pop_enabled(), c.value) << written;
  }
}

TEST_F(CasMailboxCmdletsTest, SmtpClientAuthenticationDisabledNullFollowsTheServer) {
  fake_.Add("alice");
  Edit("alice",
       [](Mailbox& m) { m.set_smtp_client_authentication_disabled(mail::v1::TRISTATE_TRUE); });
  Outcome o = Run("Set-CASMailbox alice -SmtpClientAuthenticationDisabled $null");
  EXPECT_TRUE(o.ok) << o.err;
  const mail::v1::MailboxUpdate u = OnlyUpdate();
  ASSERT_TRUE(u.has_smtp_client_authentication_disabled());  // Sent, as "unset".
  EXPECT_EQ(u.smtp_client_authentication_disabled(), mail::v1::TRISTATE_UNSET);
  EXPECT_EQ(Run("Get-CASMailbox alice | fl Smtp*").out, "\nSmtpClientAuthenticationDisabled :\n\n");

  fake_.updates.clear();
  o = Run("Set-CASMailbox alice -SmtpClientAuthenticationDisabled:$false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(OnlyUpdate().smtp_client_authentication_disabled(), mail::v1::TRISTATE_FALSE);
  EXPECT_EQ(Run("Get-CASMailbox alice | fl Smtp*").out,
            "\nSmtpClientAuthenticationDisabled : False\n\n");
}

TEST_F(CasMailboxCmdletsTest, EnumNamesAreCaseInsensitiveAndAcceptNumbers) {
  fake_.Add("alice");
  const struct {
    const char* written;
    mail::v1::PopRetrievalAction action;
  } actions[] = {
      {"Keep", mail::v1::POP_RETRIEVAL_ACTION_KEEP},
      {"markread", mail::v1::POP_RETRIEVAL_ACTION_MARK_READ},
      {"ARCHIVE", mail::v1::POP_RETRIEVAL_ACTION_ARCHIVE},
      {"Delete", mail::v1::POP_RETRIEVAL_ACTION_DELETE},
      {"2", mail::v1::POP_RETRIEVAL_ACTION_ARCHIVE},
  };
  for (const auto& a : actions) {
    fake_.updates.clear();
    Outcome o = Run(std::string("Set-CASMailbox alice -PopRetrievalAction ") + a.written);
    EXPECT_TRUE(o.ok) << a.written << ": " << o.err;
    EXPECT_EQ(OnlyUpdate().pop_retrieval_action(), a.action) << a.written;
  }
  fake_.updates.clear();
  EXPECT_TRUE(Run("Set-CASMailbox alice -PopDownloadScope fromnow").ok);
  EXPECT_EQ(OnlyUpdate().pop_download_scope(), mail::v1::POP_DOWNLOAD_SCOPE_FROM_NOW);
  fake_.updates.clear();
  EXPECT_TRUE(Run("Set-CASMailbox alice -PopDownloadScope AllMail").ok);
  const mail::v1::MailboxUpdate u = OnlyUpdate();
  ASSERT_TRUE(u.has_pop_download_scope());  // The default value is still sent.
  EXPECT_EQ(u.pop_download_scope(), mail::v1::POP_DOWNLOAD_SCOPE_ALL_MAIL);
}

TEST_F(CasMailboxCmdletsTest, BadValuesAreRefusedBeforeAnyCall) {
  fake_.Add("alice");
  Outcome o = Run("Set-CASMailbox alice -PopDownloadScope Sometimes");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "Set-CASMailbox: Cannot bind parameter 'PopDownloadScope'. Cannot convert value "
            "\"Sometimes\" to type \"PopDownloadScope\". Error: \"Unable to match the identifier "
            "name Sometimes to a valid enumerator name. Specify one of the following enumerator "
            "names and try again: AllMail, FromNow\"\n");
  o = Run("Set-CASMailbox alice -PopRetrievalAction Shred");
  EXPECT_EQ(o.err,
            "Set-CASMailbox: Cannot bind parameter 'PopRetrievalAction'. Cannot convert value "
            "\"Shred\" to type \"PopRetrievalAction\". Error: \"Unable to match the identifier "
            "name Shred to a valid enumerator name. Specify one of the following enumerator "
            "names and try again: Keep, MarkRead, Archive, Delete\"\n");
  o = Run("Set-CASMailbox alice -PopRetrievalAction 4");
  EXPECT_NE(o.err.find("Cannot convert value \"4\" to type \"PopRetrievalAction\""),
            std::string::npos)
      << o.err;
  o = Run("Set-CASMailbox alice -PopEnabled maybe");
  EXPECT_EQ(o.err,
            "Set-CASMailbox: Cannot process argument transformation on parameter 'PopEnabled'. "
            "Cannot convert value \"maybe\" to type \"System.Boolean\". Boolean parameters "
            "accept only Boolean values and numbers, such as $True, $False, 1 or 0.\n");
  o = Run("Set-CASMailbox alice -PopEnabled $null");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Set-CASMailbox: Cannot process argument transformation on parameter 'PopEnabled'. "
            "Cannot convert value \"\" to type \"System.Boolean\". Boolean parameters accept "
            "only Boolean values and numbers, such as $True, $False, 1 or 0.\n");
  o = Run("Set-CASMailbox alice -ImapEnabled");
  EXPECT_EQ(o.err,
            "Set-CASMailbox: Missing an argument for parameter 'ImapEnabled'. Specify a parameter "
            "of type 'System.Boolean' and try again.\n");
  o = Run("Set-CASMailbox alice -PopDownloadScope $null");
  EXPECT_EQ(o.err,
            "Set-CASMailbox: Cannot bind parameter 'PopDownloadScope'. Cannot convert null to "
            "type \"PopDownloadScope\" due to enumeration values that are not valid. Specify one "
            "of the following enumeration values and try again. The possible enumeration values "
            "are \"AllMail,FromNow\".\n");
  o = Run("Set-CASMailbox alice -Pop $true");
  EXPECT_EQ(o.err.rfind("Set-CASMailbox: Parameter cannot be processed because the parameter "
                        "name 'Pop' is ambiguous.",
                        0),
            0u)
      << o.err;
  o = Run("Set-CASMailbox -PopEnabled $false");
  EXPECT_EQ(o.err,
            "Set-CASMailbox: Cannot process command because of one or more missing mandatory "
            "parameters: Identity.\n");
  EXPECT_TRUE(fake_.updates.empty());
  EXPECT_TRUE(fake_.authorization.empty());  // Nothing reached the store.
}

TEST_F(CasMailboxCmdletsTest, PopFoldersReplaceTheListAndMustNotBeEmpty) {
  fake_.Add("alice");
  Outcome o = Run("Set-CASMailbox alice -PopFolders 'Inbox','Deleted Items',Junk");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(Folders(OnlyUpdate().pop_folders()),
            (std::vector<std::string>{"Inbox", "Deleted Items", "Junk"}));
  fake_.updates.clear();
  o = Run("Set-CASMailbox alice -PopFolders Inbox");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(Folders(Stored("alice").pop_folders()), std::vector<std::string>{"Inbox"});

  const std::string empty_error =
      "Set-CASMailbox: Cannot validate argument on parameter 'PopFolders'. The argument is null, "
      "empty, or an element of the argument collection contains a null value. POP3 needs at "
      "least one folder, for example -PopFolders Inbox.\n";
  fake_.updates.clear();
  for (const char* line :
       {"Set-CASMailbox alice -PopFolders $null", "Set-CASMailbox alice -PopFolders ''",
        "Set-CASMailbox alice -PopFolders Inbox,' '"}) {
    o = Run(line);
    EXPECT_FALSE(o.ok) << line;
    EXPECT_EQ(o.err, empty_error) << line;
  }
  o = Run("Set-CASMailbox alice -PopFolders Inbox,Junk,inbox");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Set-CASMailbox: The folder 'inbox' is given more than once in -PopFolders.\n");
  o = Run("Set-CASMailbox alice -PopFolders @{Add='Junk'}");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Set-CASMailbox: -PopFolders takes the whole list of folders, for example -PopFolders "
            "Inbox,Junk; @{Add=...; Remove=...} is not supported.\n");
  EXPECT_TRUE(fake_.updates.empty());
  EXPECT_EQ(Folders(Stored("alice").pop_folders()), std::vector<std::string>{"Inbox"});
}

TEST_F(CasMailboxCmdletsTest, ReEnablingPopMovesPopEnabledSince) {
  fake_.Add("alice");
  EXPECT_TRUE(Run("Set-CASMailbox alice -PopEnabled $false").ok);
  EXPECT_TRUE(Run("Set-CASMailbox alice -PopEnabled $true").ok);
  Outcome o = Run("Get-CASMailbox alice | fl PopEnabled,PopEnabledSince");
  EXPECT_EQ(o.out,
            "\n"
            "PopEnabled      : True\n"
            "PopEnabledSince : 1/1/2025 12:00:00 PM\n"
            "\n");
}

TEST_F(CasMailboxCmdletsTest, NothingToChangeWarnsAndUnknownIdentityFails) {
  fake_.Add("alice");
  Outcome o = Run("Set-CASMailbox alice");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "WARNING: The command completed successfully but no settings of 'alice' have been "
            "modified.\n");
  EXPECT_TRUE(fake_.updates.empty());
  EXPECT_EQ(fake_.gets, std::vector<std::string>{"alice"});

  o = Run("Set-CASMailbox nobody");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Set-CASMailbox: The operation couldn't be performed because object 'nobody' "
            "couldn't be found.\n");
  o = Run("Set-CASMailbox nobody -ImapEnabled $false");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Set-CASMailbox: The operation couldn't be performed because object 'nobody' "
            "couldn't be found.\n");
}

TEST_F(CasMailboxCmdletsTest, StoreErrorsAreShownAsTheOtherCmdletsShowThem) {
  fake_.Add("alice");
  fake_.fail_with = Status(StatusCode::INVALID_ARGUMENT, "PopFolders cannot be empty");
  Outcome o = Run("Set-CASMailbox alice -PopFolders Inbox");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Set-CASMailbox: PopFolders cannot be empty\n");
  fake_.fail_with = Status(StatusCode::PERMISSION_DENIED, "read-only token");
  o = Run("Get-CASMailbox");
  EXPECT_EQ(o.err, "Get-CASMailbox: Access denied by the mailbox store at " + endpoint_ +
                       ": read-only token\n");
}

// ---------------------------------------------------------------------------------------------
// Pipelines

TEST_F(CasMailboxCmdletsTest, GetMailboxPipedIntoSetCasMailbox) {
  fake_.Add("alice");
  fake_.Add("bob");
  Outcome o = Run("Get-Mailbox | Set-CASMailbox -PopEnabled $false");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out + o.err, "");
  ASSERT_EQ(fake_.updates.size(), 2u);
  EXPECT_EQ(fake_.updates[0].identity(), "alice");
  EXPECT_EQ(fake_.updates[1].identity(), "bob");
  EXPECT_FALSE(fake_.updates[1].update().pop_enabled());
  EXPECT_FALSE(Stored("alice").pop_enabled());
  EXPECT_FALSE(Stored("bob").pop_enabled());
}

TEST_F(CasMailboxCmdletsTest, GetCasMailboxPipedIntoSetCasMailbox) {
  for (const char* name : {"alice", "albert", "bob"}) fake_.Add(name);
  Outcome o = Run("Get-CASMailbox al* | Set-CASMailbox -PopRetrievalAction Archive");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out + o.err, "");
  ASSERT_EQ(fake_.updates.size(), 2u);
  EXPECT_EQ(fake_.updates[0].identity(), "albert");
  EXPECT_EQ(fake_.updates[1].identity(), "alice");
  EXPECT_EQ(Stored("bob").pop_retrieval_action(), mail::v1::POP_RETRIEVAL_ACTION_KEEP);

  // Filtering on what Get-CASMailbox shows is left to the admin's eyes; piping it on works.
  o = Run("Get-Mailbox alice | Get-CASMailbox | Format-List Name,PopRetrievalAction");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name               : alice\n"
            "PopRetrievalAction : Archive\n"
            "\n");
}

TEST_F(CasMailboxCmdletsTest, APipedObjectThatFailsDoesNotStopTheOthers) {
  for (const char* name : {"alice", "bob", "carol"}) fake_.Add(name);
  fake_.gone_on_update.insert("bob");
  Outcome o = Run("Get-CASMailbox | Set-CASMailbox -ImapEnabled $false");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Set-CASMailbox: The operation couldn't be performed because object 'bob' couldn't "
            "be found.\n");
  ASSERT_EQ(fake_.updates.size(), 3u);
  EXPECT_FALSE(Stored("alice").imap_enabled());
  EXPECT_FALSE(Stored("carol").imap_enabled());
}

// ---------------------------------------------------------------------------------------------
// The program's exit code.

TEST_F(CasMailboxCmdletsTest, ExitCodes) {
  fake_.Add("alice");
  Options options;
  options.mode = Options::Mode::kLine;
  options.endpoint = endpoint_;
  options.line = "Set-CASMailbox alice -PopDownloadScope Sometimes";
  std::ostringstream out, err;
  EXPECT_EQ(RunAdminctl(options, out, err, terminal_), kExitError);
  EXPECT_NE(err.str().find("Cannot convert value \"Sometimes\" to type \"PopDownloadScope\""),
            std::string::npos)
      << err.str();
  options.line = "Set-CASMailbox nobody -PopEnabled $false";
  EXPECT_EQ(RunAdminctl(options, out, err, terminal_), kExitError);
  options.line = "Set-CASMailbox alice -PopEnabled $false";
  EXPECT_EQ(RunAdminctl(options, out, err, terminal_), kExitOk);
  EXPECT_FALSE(Stored("alice").pop_enabled());
  // This fake serves no mail.v1.Settings: -ProtocolSettings cannot be worked out.
  options.line = "Get-CASMailbox alice -ProtocolSettings";
  std::ostringstream ps_out, ps_err;
  EXPECT_EQ(RunAdminctl(options, ps_out, ps_err, terminal_), kExitError);
  EXPECT_NE(ps_err.str().find("Get-CASMailbox: "), std::string::npos) << ps_err.str();
}

}  // namespace
}  // namespace adminctl
