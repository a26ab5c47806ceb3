// Tab completion as pure functions: Complete() over tables of lines (against the real cmdlet
// table and a small fixed one), the Tab key's choice, the common prefix and the candidate
// columns.
#include "adminctl/completion.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/parser/strings.h"

namespace adminctl {
namespace {

using parser::ParamType;
using Candidates = std::vector<std::string>;

struct Case {
  std::string line;
  size_t start;  // npos: the end of the line.
  Candidates candidates;
};

void ExpectCompletions(const CmdletRegistry& registry, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    const Completion got = Complete(registry, c.line);
    EXPECT_EQ(got.candidates, c.candidates) << "line: [" << c.line << "]";
    if (!c.candidates.empty()) {
      const size_t start = c.start == std::string::npos ? c.line.size() : c.start;
      EXPECT_EQ(got.start, start) << "line: [" << c.line << "]";
    }
  }
}

constexpr size_t kEnd = std::string::npos;

const Candidates kPopParameters = {"-PopEnabled", "-PopDownloadScope", "-PopRetrievalAction",
                                   "-PopFolders"};
const Candidates kLoginTypes = {"PlainTextLogin", "PlainTextAuthentication", "SecureLogin"};
const Candidates kBooleans = {"$true", "$false"};

// Against the cmdlets adminctl ships. Prefixes are specific enough that cmdlets added later
// do not change the answers.
TEST(CompleteTest, RealCmdlets) {
  const CmdletRegistry registry = DefaultRegistry();
  ExpectCompletions(
      registry,
      {
          // Cmdlet names, case-insensitively, from the start of a command.
          {"Get-CASM", 0, {"Get-CASMailbox"}},
          {"get-casm", 0, {"Get-CASMailbox"}},
          {"  Set-CASM", 2, {"Set-CASMailbox"}},
          {"Set-PopS", 0, {"Set-PopSettings"}},
          {"Get-Mailbox | Set-CASM", 14, {"Set-CASMailbox"}},
          {"Get-Mailbox|Set-CASM", 12, {"Set-CASMailbox"}},
          {"Get-Mailbox alice; Get-CASM", 19, {"Get-CASMailbox"}},
          {"Get-Mailbox | Format-", 14, {"Format-List", "Format-Table"}},
          // Aliases once something is typed.
          {"Get-Mailbox | f", 14, {"fl", "Format-List", "Format-Table", "ft"}},
          {"Get-Mailbox | FL", 14, {"fl"}},
          // Parameters of the current cmdlet, in schema order.
          {"Set-CASMailbox alice -Pop", 21, kPopParameters},
          {"Set-CASMailbox alice -pop", 21, kPopParameters},
          {"Set-CASMailbox alice -PopR", 21, {"-PopRetrievalAction"}},
          {"Get-Mailbox | Set-CASMailbox -Pop", 29, kPopParameters},
          {"Set-CASMailbox -Identity alice -",
           31,
           {"-PopEnabled", "-ImapEnabled", "-SmtpClientAuthenticationDisabled", "-PopDownloadScope",
            "-PopRetrievalAction", "-PopFolders", "-WhatIf"}},
          // Parameters already given are not offered again.
          {"Set-CASMailbox alice -PopEnabled $false -Pop",
           40,
           {"-PopDownloadScope", "-PopRetrievalAction", "-PopFolders"}},
          {"Set-PopSettings -Log", 16, {"-LoginType", "-LogFileLocation"}},
          {"Set-ImapSettings -MaxM", 17, {"-MaxMessageSize"}},
          {"Set-PopSettings -MaxM", kEnd, {}},
          // Enum values after an enum parameter (also written as a unique prefix).
          {"Set-PopSettings -LoginType ", kEnd, kLoginTypes},
          {"Set-ImapSettings -LoginType ", kEnd, kLoginTypes},
          {"Set-PopSettings -Login ", kEnd, kLoginTypes},
          {"Set-PopSettings -LoginType Sec", 27, {"SecureLogin"}},
          {"Set-PopSettings -LoginType plaintext",
           27,
           {"PlainTextLogin", "PlainTextAuthentication"}},
          {"Set-PopSettings -LoginType:", kEnd, kLoginTypes},
          {"Set-PopSettings -LoginType:Pl", 27, {"PlainTextLogin", "PlainTextAuthentication"}},
          {"Set-CASMailbox alice -PopDownloadScope ", kEnd, {"AllMail", "FromNow"}},
          // The mailbox administration cmdlets.
          {"Disable-Mai", 0, {"Disable-Mailbox"}},
          {"Get-MailboxF", 0, {"Get-MailboxFolderStatistics"}},
          {"Get-ClientA", 0, {"Get-ClientAccessDnsRecords"}},
          {"Get-MailDns", 0, {"Get-MailDnsRecords"}},
          {"Get-CASMailbox -Fi", 15, {"-Filter"}},
          {"Disable-Mailbox -Identity alice -", 32, {"-Confirm", "-WhatIf"}},
          {"Get-MailboxFolderStatistics alice -FolderScope Sent", 47, {"SentItems"}},
          {"Set-CASMailbox alice -PopRetrievalAction m", 41, {"MarkRead"}},
          {"Set-PopSettings -MessageRetrievalSortOrder D", 43, {"Descending"}},
          // $true/$false after a Boolean parameter; typed with or without the '$'.
          {"Set-CASMailbox alice -PopEnabled ", kEnd, kBooleans},
          {"Set-CASMailbox alice -PopEnabled $f", 33, {"$false"}},
          {"Set-CASMailbox alice -PopEnabled T", 33, {"$true"}},
          {"Set-Mailbox alice -AccountDisabled:", kEnd, kBooleans},
          // A switch takes no separate value; written -Switch: it does.
          {"Remove-Mailbox alice -Confirm ", kEnd, {}},
          {"Remove-Mailbox alice -Confirm:", kEnd, kBooleans},
          {"Remove-Mailbox alice -Confirm:$f", 30, {"$false"}},
          // Nothing to offer.
          {"Set-PopSettings -Banner ", kEnd, {}},
          {"Set-PopSettings -LoginType SecureLogin ", kEnd, {}},
          {"Set-CASMailbox alice ", kEnd, {}},
          {"Get-Nothing -", kEnd, {}},
          {"Set-CASMailbox alice -NoSuch", kEnd, {}},
          {"Set-CASMailbox alice -NoSuch ", kEnd, {}},
          {"Set-PopSettings -LoginType 'Sec", kEnd, {}},
          {"Set-PopSettings -LoginType \"Sec", kEnd, {}},
          {"Set-PopSettings -LoginType 'Sec'", kEnd, {}},
          {"Get-Mailbox # Get-CASM", kEnd, {}},
          {"Get-Mailbox # -", kEnd, {}},
          {"Set-Mailbox a -EmailAddresses @{Add=", kEnd, {}},
          {"Set-Mailbox a -EmailAddresses @{Add=Get-CASM", kEnd, {}},
          {"Set-CASMailbox a -PopFolders Inbox,", kEnd, {}},
          {"Set-Mailbox a -Password (ConvertTo-SecureString -", kEnd, {}},
          {"Get-Mailbox -ResultSize -1", kEnd, {}},
          {"-Pop", kEnd, {}},
          {"$tr", kEnd, {}},
      });
}

TEST(CompleteTest, EmptyLineListsEveryCmdletButNoAlias) {
  const CmdletRegistry registry = DefaultRegistry();
  const Completion c = Complete(registry, "");
  EXPECT_EQ(c.start, 0u);
  EXPECT_EQ(c.candidates.size(), registry.cmdlets().size());
  for (const std::string& name : c.candidates) {
    ASSERT_NE(registry.Find(name), nullptr) << name;
    EXPECT_EQ(registry.Find(name)->schema.name, name);
  }
  EXPECT_TRUE(std::is_sorted(c.candidates.begin(), c.candidates.end(),
                             [](const std::string& a, const std::string& b) {
                               return parser::AsciiLower(a) < parser::AsciiLower(b);
                             }));
  EXPECT_EQ(Complete(registry, "Get-Mailbox | ").candidates, c.candidates);
}

// A small fixed table: nesting, aliases of parameters, and a cmdlet without help.
CmdletRegistry TestRegistry() {
  CmdletRegistry registry;
  registry.Add(Cmdlet{
      .schema = {"Get-Widget",
                 {
                     {.name = "Identity", .position = 0},
                     {.name = "Color",
                      .type = ParamType::kEnum,
                      .aliases = {"Colour"},
                      .enum_values = {"Red", "Green", "Blue"}},
                     {.name = "Shiny", .type = ParamType::kBool},
                     {.name = "Force", .type = ParamType::kSwitch},
                 }},
      .aliases = {"gw"},
  });
  registry.Add(Cmdlet{.schema = {"Get-Gadget", {{.name = "Name", .position = 0}}}});
  registry.Add(Cmdlet{.schema = {"Set-Widget", {{.name = "Label"}}}});
  return registry;
}

TEST(CompleteTest, FixedTable) {
  const CmdletRegistry registry = TestRegistry();
  ExpectCompletions(registry,
                    {
                        {"", 0, {"Get-Gadget", "Get-Widget", "Set-Widget"}},
                        {"g", 0, {"Get-Gadget", "Get-Widget", "gw"}},
                        {"Get-", 0, {"Get-Gadget", "Get-Widget"}},
                        {"GW", 0, {"gw"}},
                        {"gw -", 3, {"-Identity", "-Color", "-Shiny", "-Force"}},
                        // A parameter alias offers the canonical name.
                        {"gw -Colou", 3, {"-Color"}},
                        {"gw -Colour ", kEnd, {"Red", "Green", "Blue"}},
                        {"gw -c ", kEnd, {"Red", "Green", "Blue"}},
                        {"gw -Colour r", 11, {"Red"}},
                        {"gw -Colour:G", 11, {"Green"}},
                        {"gw -Shiny:", kEnd, kBooleans},
                        {"gw -Force:$", 10, kBooleans},
                        {"gw -Force ", kEnd, {}},
                        // After a parenthesis, a new command; after it closes, the outer one.
                        {"gw (Get-Ga", 4, {"Get-Gadget"}},
                        {"gw (Get-Gadget -", 15, {"-Name"}},
                        {"gw (Get-Gadget x) -C", 18, {"-Color"}},
                        {"gw (Get-Gadget x) -Color ", kEnd, {"Red", "Green", "Blue"}},
                        {"Get-Gadget x | gw -Color B", 25, {"Blue"}},
                        // A quoted command name is not a cmdlet.
                        {"'gw' -", kEnd, {}},
                        // A string parameter has no values to offer.
                        {"Set-Widget -Label:", kEnd, {}},
                        {"Set-Widget -Label ", kEnd, {}},
                    });
}

TEST(ChooseTabActionTest, OneCandidateIsCompletedWithASpace) {
  const TabAction a = ChooseTabAction("get-casm", {0, {"Get-CASMailbox"}});
  EXPECT_EQ(a.kind, TabAction::Kind::kReplace);
  EXPECT_EQ(a.replacement, "Get-CASMailbox ");
}

TEST(ChooseTabActionTest, CommonPrefixLongerThanTypedIsInserted) {
  const TabAction a = ChooseTabAction("x -P", {2, {"-PopEnabled", "-PopFolders"}});
  EXPECT_EQ(a.kind, TabAction::Kind::kReplace);
  EXPECT_EQ(a.replacement, "-Pop");
}

TEST(ChooseTabActionTest, NothingMoreToTypeListsTheCandidates) {
  EXPECT_EQ(ChooseTabAction("x -Pop", {2, {"-PopEnabled", "-PopFolders"}}).kind,
            TabAction::Kind::kList);
  // Same length, different case: listing, not re-spelling what was typed.
  EXPECT_EQ(ChooseTabAction("x -pop", {2, {"-PopEnabled", "-PopFolders"}}).kind,
            TabAction::Kind::kList);
  EXPECT_EQ(ChooseTabAction("", {0, {"Get-Mailbox", "Set-Mailbox"}}).kind, TabAction::Kind::kList);
}

TEST(ChooseTabActionTest, NoCandidatesDoesNothing) {
  EXPECT_EQ(ChooseTabAction("Get-Nothing -", {13, {}}).kind, TabAction::Kind::kNothing);
  // A start past the cursor is ignored rather than trusted.
  EXPECT_EQ(ChooseTabAction("ab", {5, {"x", "y"}}).kind, TabAction::Kind::kNothing);
}

TEST(CommonPrefixTest, CaseInsensitiveSpelledAsTheFirst) {
  EXPECT_EQ(CommonPrefix({}), "");
  EXPECT_EQ(CommonPrefix({"Get-Mailbox"}), "Get-Mailbox");
  EXPECT_EQ(CommonPrefix({"Format-List", "format-table"}), "Format-");
  EXPECT_EQ(CommonPrefix({"fl", "Format-List"}), "f");
  EXPECT_EQ(CommonPrefix({"$true", "$false"}), "$");
  EXPECT_EQ(CommonPrefix({"abc", "xyz"}), "");
}

TEST(FormatCandidatesTest, ColumnsTopToBottom) {
  const Candidates five = {"-PopEnabled", "-ImapEnabled", "-PopDownloadScope",
                           "-PopRetrievalAction", "-PopFolders"};
  // Widest 19 + 2 spaces = 21 per column; 80 columns fit 3, so 2 rows.
  EXPECT_EQ(FormatCandidates(five, 80),
            "-PopEnabled          -PopDownloadScope    -PopFolders\n"
            "-ImapEnabled         -PopRetrievalAction\n");
  // Too narrow for two columns: one per line.
  EXPECT_EQ(FormatCandidates(five, 30),
            "-PopEnabled\n-ImapEnabled\n-PopDownloadScope\n-PopRetrievalAction\n-PopFolders\n");
  // The last column needs no gap after it: (4 + 2) / 3 = 2 columns of 1 + 2.
  EXPECT_EQ(FormatCandidates({"a", "b", "c"}, 4), "a  c\nb\n");
  EXPECT_EQ(FormatCandidates({"wider-than-the-screen"}, 10), "wider-than-the-screen\n");
  EXPECT_EQ(FormatCandidates({}, 80), "");
}

}  // namespace
}  // namespace adminctl
