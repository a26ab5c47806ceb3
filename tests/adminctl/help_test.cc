// Get-Command and Get-Help through the runner (they need no server), the syntax lines and
// help pages built from the schemas, and the written help texts checked against the cmdlets.
#include "adminctl/help.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "adminctl/cmdlet.h"
#include "adminctl/runner.h"

namespace adminctl {
namespace {

using parser::ParamType;

struct Outcome {
  bool ok = false;
  std::string out;
  std::string err;
};

Outcome RunWith(const CmdletRegistry& registry, std::string_view line) {
  CmdletContext context;
  std::ostringstream out, err;
  Runner runner(registry, context, out, err);
  Outcome o;
  o.ok = runner.RunLine(line);
  o.out = out.str();
  o.err = err.str();
  return o;
}

Outcome Exec(std::string_view line) {
  static const CmdletRegistry* registry = new CmdletRegistry(DefaultRegistry());
  return RunWith(*registry, line);
}

// The lines of `text` that start with `prefix`.
std::vector<std::string> LinesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) lines.push_back(line);
  }
  return lines;
}

// The cmdlets whose help was written with them; cmdlets added later may have none yet.
const char* const kDescribed[] = {
    "New-Mailbox",    "Get-Mailbox",     "Set-Mailbox",     "Remove-Mailbox",   "Get-CASMailbox",
    "Set-CASMailbox", "Get-PopSettings", "Set-PopSettings", "Get-ImapSettings", "Set-ImapSettings",
    "Format-List",    "Format-Table",    "Get-Command",     "Get-Help",
    "Get-LogonFailure", "Get-BlockedClient", "Clear-BlockedClient",
};

// ---------------------------------------------------------------------------------------------
// Get-Command

TEST(GetCommandTest, ListsEveryCmdletWithItsSynopsis) {
  Outcome o = Exec("Get-Command");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out.rfind("\nName ", 0), 0u) << o.out;
  const CmdletRegistry registry = DefaultRegistry();
  for (const Cmdlet& cmdlet : registry.cmdlets()) {
    // A cmdlet without a synopsis yet has a row with its name alone.
    std::vector<std::string> rows = LinesStartingWith(o.out, cmdlet.schema.name + " ");
    for (const std::string& row : LinesStartingWith(o.out, cmdlet.schema.name)) {
      if (row == cmdlet.schema.name) rows.push_back(row);
    }
    ASSERT_EQ(rows.size(), 1u) << cmdlet.schema.name << "\n" << o.out;
    const std::string synopsis = Synopsis(cmdlet);
    if (!synopsis.empty()) {
      EXPECT_TRUE(rows[0].ends_with(" " + synopsis)) << rows[0];
    }
  }
}

TEST(GetCommandTest, NameWildcardsVerbAndNoun) {
  Outcome o = Exec("Get-Command *PopSettings");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name            Synopsis\n"
            "----            --------\n"
            "Get-PopSettings Shows the organisation-wide POP3 server settings.\n"
            "Set-PopSettings Changes the organisation-wide POP3 server settings.\n"
            "\n");
  o = Exec("Get-Command -Verb Remove -Noun Mailbox");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(LinesStartingWith(o.out, "Remove-Mailbox ").size(), 1u) << o.out;
  EXPECT_EQ(LinesStartingWith(o.out, "New-").size(), 0u) << o.out;
  o = Exec("gcm -Noun CASMailbox");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(LinesStartingWith(o.out, "Get-CASMailbox ").size(), 1u);
  EXPECT_EQ(LinesStartingWith(o.out, "Set-CASMailbox ").size(), 1u);
  EXPECT_EQ(LinesStartingWith(o.out, "Get-Mailbox ").size(), 0u);
}

TEST(GetCommandTest, AliasesFindTheirCmdlet) {
  Outcome o = Exec("Get-Command fl,ft");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(LinesStartingWith(o.out, "Format-List ").size(), 1u) << o.out;
  EXPECT_EQ(LinesStartingWith(o.out, "Format-Table ").size(), 1u) << o.out;
}

TEST(GetCommandTest, FormatListShowsSyntaxAndAliases) {
  Outcome o = Exec("Get-Command Get-Help | Format-List");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "CommandType : Cmdlet\n"
            "Name        : Get-Help\n"
            "Aliases     : {help}\n"
            "Synopsis    : Shows help for a cmdlet: syntax, parameters, examples.\n"
            "Syntax      : Get-Help [[-Name] <String>] [-Detailed] [-Full] [-Parameter "
            "<String>]\n"
            "\n");
}

TEST(GetCommandTest, UnknownNameIsAnErrorButAnEmptyWildcardIsNot) {
  Outcome o = Exec("Get-Command Get-Nothing");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err,
            "Get-Command: The term 'Get-Nothing' is not recognized as a name of a cmdlet. Run "
            "Get-Command for the list of cmdlets.\n");
  o = Exec("Get-Command Get-Nothing*");
  EXPECT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, "");
  EXPECT_EQ(o.err, "");
  o = Exec("Get-Command -Name @{Add='x'}");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Get-Command: -Name takes names or wildcards such as Get-*, not @{...}.\n");
}

// ---------------------------------------------------------------------------------------------
// Get-Help

TEST(GetHelpTest, PageOfACmdlet) {
  Outcome o = Exec("Get-Help Get-Mailbox");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.err, "");
  EXPECT_EQ(o.out,
            "\n"
            "NAME\n"
            "    Get-Mailbox\n"
            "\n"
            "SYNOPSIS\n"
            "    Shows mailboxes: one by identity, or all that match.\n"
            "\n"
            "SYNTAX\n"
            "    Get-Mailbox [[-Identity] <String>] [-ResultSize <Unlimited>]\n"
            "                [-Filter <String>]\n"
            "\n"
            "DESCRIPTION\n"
            "    Shows a table of Name, Alias, ServerName and ProhibitSendQuota. Pipe it to\n"
            "    Format-List to see every property: addresses, quotas, size, item count, last\n"
            "    logon and whether the account is disabled.\n"
            "\n"
            "REMARKS\n"
            "    For parameters and examples, type: \"Get-Help Get-Mailbox -Detailed\".\n"
            "    For one parameter, type: \"Get-Help Get-Mailbox -Parameter <name>\".\n"
            "\n");
  // Names and aliases are case-insensitive.
  EXPECT_EQ(Exec("get-help GET-MAILBOX").out, o.out);
  EXPECT_EQ(Exec("help Get-Mailbox").out, o.out);
}

TEST(GetHelpTest, DetailedAddsEveryParameterAndExamples) {
  Outcome o = Exec("Get-Help Get-Mailbox -Detailed");
  ASSERT_TRUE(o.ok) << o.err;
  const std::string parameters =
      "PARAMETERS\n"
      "    -Identity <String>\n"
      "        The mailbox: its name, any of its email addresses, its GUID or its id. A\n"
      "        wildcard (al*, *@example.test) lists every mailbox whose name, address\n"
      "        or display name matches. Without it, every mailbox is listed in name\n"
      "        order.\n"
      "\n"
      "        Required?                    false\n"
      "        Position?                    0\n"
      "        Default value                All mailboxes\n"
      "        Accept pipeline input?       true (ByPropertyName)\n"
      "\n"
      "    -ResultSize <Unlimited>\n"
      "        The most mailboxes to return, or Unlimited for all of them. When the\n"
      "        default of 1000 cuts the list, a warning says so.\n"
      "\n"
      "        Required?                    false\n"
      "        Position?                    named\n"
      "        Default value                1000\n"
      "        Accept pipeline input?       false\n"
      "\n"
      "    -Filter <String>\n";
  EXPECT_NE(o.out.find(parameters), std::string::npos) << o.out;
  const std::string examples =
      "EXAMPLES\n"
      "    -------------------------- Example 1 --------------------------\n"
      "\n"
      "    [PS] casmail> Get-Mailbox\n"
      "\n"
      "    Lists the first 1000 mailboxes.\n"
      "\n";
  EXPECT_NE(o.out.find(examples), std::string::npos) << o.out;
  EXPECT_EQ(o.out.find("REMARKS"), std::string::npos);
  EXPECT_EQ(Exec("Get-Help Get-Mailbox -Full").out, o.out);
}

TEST(GetHelpTest, DetailedShowsTypesDefaultsAndValues) {
  Outcome o = Exec("Get-Help Set-CASMailbox -Detailed");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_NE(o.out.find("    -PopEnabled <Boolean>\n"), std::string::npos);
  EXPECT_NE(o.out.find("        Default value                $true\n"), std::string::npos);
  EXPECT_NE(o.out.find("        Accepted values              $true, $false\n"), std::string::npos);
  EXPECT_NE(o.out.find("    -PopDownloadScope <PopDownloadScope>\n"), std::string::npos);
  EXPECT_NE(o.out.find("        Accepted values              AllMail, FromNow\n"),
            std::string::npos);
  EXPECT_NE(o.out.find("    -Identity <String>\n"), std::string::npos);
  EXPECT_NE(o.out.find("        Required?                    true\n"), std::string::npos);
  EXPECT_NE(o.out.find("    -PopFolders <String[]>\n"), std::string::npos);
  EXPECT_NE(o.out.find("Example 3"), std::string::npos);

  o = Exec("Get-Help New-Mailbox -Detailed");
  EXPECT_NE(o.out.find("    -Password <SecureString>\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("        Required?                    true (asked for on a terminal if "
                       "left out)\n"),
            std::string::npos)
      << o.out;
  EXPECT_NE(o.out.find("        Default value                <Name>@<default accepted "
                       "domain>\n"),
            std::string::npos)
      << o.out;
  o = Exec("Get-Help Remove-Mailbox -Detailed");
  EXPECT_NE(o.out.find("    -Confirm [<SwitchParameter>]\n"), std::string::npos) << o.out;
}

TEST(GetHelpTest, LoginTypeExplainsEveryValue) {
  for (const auto& [cmdlet, port, tls_port, starttls] :
       {std::tuple{"Set-PopSettings", "110", "995", "STLS"},
        std::tuple{"Set-ImapSettings", "143", "993", "STARTTLS"}}) {
    Outcome o = Exec(std::string("Get-Help ") + cmdlet + " -Parameter LoginType");
    ASSERT_TRUE(o.ok) << o.err;
    // The help is wrapped and aligned; compare with every run of blanks made one space.
    std::string flat;
    for (char c : o.out) {
      const bool blank = c == ' ' || c == '\n';
      if (!blank) {
        flat += c;
      } else if (!flat.empty() && flat.back() != ' ') {
        flat += ' ';
      }
    }
    EXPECT_EQ(o.out.rfind("\n    -LoginType <LoginOptions>\n", 0), 0u) << o.out;
    EXPECT_NE(flat.find("SecureLogin (3, the default): no login before TLS. On port " +
                        std::string(port) + " a client must send " + starttls + " first"),
              std::string::npos)
        << flat;
    EXPECT_NE(flat.find("PlainTextAuthentication (2): before TLS, only SCRAM-SHA-256 is "
                        "offered"),
              std::string::npos)
        << flat;
    EXPECT_NE(flat.find("PlainTextLogin (1): every login is allowed before TLS, so passwords "
                        "may cross the network in clear text on port " +
                        std::string(port)),
              std::string::npos)
        << flat;
    EXPECT_NE(flat.find("On port " + std::string(tls_port)), std::string::npos) << flat;
    EXPECT_NE(flat.find("Default value SecureLogin"), std::string::npos) << flat;
    EXPECT_NE(flat.find("Accepted values PlainTextLogin, PlainTextAuthentication, SecureLogin"),
              std::string::npos)
        << flat;
  }
}

TEST(GetHelpTest, ParameterWildcards) {
  Outcome o = Exec("Get-Help Set-CASMailbox -Parameter Pop*");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(LinesStartingWith(o.out, "    -Pop").size(), 4u) << o.out;
  o = Exec("Get-Help Set-CASMailbox -Parameter Nothing");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err, "Get-Help: No parameter matches criteria Nothing.\n");
  o = Exec("Get-Help -Parameter LoginType");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Get-Help: Give the cmdlet too, for example: Get-Help Set-PopSettings -Parameter "
            "LoginType.\n");
}

TEST(GetHelpTest, AliasesSection) {
  Outcome o = Exec("Get-Help fl");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out.rfind("\nNAME\n    Format-List\n", 0), 0u) << o.out;
  EXPECT_NE(o.out.find("\nALIASES\n    fl\n"), std::string::npos) << o.out;
}

TEST(GetHelpTest, WildcardListsMatchingCmdlets) {
  Outcome o = Exec("Get-Help *PopSettings");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "Name            Synopsis\n"
            "----            --------\n"
            "Get-PopSettings Shows the organisation-wide POP3 server settings.\n"
            "Set-PopSettings Changes the organisation-wide POP3 server settings.\n"
            "\n");
  // One match: its page.
  EXPECT_EQ(Exec("Get-Help Set-CASMail*").out, Exec("Get-Help Set-CASMailbox").out);
}

TEST(GetHelpTest, UnknownCmdlet) {
  Outcome o = Exec("Get-Help Get-Nothing");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.err,
            "Get-Help: Get-Help could not find Get-Nothing in a help file in this session. Run "
            "Get-Command for the list of cmdlets.\n");
  EXPECT_FALSE(Exec("Get-Help Get-Nothing*").ok);
}

TEST(GetHelpTest, WithoutANameExplainsHelp) {
  Outcome o = Exec("Get-Help");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out, HelpOverview());
  EXPECT_NE(o.out.find("Get-Help <cmdlet> -Detailed"), std::string::npos);
  EXPECT_NE(o.out.find("Tab"), std::string::npos);
}

// A cmdlet without written help (as new ones are until someone writes it) still gets its
// syntax and parameters from the schema.
TEST(GetHelpTest, CmdletWithoutHelpTextUsesTheSchema) {
  CmdletRegistry registry;
  RegisterHelpCmdlets(&registry);
  registry.Add(Cmdlet{
      .schema = {"Get-Widget",
                 {
                     {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
                     {.name = "Color",
                      .type = ParamType::kEnum,
                      .aliases = {"Colour"},
                      .enum_values = {"Red", "Green"}},
                     {.name = "Size", .type = ParamType::kSize},
                     {.name = "Force", .type = ParamType::kSwitch},
                 }},
      .aliases = {"gw"},
  });
  Outcome o = RunWith(registry, "Get-Help gw");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "NAME\n"
            "    Get-Widget\n"
            "\n"
            "SYNOPSIS\n"
            "    No help has been written for Get-Widget yet; the syntax and parameters below\n"
            "    come from the cmdlet itself.\n"
            "\n"
            "SYNTAX\n"
            "    Get-Widget [-Identity] <String> [-Color {Red | Green}] [-Size <Unlimited>]\n"
            "               [-Force]\n"
            "\n"
            "ALIASES\n"
            "    gw\n"
            "\n"
            "REMARKS\n"
            "    For parameters and examples, type: \"Get-Help Get-Widget -Detailed\".\n"
            "    For one parameter, type: \"Get-Help Get-Widget -Parameter <name>\".\n"
            "\n");
  o = RunWith(registry, "Get-Help Get-Widget -Parameter Colo*");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(o.out,
            "\n"
            "    -Color <Color>\n"
            "        No description has been written for this parameter yet.\n"
            "\n"
            "        Required?                    false\n"
            "        Position?                    named\n"
            "        Default value                None\n"
            "        Accept pipeline input?       false\n"
            "        Accepted values              Red, Green\n"
            "        Aliases                      Colour\n"
            "\n");
  o = RunWith(registry, "Get-Help Get-Widget -Detailed");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_NE(o.out.find("    -Identity <String>\n"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("        Accept pipeline input?       true (ByPropertyName)\n"),
            std::string::npos);
  EXPECT_NE(o.out.find("    -Force [<SwitchParameter>]\n"), std::string::npos);
  EXPECT_EQ(o.out.find("EXAMPLES"), std::string::npos);
  o = RunWith(registry, "Get-Command");
  ASSERT_TRUE(o.ok) << o.err;
  EXPECT_EQ(LinesStartingWith(o.out, "Get-Widget").at(0), "Get-Widget");
}

// ---------------------------------------------------------------------------------------------
// Syntax and wrapping

TEST(SyntaxTextTest, PowerShellShapes) {
  const CmdletRegistry registry = DefaultRegistry();
  EXPECT_EQ(SyntaxText(registry.Find("Get-Mailbox")->schema, 1000),
            "Get-Mailbox [[-Identity] <String>] [-ResultSize <Unlimited>] [-Filter <String>]");
  EXPECT_EQ(SyntaxText(registry.Find("Remove-Mailbox")->schema),
            "Remove-Mailbox [-Identity] <String> [-Confirm]");
  // Positional first, then mandatory named, then the rest.
  EXPECT_EQ(SyntaxText(registry.Find("New-Mailbox")->schema, 1000),
            "New-Mailbox [-Name] <String> -Password <SecureString> [-DisplayName <String>] "
            "[-PrimarySmtpAddress <String>]");
  EXPECT_EQ(SyntaxText(registry.Find("New-Mailbox")->schema, 60),
            "New-Mailbox [-Name] <String> -Password <SecureString>\n"
            "            [-DisplayName <String>]\n"
            "            [-PrimarySmtpAddress <String>]");
  EXPECT_EQ(SyntaxText(registry.Find("Format-Table")->schema),
            "Format-Table [[-Property] <String[]>] [-AutoSize] [-Wrap]");
  EXPECT_EQ(SyntaxText(registry.Find("Set-CASMailbox")->schema, 1000),
            "Set-CASMailbox [-Identity] <String> [-PopEnabled <Boolean>] [-ImapEnabled <Boolean>] "
            "[-SmtpClientAuthenticationDisabled <Boolean>] [-PopDownloadScope {AllMail | "
            "FromNow}] [-PopRetrievalAction {Keep | MarkRead | Archive | Delete}] [-PopFolders "
            "<String[]>] [-WhatIf]");
  EXPECT_EQ(SyntaxText({"Get-Nothing", {}}), "Get-Nothing");
}

TEST(WrapTextTest, ParagraphsAndListItems) {
  EXPECT_EQ(WrapText("one two three four", 2, 12), "  one two\n  three four\n");
  EXPECT_EQ(WrapText("a\n\nb", 4, 80), "    a\n\n    b\n");
  EXPECT_EQ(WrapText("Values:\n  First: aaa bbb ccc\n  Second", 0, 14),
            "Values:\n  First: aaa\n    bbb ccc\n  Second\n");
  EXPECT_EQ(WrapText("averyveryverylongword x", 0, 8), "averyveryverylongword\nx\n");
}

// ---------------------------------------------------------------------------------------------
// The written texts

TEST(HelpTextTest, EveryTextNamesARealCmdletAndParameters) {
  const CmdletRegistry registry = DefaultRegistry();
  for (const CmdletHelp& help : AllCmdletHelp()) {
    const Cmdlet* cmdlet = registry.Find(help.name);
    ASSERT_NE(cmdlet, nullptr) << help.name;
    EXPECT_EQ(cmdlet->schema.name, help.name);
    EXPECT_FALSE(help.synopsis.empty()) << help.name;
    EXPECT_LE(help.synopsis.size(), kMaxSynopsis) << help.name;
    EXPECT_EQ(help.synopsis.find('\n'), std::string::npos) << help.name;
    for (const ParameterHelp& p : help.parameters) {
      bool found = false;
      for (const parser::ParameterSpec& spec : cmdlet->schema.parameters) {
        found = found || spec.name == p.name;
      }
      EXPECT_TRUE(found) << help.name << " has no parameter " << p.name;
      EXPECT_FALSE(p.description.empty()) << help.name << " -" << p.name;
    }
  }
}

TEST(HelpTextTest, EveryParameterOfADescribedCmdletIsDescribed) {
  const CmdletRegistry registry = DefaultRegistry();
  for (const char* name : kDescribed) {
    const Cmdlet* cmdlet = registry.Find(name);
    ASSERT_NE(cmdlet, nullptr) << name;
    const CmdletHelp* help = FindCmdletHelp(name);
    ASSERT_NE(help, nullptr) << name;
    EXPECT_FALSE(help->examples.empty()) << name;
    for (const parser::ParameterSpec& spec : cmdlet->schema.parameters) {
      EXPECT_NE(help->FindParameter(spec.name), nullptr)
          << name << " -" << spec.name << " has no help text (help_text.cc)";
    }
  }
}

TEST(HelpTextTest, PagesFitTheWidth) {
  const CmdletRegistry registry = DefaultRegistry();
  for (const char* name : kDescribed) {
    const std::string page = RenderHelp(*registry.Find(name), true);
    std::istringstream in(page);
    for (std::string line; std::getline(in, line);) {
      // Example commands are shown whole, as they would be typed.
      if (line.rfind("    [PS] casmail> ", 0) == 0) continue;
      EXPECT_LE(line.size(), kHelpWidth) << name << ": " << line;
    }
  }
}

}  // namespace
}  // namespace adminctl
