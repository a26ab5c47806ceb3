// The interactive shell's line rules: the prompt, the lines that leave, the lines kept in the
// history, and where the history file is.
#include "adminctl/shell_lines.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "adminctl/options.h"

namespace adminctl {
namespace {

TEST(ShellPromptTest, LocalSocketsShowTheProductName) {
  EXPECT_EQ(ShellPrompt(kDefaultEndpoint), "[PS] casmail> ");
  EXPECT_EQ(ShellPrompt("unix:/tmp/x/admin.sock"), "[PS] casmail> ");
  EXPECT_EQ(ShellPrompt("unix-abstract:casmail"), "[PS] casmail> ");
}

TEST(ShellPromptTest, RemoteEndpointsShowTheHost) {
  const std::map<std::string, std::string> cases = {
      {"mail01:7401", "[PS] casmail@mail01> "},
      {"mail01.example.test:7401", "[PS] casmail@mail01.example.test> "},
      {"127.0.0.1:7401", "[PS] casmail@127.0.0.1> "},
      {"dns:///mail01:7401", "[PS] casmail@mail01> "},
      {"dns://10.0.0.53/mail01:7401", "[PS] casmail@mail01> "},
      {"ipv4:10.0.0.5:7401,10.0.0.6:7401", "[PS] casmail@10.0.0.5> "},
      {"ipv6:[::1]:7401", "[PS] casmail@[::1]> "},
      {"[2001:db8::1]:7401", "[PS] casmail@[2001:db8::1]> "},
      {"mail01", "[PS] casmail@mail01> "},
  };
  for (const auto& [endpoint, prompt] : cases) EXPECT_EQ(ShellPrompt(endpoint), prompt) << endpoint;
}

TEST(IsExitCommandTest, ExitAndQuitInAnyCase) {
  for (const char* line :
       {"exit", "quit", "EXIT", "Quit", "  exit  ", "exit;", "quit ; ", "exit\r"}) {
    EXPECT_TRUE(IsExitCommand(line)) << line;
  }
  for (const char* line : {"", "exi", "exit now", "Get-Mailbox; exit", "'exit'", "exits"}) {
    EXPECT_FALSE(IsExitCommand(line)) << line;
  }
}

TEST(KeepInHistoryTest, LinesThatMayHoldAPasswordAreNeverKept) {
  for (const char* line : {
           "New-Mailbox alice -Password 'S3cret!'", "new-mailbox alice -password x",
           "Set-Mailbox alice -Pass x", "Set-Mailbox alice -Pa x", "Set-Mailbox alice -Password:x",
           "Set-Mailbox alice -Password",
           "Set-Mailbox alice -Password (ConvertTo-SecureString -String 'x' -AsPlainText -Force)",
           "$p = ConvertTo-SecureString 'x' -AsPlainText -Force",
           "Set-Mailbox alice -Password (Read-Host -AsSecureString)",
           "Set-Mailbox alice \xE2\x80\x93Password x",  // En dash, as pasted from a web page.
       }) {
    EXPECT_FALSE(KeepInHistory(line)) << line;
  }
}

TEST(KeepInHistoryTest, OrdinaryLinesAreKept) {
  for (const char* line : {
           "Get-Mailbox",
           "Set-CASMailbox alice -PopEnabled $false",
           "Get-Help Set-PopSettings -Parameter LoginType",  // -Parameter is not -Password.
           "Set-PopSettings -LoginType SecureLogin",
           "Get-Mailbox | Format-List -Property *",
       }) {
    EXPECT_TRUE(KeepInHistory(line)) << line;
  }
  for (const char* line : {"", "   ", "\t"})
    EXPECT_FALSE(KeepInHistory(line)) << "[" << line << "]";
}

TEST(HistoryFilePathTest, InTheHomeDirectory) {
  auto env = [](const char* home) {
    return [home](const char* name) -> const char* {
      return std::string(name) == "HOME" ? home : nullptr;
    };
  };
  EXPECT_EQ(HistoryFilePath(env("/home/alice")), "/home/alice/.adminctl_history");
  EXPECT_EQ(HistoryFilePath(env("/root/")), "/root/.adminctl_history");
  EXPECT_EQ(HistoryFilePath(env("")), "");
  EXPECT_EQ(HistoryFilePath(env(nullptr)), "");
}

}  // namespace
}  // namespace adminctl
