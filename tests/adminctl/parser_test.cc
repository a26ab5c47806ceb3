// Table-driven tests of the lexer and parser: good lines (dumped as a compact tree) and bad
// lines (message and position), plus limits and robustness against arbitrary bytes.
#include "adminctl/parser/parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace adminctl::parser {
namespace {

std::string Dump(const Pipeline& pipeline);

// word -> text, quoted word -> 'text', $var, list -> [a,b], hashtable -> @{k=v;k=v},
// sub-pipeline -> (...).
std::string Dump(const Expression& e) {
  switch (e.kind) {
    case Expression::Kind::kWord:
      return e.quoted ? "'" + e.text + "'" : e.text;
    case Expression::Kind::kVariable:
      return "$" + e.text;
    case Expression::Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < e.items.size(); ++i) out += (i ? "," : "") + Dump(e.items[i]);
      return out + "]";
    }
    case Expression::Kind::kHashtable: {
      std::string out = "@{";
      for (size_t i = 0; i < e.keys.size(); ++i) {
        out += (i ? ";" : "") + e.keys[i] + "=" + Dump(e.items[i]);
      }
      return out + "}";
    }
    case Expression::Kind::kSubPipeline:
      return "(" + Dump(*e.pipeline) + ")";
  }
  return "?";
}

std::string Dump(const Command& c) {
  std::string out = c.name;
  for (const CommandElement& e : c.elements) {
    out += " ";
    if (e.kind == CommandElement::Kind::kParameter) {
      out += "-" + e.parameter_name + (e.has_colon ? ":" : "");
      if (e.value) out += Dump(*e.value);
    } else {
      out += Dump(*e.value);
    }
  }
  return out;
}

std::string Dump(const Pipeline& pipeline) {
  std::string out;
  for (size_t i = 0; i < pipeline.commands.size(); ++i) {
    out += (i ? " | " : "") + Dump(pipeline.commands[i]);
  }
  return out;
}

std::string Dump(const Script& script) {
  std::string out;
  for (size_t i = 0; i < script.pipelines.size(); ++i) {
    out += (i ? " ; " : "") + Dump(script.pipelines[i]);
  }
  return out;
}

struct GoodCase {
  const char* input;
  const char* dump;
};

class ParseGoodTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(ParseGoodTest, Dumps) {
  Result<Script> script = Parse(GetParam().input);
  ASSERT_TRUE(script.ok()) << GetParam().input << " -> " << script.error().message;
  EXPECT_EQ(Dump(script.value()), GetParam().dump) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Lines, ParseGoodTest,
    ::testing::Values(
        GoodCase{"Get-Mailbox", "Get-Mailbox"}, GoodCase{"  get-mailbox  ", "get-mailbox"},
        GoodCase{"Get-Mailbox alice", "Get-Mailbox alice"},
        GoodCase{"Get-Mailbox -Identity alice", "Get-Mailbox -Identity alice"},
        GoodCase{"Get-Mailbox -Identity:alice", "Get-Mailbox -Identity:alice"},
        GoodCase{"Get-Mailbox -Identity: alice", "Get-Mailbox -Identity:alice"},
        GoodCase{"Remove-Mailbox bob -Confirm:$false", "Remove-Mailbox bob -Confirm:$false"},
        GoodCase{"Remove-Mailbox bob -Confirm", "Remove-Mailbox bob -Confirm"},
        GoodCase{"Remove-Mailbox bob -Confirm:", "Remove-Mailbox bob -Confirm:"},
        GoodCase{"Set-Mailbox x -Enabled $TRUE", "Set-Mailbox x -Enabled $TRUE"},
        // Quoting.
        GoodCase{"Set-Mailbox 'a b'", "Set-Mailbox 'a b'"},
        GoodCase{"Set-Mailbox 'it''s'", "Set-Mailbox 'it's'"},
        GoodCase{"Set-Mailbox 'a `n $x \"q\"'", "Set-Mailbox 'a `n $x \"q\"'"},
        GoodCase{"Set-Mailbox \"a b\"", "Set-Mailbox 'a b'"},
        GoodCase{"Set-Mailbox \"say `\"hi`\"\"", "Set-Mailbox 'say \"hi\"'"},
        GoodCase{"Set-Mailbox \"a``b\"", "Set-Mailbox 'a`b'"},
        GoodCase{"Set-Mailbox \"cost `$5\"", "Set-Mailbox 'cost $5'"},
        GoodCase{"Set-Mailbox \"$true and $null\"", "Set-Mailbox '$true and $null'"},
        GoodCase{"Set-Mailbox \"a\"\"b\"", "Set-Mailbox 'a\"b'"},
        GoodCase{"Set-Mailbox \"tab`there\"", "Set-Mailbox 'tab\there'"},
        GoodCase{"Set-Mailbox ''", "Set-Mailbox ''"},
        GoodCase{"Set-Mailbox \"\"", "Set-Mailbox ''"},
        GoodCase{"Set-Mailbox pre'mid'\"post\"", "Set-Mailbox 'premidpost'"},
        GoodCase{"Set-Mailbox '-Name'", "Set-Mailbox '-Name'"},
        GoodCase{"Set-Mailbox a`,b", "Set-Mailbox a,b"},
        // Typographic dashes and quotes pasted from documents.
        GoodCase{"Get-Mailbox \xE2\x80\x93Identity \xE2\x80\x98x y\xE2\x80\x99",
                 "Get-Mailbox -Identity 'x y'"},
        GoodCase{"Get-Mailbox \xE2\x80\x9Cx y\xE2\x80\x9D", "Get-Mailbox 'x y'"},
        // Bare words: addresses, numbers, sizes, wildcards, negative numbers.
        GoodCase{"New-Mailbox alice@example.test", "New-Mailbox alice@example.test"},
        GoodCase{"Set-Mailbox x -ProhibitSendQuota 2GB", "Set-Mailbox x -ProhibitSendQuota 2GB"},
        GoodCase{"Set-Mailbox x -Count -5", "Set-Mailbox x -Count -5"},
        GoodCase{"Get-Mailbox | fl *Quota*", "Get-Mailbox | fl *Quota*"},
        GoodCase{"Get-Mailbox a=b", "Get-Mailbox a=b"},
        GoodCase{"Get-Mailbox --endpoint", "Get-Mailbox --endpoint"},
        GoodCase{"Get-Mailbox x#y", "Get-Mailbox x#y"},
        // Lists.
        GoodCase{"Set-Mailbox x -EmailAddresses a,b,\"c d\"",
                 "Set-Mailbox x -EmailAddresses [a,b,'c d']"},
        GoodCase{"Set-Mailbox x -EmailAddresses a , b", "Set-Mailbox x -EmailAddresses [a,b]"},
        GoodCase{"Format-Table Name,PrimarySmtpAddress", "Format-Table [Name,PrimarySmtpAddress]"},
        GoodCase{"Set-X -L:a,b", "Set-X -L:[a,b]"},
        GoodCase{"Set-X -L $true,$false", "Set-X -L [$true,$false]"},
        // Hashtables.
        GoodCase{"Set-Mailbox x -EmailAddresses @{Add=\"x\",\"y\"; Remove=\"z\"}",
                 "Set-Mailbox x -EmailAddresses @{Add=['x','y'];Remove='z'}"},
        GoodCase{"Set-Mailbox x -E @{}", "Set-Mailbox x -E @{}"},
        GoodCase{"Set-Mailbox x -E @{ Add = a ; }", "Set-Mailbox x -E @{Add=a}"},
        GoodCase{"Set-Mailbox x -E @{Add=a\nRemove=b}", "Set-Mailbox x -E @{Add=a;Remove=b}"},
        GoodCase{"Set-Mailbox x -E @{'Add'=a}", "Set-Mailbox x -E @{Add=a}"},
        GoodCase{"Set-Mailbox x -E:@{Add=a}", "Set-Mailbox x -E:@{Add=a}"},
        // Sub-expressions.
        GoodCase{"New-Mailbox -Password (ConvertTo-SecureString -String 'P@ss1' -AsPlainText "
                 "-Force)",
                 "New-Mailbox -Password (ConvertTo-SecureString -String 'P@ss1' -AsPlainText "
                 "-Force)"},
        // Pipelines, statements and comments.
        GoodCase{"Get-Mailbox | Format-List", "Get-Mailbox | Format-List"},
        GoodCase{"Get-Mailbox|Format-List", "Get-Mailbox | Format-List"},
        GoodCase{"Get-Mailbox | Set-Mailbox -X 1 | Format-Table",
                 "Get-Mailbox | Set-Mailbox -X 1 | Format-Table"},
        GoodCase{"Get-Mailbox; Get-Mailbox bob", "Get-Mailbox ; Get-Mailbox bob"},
        GoodCase{"Get-Mailbox\nGet-Mailbox bob\n", "Get-Mailbox ; Get-Mailbox bob"},
        GoodCase{"Get-Mailbox `\n -Identity bob", "Get-Mailbox -Identity bob"},
        GoodCase{"Get-Mailbox # a comment | Format-List", "Get-Mailbox"},
        GoodCase{"Get-Mailbox '#not a comment'", "Get-Mailbox '#not a comment'"},
        GoodCase{"# only a comment", ""}, GoodCase{"", ""}, GoodCase{" ;; ", ""}));

struct BadCase {
  const char* input;
  const char* message;
  size_t offset;
};

class ParseBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseBadTest, Fails) {
  Result<Script> script = Parse(GetParam().input);
  ASSERT_FALSE(script.ok()) << GetParam().input << " parsed as " << Dump(script.value());
  EXPECT_EQ(script.error().message, GetParam().message) << GetParam().input;
  EXPECT_EQ(script.error().offset, GetParam().offset) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Lines, ParseBadTest,
    ::testing::Values(
        BadCase{"Get-Mailbox 'abc", "The string is missing the terminator: '.", 12},
        BadCase{"Get-Mailbox \"abc", "The string is missing the terminator: \".", 12},
        BadCase{"Get-Mailbox \"abc`\"", "The string is missing the terminator: \".", 12},
        BadCase{"Get-Mailbox 'it''s", "The string is missing the terminator: '.", 12},
        BadCase{"Get-Mailbox |", "An empty pipe element is not allowed.", 13},
        BadCase{"| Get-Mailbox", "An empty pipe element is not allowed.", 0},
        BadCase{"Get-Mailbox | | fl", "An empty pipe element is not allowed.", 14},
        BadCase{"Get-Mailbox a,", "Missing expression after ','.", 13},
        BadCase{"Get-Mailbox a, | fl", "Missing expression after ','.", 13},
        BadCase{"Get-Mailbox ,a", "Missing argument in parameter list.", 12},
        BadCase{"Set-Mailbox -E @{Add", "Missing '=' operator after key in hash literal.", 20},
        BadCase{"Set-Mailbox -E @{Add=", "Missing statement after '=' in hash literal.", 20},
        BadCase{"Set-Mailbox -E @{Add=a", "The hash literal was incomplete.", 15},
        BadCase{"Set-Mailbox -E @{Add=a b}", "Unexpected token 'b' in hash literal.", 23},
        BadCase{"Set-Mailbox -E @{Add=a;add=b}",
                "Duplicate keys 'add' are not allowed in hash literals.", 23},
        BadCase{"Set-Mailbox -E @{=a}", "Missing key before '=' in hash literal.", 17},
        BadCase{"Set-Mailbox -P (ConvertTo-SecureString x", "Missing closing ')' in expression.",
                15},
        BadCase{"Set-Mailbox -P ()", "Expected a cmdlet name (Verb-Noun) but found ')'.", 16},
        BadCase{"Get-Mailbox )", "Unexpected token ')' in expression or statement.", 12},
        BadCase{"Get-Mailbox }", "Unexpected token '}' in expression or statement.", 12},
        BadCase{"Get-Mailbox -Filter {Name -eq 'x'}", "Script blocks ({ ... }) are not supported.",
                20},
        BadCase{"'Get-Mailbox'", "Expected a cmdlet name (Verb-Noun) but found 'Get-Mailbox'.", 0},
        BadCase{"-Name x", "Expected a cmdlet name (Verb-Noun) but found '-Name'.", 0},
        BadCase{"$x", "Expected a cmdlet name (Verb-Noun) but found '$x'.", 0},
        BadCase{"Set-Mailbox -E @{Add=a=b}", "Unexpected token '=' in hash literal.", 22},
        BadCase{"Set-X -A @{a=@{a=@{a=@{a=@{a=@{a=@{a=@{a=@{a=b}}}}}}}}}",
                "The command line nests ( ) or @{ } more than 8 levels deep.", 41}));

TEST(ParserLimitsTest, RejectsA100KiBLine) {
  const std::string line = "Set-Mailbox x -DisplayName " + std::string(100 * 1024, 'a');
  Result<Script> script = Parse(line);
  ASSERT_FALSE(script.ok());
  EXPECT_EQ(script.error().message, "The command line is " + std::to_string(line.size()) +
                                        " bytes long; the limit is 65536 bytes.");
}

TEST(ParserLimitsTest, AcceptsALineJustUnderTheLimit) {
  const std::string prefix = "Set-Mailbox x -DisplayName ";
  const std::string line = prefix + std::string(64 * 1024 - prefix.size(), 'a');
  EXPECT_TRUE(Parse(line).ok());
}

TEST(ParserLimitsTest, RejectsTooManyTokens) {
  std::string line = "Set-Mailbox x -EmailAddresses a";
  for (int i = 0; i < 600; ++i) line += ",a";
  Result<Script> script = Parse(line);
  ASSERT_FALSE(script.ok());
  EXPECT_EQ(script.error().message, "The command line has more than 1000 tokens.");

  ParserLimits limits;
  limits.lexer.max_tokens = 2000;
  EXPECT_TRUE(Parse(line, limits).ok());
}

TEST(ParserPositionTest, ElementsKnowWhereTheyAre) {
  Result<Script> script = Parse("Set-Mailbox  bob -Quota:2GB");
  ASSERT_TRUE(script.ok());
  const Command& c = script.value().pipelines[0].commands[0];
  EXPECT_EQ(c.name_offset, 0u);
  ASSERT_EQ(c.elements.size(), 2u);
  EXPECT_EQ(c.elements[0].offset, 13u);
  EXPECT_EQ(c.elements[1].offset, 17u);
  EXPECT_EQ(c.elements[1].length, 10u);
  EXPECT_EQ(c.elements[1].value->offset, 24u);
}

TEST(RenderErrorTest, PointsAtTheError) {
  const std::string line = "Get-Mailbox -Name 'abc";
  Result<Script> script = Parse(line);
  ASSERT_FALSE(script.ok());
  EXPECT_EQ(RenderError(line, script.error(), "ParserError"),
            "ParserError: The string is missing the terminator: '.\n"
            "At line:1 char:19\n"
            "+ Get-Mailbox -Name 'abc\n"
            "+                   ~~~~\n");
}

TEST(RenderErrorTest, CountsLinesAndWindowsLongLines) {
  const std::string script = "Get-Mailbox\nGet-Mailbox " + std::string(200, 'x') + " |";
  Result<Script> parsed = Parse(script);
  ASSERT_FALSE(parsed.ok());
  const std::string rendered = RenderError(script, parsed.error(), "ParserError", 10);
  EXPECT_NE(rendered.find("At line:11 char:215\n"), std::string::npos) << rendered;
  EXPECT_NE(rendered.find("+ ..."), std::string::npos) << rendered;
  EXPECT_LT(rendered.size(), 400u);
}

// Every prefix of these lines either parses or fails cleanly (no crash, no exception).
TEST(ParserRobustnessTest, EveryPrefixParsesOrFails) {
  const std::vector<std::string> lines = {
      "Set-Mailbox 'a b' -EmailAddresses @{Add=\"x\",'y'; Remove=z} -Confirm:$false | fl *",
      "New-Mailbox -Name a -Password (ConvertTo-SecureString -String 'P''1' -AsPlainText)",
      "Get-Mailbox \xE2\x80\x93Identity \xE2\x80\x9Cx`\"\xE2\x80\x9D # c",
  };
  for (const std::string& line : lines) {
    for (size_t n = 0; n <= line.size(); ++n) {
      Result<Script> r = Parse(std::string_view(line).substr(0, n));
      if (!r.ok()) {
        EXPECT_FALSE(r.error().message.empty());
        EXPECT_LE(r.error().offset, n);
      }
    }
  }
}

TEST(ParserRobustnessTest, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  const std::string alphabet = "ab-$:'\"`,;|(){}@=# \n\t\xE2\x80\x93\x9C";
  for (int round = 0; round < 20000; ++round) {
    std::string line;
    const size_t length = rng() % 40;
    for (size_t i = 0; i < length; ++i) line += alphabet[rng() % alphabet.size()];
    Result<Script> r = Parse(line);
    if (!r.ok()) {
      EXPECT_LE(r.error().offset, line.size()) << line;
    }
  }
}

TEST(ParserRobustnessTest, DeepNestingIsBounded) {
  std::string line = "Set-X -A ";
  for (int i = 0; i < 300; ++i) line += "@{a=";
  Result<Script> r = Parse(line);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "The command line nests ( ) or @{ } more than 8 levels deep.");
}

}  // namespace
}  // namespace adminctl::parser
