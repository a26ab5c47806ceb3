// adminctl's own command line: options, environment defaults and joining argv into a line.
#include "adminctl/options.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace adminctl {
namespace {

struct Env {
  std::map<std::string, std::string> vars;
  const char* operator()(const char* name) const {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  }
};

Options MustParse(const std::vector<std::string>& args, const Env& env = {}) {
  Options options;
  const std::string error = ParseOptions(args, env, &options);
  EXPECT_EQ(error, "");
  return options;
}

TEST(OptionsTest, NoArgumentsMeansUsage) {
  Options o = MustParse({});
  EXPECT_EQ(o.mode, Options::Mode::kUsage);
  EXPECT_EQ(o.endpoint, "unix:/run/casmail/admin.sock");
  EXPECT_EQ(o.token, "");
}

TEST(OptionsTest, EnvironmentDefaults) {
  Env env{{{"MAIL_ADMIN_ENDPOINT", "127.0.0.1:7401"}, {"MAIL_ADMIN_TOKEN", "tok"}}};
  Options o = MustParse({"Get-Mailbox"}, env);
  EXPECT_EQ(o.endpoint, "127.0.0.1:7401");
  EXPECT_EQ(o.token, "tok");
  // Flags win over the environment.
  o = MustParse({"--endpoint", "unix:/tmp/a.sock", "--token=t2", "Get-Mailbox"}, env);
  EXPECT_EQ(o.endpoint, "unix:/tmp/a.sock");
  EXPECT_EQ(o.token, "t2");
}

TEST(OptionsTest, CmdletWordsAreJoined) {
  Options o = MustParse(
      {"--endpoint=h:1", "Set-Mailbox", "bob", "-DisplayName", "Bob Smith", "-Confirm:$false"});
  EXPECT_EQ(o.mode, Options::Mode::kLine);
  EXPECT_EQ(o.endpoint, "h:1");
  EXPECT_EQ(o.line, "Set-Mailbox bob -DisplayName 'Bob Smith' -Confirm:$false");
}

TEST(OptionsTest, OneWordIsAWholeLine) {
  Options o = MustParse({"Get-Mailbox alice | Format-List *Quota*"});
  EXPECT_EQ(o.line, "Get-Mailbox alice | Format-List *Quota*");
}

TEST(OptionsTest, CommandAndFile) {
  Options o = MustParse({"-c", "Get-Mailbox; Get-Mailbox bob"});
  EXPECT_EQ(o.mode, Options::Mode::kLine);
  EXPECT_EQ(o.line, "Get-Mailbox; Get-Mailbox bob");
  o = MustParse({"--file", "setup.ps1"});
  EXPECT_EQ(o.mode, Options::Mode::kFile);
  EXPECT_EQ(o.file, "setup.ps1");
  o = MustParse({"--file=-"});
  EXPECT_EQ(o.file, "-");
}

TEST(OptionsTest, CmdletParametersAfterTheNameAreNotOptions) {
  Options o = MustParse({"Get-Mailbox", "--token", "x"});
  EXPECT_EQ(o.token, "");
  EXPECT_EQ(o.line, "Get-Mailbox --token x");
  o = MustParse({"--", "--weird"});
  EXPECT_EQ(o.line, "--weird");
}

TEST(OptionsTest, HelpAndVersion) {
  EXPECT_EQ(MustParse({"--help"}).mode, Options::Mode::kHelp);
  EXPECT_EQ(MustParse({"-h"}).mode, Options::Mode::kHelp);
  EXPECT_EQ(MustParse({"--version"}).mode, Options::Mode::kVersion);
}

TEST(OptionsTest, Errors) {
  Options o;
  EXPECT_EQ(ParseOptions({"--endpoint"}, Env{}, &o), "option --endpoint needs a value");
  EXPECT_EQ(ParseOptions({"--bogus"}, Env{}, &o), "unknown option --bogus");
  EXPECT_EQ(ParseOptions({"-c", "Get-Mailbox", "extra"}, Env{}, &o),
            "give a cmdlet line, -c or --file, not more than one of them");
  EXPECT_EQ(ParseOptions({"--endpoint=", "Get-Mailbox"}, Env{}, &o), "the endpoint is empty");
}

TEST(JoinArgumentsTest, Quoting) {
  EXPECT_EQ(QuoteArgument("plain"), "plain");
  EXPECT_EQ(QuoteArgument("a b"), "'a b'");
  EXPECT_EQ(QuoteArgument("it's here"), "'it''s here'");
  EXPECT_EQ(QuoteArgument(""), "''");
  EXPECT_EQ(QuoteArgument("P@ss;word"), "'P@ss;word'");
  EXPECT_EQ(QuoteArgument("a,b"), "a,b");
  EXPECT_EQ(QuoteArgument("@{Add=\"x\"}"), "@{Add=\"x\"}");
  EXPECT_EQ(JoinArguments({"New-Mailbox", "-Name", "a", "-DisplayName", "", "-Password", "p w"}),
            "New-Mailbox -Name a -DisplayName '' -Password 'p w'");
  EXPECT_EQ(JoinArguments({"Get-Mailbox", "|", "fl"}), "Get-Mailbox | fl");
}

}  // namespace
}  // namespace adminctl
