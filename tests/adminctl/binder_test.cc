// Binding parsed commands to parameter schemas: name resolution, positional arguments, type
// conversion (booleans in every form, sizes, lists, hashtables, secure strings) and errors.
#include "adminctl/parser/binder.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "adminctl/parser/strings.h"

namespace adminctl::parser {
namespace {

const CommandSchema& TestSchema() {
  static const CommandSchema* schema = new CommandSchema{
      "Set-Thing",
      {
          {.name = "Identity", .mandatory = true, .position = 0, .from_pipeline = true},
          {.name = "DisplayName", .position = 1},
          {.name = "Password", .type = ParamType::kSecureString},
          {.name = "PrimarySmtpAddress"},
          {.name = "ProhibitSendQuota", .type = ParamType::kSize},
          {.name = "PopEnabled", .type = ParamType::kBool, .aliases = {"Pop"}},
          {.name = "ImapEnabled", .type = ParamType::kBool},
          {.name = "Count", .type = ParamType::kInt},
          {.name = "ResultSize", .type = ParamType::kInt, .allow_unlimited = true},
          {.name = "LoginType",
           .type = ParamType::kEnum,
           .enum_values = {"PlainTextLogin", "PlainTextAuthentication", "SecureLogin"}},
          {.name = "EmailAddresses", .type = ParamType::kStringList},
          {.name = "Confirm", .type = ParamType::kSwitch},
          {.name = "Name"},
          {.name = "NameSuffix"},
      }};
  return *schema;
}

Result<BoundCommand> BindLine(std::string_view line, const BindOptions& options = {}) {
  Result<Script> script = Parse(line);
  if (!script.ok()) return script.error();
  return Bind(script.value().pipelines.at(0).commands.at(0), TestSchema(), options);
}

BoundCommand MustBind(std::string_view line) {
  Result<BoundCommand> bound = BindLine(line);
  EXPECT_TRUE(bound.ok()) << line << " -> " << bound.error().message;
  return bound.ok() ? bound.value() : BoundCommand();
}

struct BadCase {
  const char* input;
  const char* message;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.input; }

class BindBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BindBadTest, Fails) {
  Result<BoundCommand> bound = BindLine(GetParam().input);
  ASSERT_FALSE(bound.ok()) << GetParam().input;
  EXPECT_EQ(bound.error().message, GetParam().message) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(
    Lines, BindBadTest,
    ::testing::Values(
        BadCase{"Set-Thing x -Foo 1",
                "A parameter cannot be found that matches parameter name "
                "'Foo'."},
        BadCase{"Set-Thing x -P 1",
                "Parameter cannot be processed because the parameter name 'P' is ambiguous. "
                "Possible matches include: -Password -PrimarySmtpAddress -ProhibitSendQuota "
                "-PopEnabled."},
        BadCase{"Set-Thing x -DisplayName",
                "Missing an argument for parameter 'DisplayName'. Specify a parameter of type "
                "'System.String' and try again."},
        BadCase{"Set-Thing x -DisplayName -Count 1",
                "Missing an argument for parameter 'DisplayName'. Specify a parameter of type "
                "'System.String' and try again."},
        BadCase{"Set-Thing x -DisplayName:",
                "Missing an argument for parameter 'DisplayName'. Specify a parameter of type "
                "'System.String' and try again."},
        BadCase{"Set-Thing x -Confirm:",
                "Missing an argument for parameter 'Confirm'. Specify a parameter of type "
                "'System.Management.Automation.SwitchParameter' and try again."},
        BadCase{"Set-Thing x -PopEnabled maybe",
                "Cannot process argument transformation on parameter 'PopEnabled'. Cannot "
                "convert value \"maybe\" to type \"System.Boolean\". Boolean parameters accept "
                "only Boolean values and numbers, such as $True, $False, 1 or 0."},
        BadCase{"Set-Thing x -Confirm:maybe",
                "Cannot process argument transformation on parameter 'Confirm'. Cannot convert "
                "value \"maybe\" to type \"System.Management.Automation.SwitchParameter\". "
                "Boolean parameters accept only Boolean values and numbers, such as $True, "
                "$False, 1 or 0."},
        BadCase{"Set-Thing x -PopEnabled $maybe",
                "The variable '$maybe' cannot be retrieved because it has not been set. Only "
                "$true, $false and $null are defined; quote values that start with '$'."},
        BadCase{"Set-Thing x -Count abc",
                "Cannot process argument transformation on parameter 'Count'. Cannot convert "
                "value \"abc\" to type \"System.Int32\". Error: \"Input string was not in a "
                "correct format.\""},
        BadCase{"Set-Thing x -Count 99999999999",
                "Cannot process argument transformation on parameter 'Count'. Cannot convert "
                "value \"99999999999\" to type \"System.Int32\". Error: \"Input string was not "
                "in a correct format.\""},
        BadCase{"Set-Thing x -ProhibitSendQuota 2XB",
                "Cannot process argument transformation on parameter 'ProhibitSendQuota'. Cannot "
                "convert value \"2XB\" to type "
                "\"Microsoft.Exchange.Data.Unlimited`1[Microsoft.Exchange.Data."
                "ByteQuantifiedSize]\". Error: \"Give a number with an optional unit (B, KB, MB, "
                "GB, TB), for example 2GB, or Unlimited.\""},
        BadCase{"Set-Thing x -LoginType Secure",
                "Cannot bind parameter 'LoginType'. Cannot convert value \"Secure\" to type "
                "\"LoginType\". Error: \"Unable to match the identifier name Secure to a valid "
                "enumerator name. Specify one of the following enumerator names and try again: "
                "PlainTextLogin, PlainTextAuthentication, SecureLogin\""},
        BadCase{"Set-Thing x -DisplayName a,b",
                "Cannot convert 'System.Object[]' to the type 'System.String' required by "
                "parameter 'DisplayName'. Specified method is not supported."},
        BadCase{"Set-Thing x -DisplayName @{Add=a}",
                "Cannot convert the \"System.Collections.Hashtable\" value of type "
                "\"System.Collections.Hashtable\" to type \"System.String\"."},
        BadCase{"Set-Thing x -EmailAddresses @{Replace=a}",
                "The hash table key 'Replace' is not valid for parameter 'EmailAddresses'. Use "
                "@{Add=...; Remove=...}."},
        BadCase{"Set-Thing x -EmailAddresses @{Add=(Get-Thing)}",
                "Cannot convert \"System.Management.Automation.PSObject\" to a list element for "
                "parameter 'EmailAddresses'."},
        BadCase{"Set-Thing x -DisplayName (Get-Date)",
                "Sub-expressions ( ... ) are supported only for ConvertTo-SecureString; give the "
                "value of parameter 'DisplayName' directly."},
        BadCase{"Set-Thing x -Password (ConvertTo-SecureString 'pw')",
                "ConvertTo-SecureString: only plain text can be converted here; add -AsPlainText "
                "-Force."},
        BadCase{"Set-Thing x -Password (Get-Secret pw)",
                "Only (ConvertTo-SecureString -String '...' -AsPlainText -Force) and (Read-Host "
                "-AsSecureString) are supported inside ( )."},
        BadCase{"Set-Thing x -Name a -name b",
                "Cannot bind parameter because parameter 'Name' is specified more than once. To "
                "provide multiple values to parameters that can accept multiple values, use the "
                "array syntax. For example, \"-parameter value1,value2,value3\"."},
        BadCase{"Set-Thing x -Pop 1 -PopEnabled 0",
                "Cannot bind parameter because parameter 'PopEnabled' is specified more than "
                "once. To provide multiple values to parameters that can accept multiple values, "
                "use the array syntax. For example, \"-parameter value1,value2,value3\"."},
        BadCase{"Set-Thing x y z",
                "A positional parameter cannot be found that accepts argument 'z'."},
        BadCase{"Set-Thing -Count 1",
                "Cannot process command because of one or more missing mandatory parameters: "
                "Identity."},
        BadCase{"Set-Thing ''",
                "Cannot bind argument to parameter 'Identity' because it is an empty string."},
        BadCase{"Set-Thing $null",
                "Cannot bind argument to parameter 'Identity' because it is "
                "null."}));

struct BoolCase {
  const char* value;
  bool expected;
};

// Test names show the value, not the struct's bytes (which include a pointer).
void PrintTo(const BoolCase& c, std::ostream* os) { *os << c.value; }

class BindBoolTest : public ::testing::TestWithParam<BoolCase> {};

TEST_P(BindBoolTest, SeparateArgument) {
  BoundCommand b = MustBind(std::string("Set-Thing x -PopEnabled ") + GetParam().value);
  EXPECT_EQ(b.GetBool("PopEnabled"), std::optional<bool>(GetParam().expected));
}

TEST_P(BindBoolTest, ColonForm) {
  BoundCommand b = MustBind(std::string("Set-Thing x -PopEnabled:") + GetParam().value);
  EXPECT_EQ(b.GetBool("PopEnabled"), std::optional<bool>(GetParam().expected));
}

TEST_P(BindBoolTest, Switch) {
  BoundCommand b = MustBind(std::string("Set-Thing x -Confirm:") + GetParam().value);
  EXPECT_EQ(b.GetSwitch("Confirm", !GetParam().expected), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(AllForms, BindBoolTest,
                         ::testing::Values(BoolCase{"$true", true}, BoolCase{"$TRUE", true},
                                           BoolCase{"$True", true}, BoolCase{"true", true},
                                           BoolCase{"TRUE", true}, BoolCase{"1", true},
                                           BoolCase{"'true'", true}, BoolCase{"\"$true\"", true},
                                           BoolCase{"$false", false}, BoolCase{"$FALSE", false},
                                           BoolCase{"false", false}, BoolCase{"False", false},
                                           BoolCase{"0", false}, BoolCase{"\"false\"", false}));

TEST(BindTest, NullBoolIsKeptAsNull) {
  BoundCommand b = MustBind("Set-Thing x -PopEnabled $null");
  ASSERT_TRUE(b.Has("PopEnabled"));
  EXPECT_TRUE(b.Find("PopEnabled")->is_null);
  EXPECT_EQ(b.GetBool("PopEnabled"), std::nullopt);
}

TEST(BindTest, SwitchForms) {
  EXPECT_TRUE(MustBind("Set-Thing x -Confirm").GetSwitch("Confirm"));
  EXPECT_FALSE(MustBind("Set-Thing x -Confirm:$false").GetSwitch("Confirm", true));
  EXPECT_TRUE(MustBind("Set-Thing x -Confirm:$false").Has("Confirm"));
  EXPECT_FALSE(MustBind("Set-Thing x").Has("Confirm"));
  // A bare switch does not take the next argument: "y" goes to the next positional slot.
  BoundCommand b = MustBind("Set-Thing x -Confirm y");
  EXPECT_TRUE(b.GetSwitch("Confirm"));
  EXPECT_EQ(b.GetString("DisplayName"), "y");
}

TEST(BindTest, NamesArePrefixesAliasesAndCaseInsensitive) {
  BoundCommand b = MustBind("Set-Thing -ident x -DISPLAYNAME d -Pri a@b -pop 1 -Conf");
  EXPECT_EQ(b.GetString("Identity"), "x");
  EXPECT_EQ(b.GetString("DisplayName"), "d");
  EXPECT_EQ(b.GetString("PrimarySmtpAddress"), "a@b");
  EXPECT_EQ(b.GetBool("PopEnabled"), true);
  EXPECT_TRUE(b.GetSwitch("Confirm"));
  // An exact name wins over a longer name it is a prefix of.
  EXPECT_EQ(MustBind("Set-Thing x -Name n").GetString("Name"), "n");
  EXPECT_EQ(MustBind("Set-Thing x -NameS n").GetString("NameSuffix"), "n");
  // The prefix "Pop" is also PopEnabled's alias, so it is not ambiguous.
  EXPECT_EQ(MustBind("Set-Thing x -Pop 0").GetBool("PopEnabled"), false);
}

TEST(BindTest, ResolveParameterReportsPosition) {
  Result<size_t> r = ResolveParameter(TestSchema(), "Bogus", 7);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, 7u);
  EXPECT_EQ(r.error().length, 6u);
}

TEST(BindTest, PositionalAndNamedMix) {
  BoundCommand b = MustBind("Set-Thing -DisplayName d x");
  EXPECT_EQ(b.GetString("Identity"), "x");
  EXPECT_EQ(b.GetString("DisplayName"), "d");
  b = MustBind("Set-Thing x d");
  EXPECT_EQ(b.GetString("Identity"), "x");
  EXPECT_EQ(b.GetString("DisplayName"), "d");
  b = MustBind("Set-Thing -Identity x d");
  EXPECT_EQ(b.GetString("DisplayName"), "d");
}

TEST(BindTest, ValuesKeepQuotedTextAsIs) {
  EXPECT_EQ(MustBind("Set-Thing 'a b' -DisplayName \"$true\"").GetString("DisplayName"), "$true");
  EXPECT_EQ(MustBind("Set-Thing x -DisplayName $true").GetString("DisplayName"), "True");
  EXPECT_EQ(MustBind("Set-Thing x -DisplayName '-Confirm'").GetString("DisplayName"), "-Confirm");
}

TEST(BindTest, Sizes) {
  struct Case {
    const char* text;
    bool unlimited;
    uint64_t bytes;
  };
  for (const Case& c : {
           Case{"2GB", false, 2147483648ull},
           Case{"500MB", false, 524288000ull},
           Case{"500mb", false, 524288000ull},
           Case{"1.5GB", false, 1610612736ull},
           Case{"1024", false, 1024},
           Case{"10KB", false, 10240},
           Case{"1TB", false, 1099511627776ull},
           Case{"100B", false, 100},
           Case{"unlimited", true, 0},
           Case{"Unlimited", true, 0},
           Case{"'2 GB'", false, 2147483648ull},
           Case{"'1.899 GB (2,039,480,320 bytes)'", false, 2039480320ull},
       }) {
    BoundCommand b = MustBind(std::string("Set-Thing x -ProhibitSendQuota ") + c.text);
    std::optional<SizeValue> size = b.GetSize("ProhibitSendQuota");
    ASSERT_TRUE(size.has_value()) << c.text;
    EXPECT_EQ(size->unlimited, c.unlimited) << c.text;
    EXPECT_EQ(size->bytes, c.bytes) << c.text;
  }
  for (const char* bad : {"2XB", "GB", "-1GB", "99999999999TB", "1.2.3GB", "'2 GB (x bytes)'"}) {
    EXPECT_FALSE(BindLine(std::string("Set-Thing x -ProhibitSendQuota ") + bad).ok()) << bad;
  }
}

TEST(BindTest, IntegersAndUnlimited) {
  EXPECT_EQ(MustBind("Set-Thing x -Count 42").GetInt("Count"), 42);
  EXPECT_EQ(MustBind("Set-Thing x -Count -7").GetInt("Count"), -7);
  EXPECT_EQ(MustBind("Set-Thing x -Count 1KB").GetInt("Count"), 1024);
  EXPECT_FALSE(BindLine("Set-Thing x -Count unlimited").ok());
  BoundCommand b = MustBind("Set-Thing x -ResultSize Unlimited");
  EXPECT_TRUE(b.Find("ResultSize")->unlimited);
  EXPECT_EQ(b.GetInt("ResultSize"), std::nullopt);
  EXPECT_EQ(MustBind("Set-Thing x -ResultSize 10").GetInt("ResultSize"), 10);
}

TEST(BindTest, EnumsByNameOrNumber) {
  BoundCommand b = MustBind("Set-Thing x -LoginType securelogin");
  EXPECT_EQ(b.GetString("LoginType"), "SecureLogin");
  EXPECT_EQ(b.Find("LoginType")->integer, 2);
  EXPECT_EQ(MustBind("Set-Thing x -LoginType 1").GetString("LoginType"), "PlainTextAuthentication");
  EXPECT_FALSE(BindLine("Set-Thing x -LoginType 3").ok());
}

TEST(BindTest, StringLists) {
  std::optional<MultiValue> v =
      MustBind("Set-Thing x -EmailAddresses a@x,'b@x',\"c d@x\"").GetStringList("EmailAddresses");
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->is_delta);
  EXPECT_EQ(v->values, (std::vector<std::string>{"a@x", "b@x", "c d@x"}));

  v = MustBind("Set-Thing x -EmailAddresses one").GetStringList("EmailAddresses");
  EXPECT_EQ(v->values, (std::vector<std::string>{"one"}));

  v = MustBind("Set-Thing x -EmailAddresses $null").GetStringList("EmailAddresses");
  EXPECT_TRUE(v->values.empty());
  EXPECT_TRUE(MustBind("Set-Thing x -EmailAddresses $null").Find("EmailAddresses")->is_null);
}

TEST(BindTest, Hashtables) {
  std::optional<MultiValue> v =
      MustBind("Set-Thing x -EmailAddresses @{Add=\"x\",\"y\"; Remove=\"z\"}")
          .GetStringList("EmailAddresses");
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(v->is_delta);
  EXPECT_EQ(v->add, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(v->remove, (std::vector<std::string>{"z"}));

  v = MustBind("Set-Thing x -EmailAddresses @{remove='a'}").GetStringList("EmailAddresses");
  EXPECT_TRUE(v->is_delta);
  EXPECT_TRUE(v->add.empty());
  EXPECT_EQ(v->remove, (std::vector<std::string>{"a"}));
}

TEST(BindTest, SecureStrings) {
  EXPECT_EQ(MustBind("Set-Thing x -Password 'P@ss1'").GetString("Password"), "P@ss1");
  EXPECT_EQ(MustBind("Set-Thing x -Password (ConvertTo-SecureString -String 'P@ss1' "
                     "-AsPlainText -Force)")
                .GetString("Password"),
            "P@ss1");
  EXPECT_EQ(MustBind("Set-Thing x -Password (convertto-securestring 'it''s' -asplaintext "
                     "-force)")
                .GetString("Password"),
            "it's");
  // Without a value: bound, to be prompted for.
  for (const char* line : {"Set-Thing x -Password", "Set-Thing x -Password -Confirm",
                           "Set-Thing x -Password (Read-Host -AsSecureString)"}) {
    BoundCommand b = MustBind(line);
    ASSERT_TRUE(b.Has("Password")) << line;
    EXPECT_TRUE(b.Find("Password")->value_omitted) << line;
    EXPECT_EQ(b.GetString("Password"), std::nullopt) << line;
  }
}

TEST(BindTest, MandatorySecureStringIsLeftForThePrompt) {
  const CommandSchema schema{
      "New-Thing",
      {{.name = "Name", .mandatory = true, .position = 0},
       {.name = "Password", .type = ParamType::kSecureString, .mandatory = true}}};
  Result<Script> script = Parse("New-Thing alice");
  ASSERT_TRUE(script.ok());
  Result<BoundCommand> b = Bind(script.value().pipelines[0].commands[0], schema);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(b.value().Find("Password")->value_omitted);
}

TEST(BindTest, PipelineInputDefersMandatoryParameters) {
  BindOptions options;
  options.expect_pipeline_input = true;
  Result<BoundCommand> b = BindLine("Set-Thing -Count 1", options);
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_FALSE(b.value().Has("Identity"));
}

TEST(BindTest, ErrorsPointAtTheProblem) {
  Result<BoundCommand> b = BindLine("Set-Thing x -PopEnabled maybe");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().offset, 24u);
  EXPECT_EQ(b.error().length, 5u);
  b = BindLine("Set-Thing x -Bogus 1");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().offset, 12u);
}

TEST(StringsTest, Wildcards) {
  EXPECT_TRUE(WildcardMatch("*Quota*", "ProhibitSendQuota"));
  EXPECT_TRUE(WildcardMatch("*quota", "ProhibitSendQuota"));
  EXPECT_TRUE(WildcardMatch("Prohibit*Quota", "ProhibitSendReceiveQuota"));
  EXPECT_TRUE(WildcardMatch("?ame", "Name"));
  EXPECT_TRUE(WildcardMatch("*", ""));
  EXPECT_FALSE(WildcardMatch("*Quota", "QuotaX"));
  EXPECT_FALSE(WildcardMatch("Name", "Names"));
  EXPECT_FALSE(WildcardMatch("a*b*c", "aXbY"));
  // Pathological patterns stay fast.
  EXPECT_FALSE(WildcardMatch(std::string(1000, '*') + "b", std::string(10000, 'a')));
}

}  // namespace
}  // namespace adminctl::parser
