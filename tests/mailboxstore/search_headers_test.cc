// The search summary kept beside each message record (mailboxstore/core/search_headers.h):
// it must answer exactly as the message's decoded header fields do, and say "unknown" rather
// than "no" whenever it cannot tell.
#include "mailboxstore/core/search_headers.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/mail_text.h"

namespace mailboxstore {
namespace {

google::protobuf::RepeatedPtrField<mail::v1::HeaderField> Fields(
    const std::vector<std::pair<std::string, std::string>>& fields) {
  google::protobuf::RepeatedPtrField<mail::v1::HeaderField> out;
  for (const auto& [name, decoded] : fields) {
    mail::v1::HeaderField* f = out.Add();
    f->set_name(name);
    f->set_decoded(decoded);
  }
  return out;
}

SearchHeadersMatch Expected(bool match) {
  return match ? SearchHeadersMatch::kYes : SearchHeadersMatch::kNo;
}

TEST(SearchHeadersTest, AnswersAsTheDecodedFieldsDo) {
  const auto fields = Fields({{"received", "from mx.example.net by store"},
                              {"from", "Jörg Müller <joerg@example.de>"},
                              {"to", "bob@example.test"},
                              {"to", "Ünal <unal@example.test>"},
                              {"subject", "Отчёт за МАРТ"},
                              {"message-id", "<a.1@example.de>"},
                              {"cc", ""},
                              {"x-mailer", "Mutt"}});
  const std::string summary = EncodeSearchHeaders(fields);
  const std::vector<std::pair<std::string, std::string>> queries = {
      {"from", "müller"},   {"FROM", "JOERG@"},  {"from", "bob"},     {"to", "ünal"},
      {"to", "bob@"},       {"To", ""},          {"subject", "март"}, {"subject", "april"},
      {"message-id", "a.1@"}, {"cc", ""},        {"cc", "x"},         {"bcc", ""},
      {"subject", "отчёт за"}, {"from", "example.de>"}};
  for (const auto& [name, needle] : queries) {
    const int code = SearchHeaderCode(name);
    ASSERT_NE(code, 0) << name;
    const std::string folded = common::FoldCase(needle);
    EXPECT_EQ(SearchHeadersContain(summary, code, folded),
              Expected(common::HeaderFieldContains(fields, name, folded)))
        << name << " " << needle;
  }
  // The fields outside the summary are not claimed by it.
  EXPECT_EQ(SearchHeaderCode("x-mailer"), 0);
  EXPECT_EQ(SearchHeaderCode("received"), 0);
  EXPECT_EQ(SearchHeaderCode(""), 0);
}

TEST(SearchHeadersTest, TooLargeOrDamagedSummariesAreUnknown) {
  const int from = SearchHeaderCode("from");
  // More than a summary holds: unknown, never a "no" from a truncated copy.
  const std::string big = EncodeSearchHeaders(
      Fields({{"to", std::string(kMaxSearchHeadersBytes, 'a')}, {"from", "alice"}}));
  EXPECT_EQ(SearchHeadersContain(big, from, "alice"), SearchHeadersMatch::kUnknown);
  EXPECT_LE(big.size(), 1u);

  const std::string good = EncodeSearchHeaders(Fields({{"from", "alice"}, {"to", "bob"}}));
  ASSERT_EQ(SearchHeadersContain(good, from, "alice"), SearchHeadersMatch::kYes);
  EXPECT_EQ(SearchHeadersContain("", from, "alice"), SearchHeadersMatch::kUnknown);
  // A summary cut inside an entry (after the code byte of "to", in its length or value).
  const size_t to_entry = good.find('\x02');
  ASSERT_NE(to_entry, std::string::npos);
  for (size_t cut = to_entry + 1; cut < good.size(); ++cut) {
    EXPECT_EQ(SearchHeadersContain(good.substr(0, cut), SearchHeaderCode("to"), "bob"),
              SearchHeadersMatch::kUnknown)
        << cut;
  }
  std::string other_version = good;
  other_version[0] = 9;
  EXPECT_EQ(SearchHeadersContain(other_version, from, "alice"), SearchHeadersMatch::kUnknown);
  // A length running past the end.
  std::string overrun = good;
  overrun[2] = 0x7f;
  EXPECT_EQ(SearchHeadersContain(overrun, from, "alice"), SearchHeadersMatch::kUnknown);
  EXPECT_EQ(SearchHeadersContain(good, 0, "alice"), SearchHeadersMatch::kUnknown);
  EXPECT_EQ(SearchHeadersContain(good, 99, "alice"), SearchHeadersMatch::kUnknown);
}

}  // namespace
}  // namespace mailboxstore
