// Flags, UID ranges and BODY[section] resolution inside the engine.
#include "mailboxstore/core/store_internal.h"

#include <gtest/gtest.h>

#include "mailboxstore/core/mime_parser.h"

namespace mailboxstore::internal {
namespace {

google::protobuf::RepeatedPtrField<std::string> Flags(std::vector<std::string> v) {
  google::protobuf::RepeatedPtrField<std::string> out;
  for (auto& f : v) *out.Add() = f;
  return out;
}

TEST(StoreInternalTest, FlagsAreCanonicalSortedAndBounded) {
  auto r = NormalizeFlags(Flags({"\\seen", "\\SEEN", "$Label1", "$label1", "\\Recent", "Work"}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"$Label1", "Work", "\\Seen"}));
  EXPECT_FALSE(NormalizeFlags(Flags({"\\Unknown"})).ok());
  EXPECT_FALSE(NormalizeFlags(Flags({"has space"})).ok());
  EXPECT_FALSE(NormalizeFlags(Flags({"paren("})).ok());
  EXPECT_FALSE(NormalizeFlags(Flags({""})).ok());
  std::vector<std::string> many;
  for (int i = 0; i < 200; ++i) many.push_back("k" + std::to_string(i));
  EXPECT_FALSE(NormalizeFlags(Flags(many)).ok());
}

TEST(StoreInternalTest, RangesAreSortedAndMerged) {
  google::protobuf::RepeatedPtrField<mail::v1::UidRange> in;
  auto add = [&](uint32_t a, uint32_t b) {
    auto* r = in.Add();
    r->set_first(a);
    r->set_last(b);
  };
  add(10, 12);
  add(1, 3);
  add(4, 5);
  add(20, 15);  // Reversed: 15:20.
  add(0, 0);    // Nothing.
  auto r = NormalizeRanges(in);
  ASSERT_TRUE(r.ok());
  std::vector<std::pair<uint32_t, uint32_t>> want = {{1, 5}, {10, 12}, {15, 20}};
  EXPECT_EQ(*r, want);
}

TEST(StoreInternalTest, SectionsOfANestedMessage) {
  const std::string raw =
      "Subject: outer\r\n"
      "Content-Type: multipart/mixed; boundary=b1\r\n"
      "\r\n"
      "--b1\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "first\r\n"
      "--b1\r\n"
      "Content-Type: message/rfc822\r\n"
      "\r\n"
      "Subject: inner\r\n"
      "Content-Type: multipart/alternative; boundary=b2\r\n"
      "\r\n"
      "--b2\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "inner plain\r\n"
      "--b2\r\n"
      "Content-Type: text/html\r\n"
      "\r\n"
      "<p>inner html</p>\r\n"
      "--b2--\r\n"
      "--b1--\r\n";
  InitMimeLibrary();
  mail::v1::MessageStructure s = ParseMessage(raw);
  auto slice = [&](const std::string& part, mail::v1::BodySection section) -> std::string {
    auto r = ResolveSection(s, part, section);
    if (!r.ok()) return "ERR:" + r.status().message();
    return raw.substr(r->first, r->second);
  };
  EXPECT_EQ(slice("1", mail::v1::BODY_SECTION_CONTENT), "first");
  EXPECT_EQ(slice("1", mail::v1::BODY_SECTION_MIME), "Content-Type: text/plain\r\n\r\n");
  EXPECT_EQ(slice("2.1", mail::v1::BODY_SECTION_CONTENT), "inner plain");
  EXPECT_EQ(slice("2.2", mail::v1::BODY_SECTION_CONTENT), "<p>inner html</p>");
  EXPECT_EQ(slice("2", mail::v1::BODY_SECTION_HEADER),
            "Subject: inner\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n");
  EXPECT_EQ(slice("2", mail::v1::BODY_SECTION_CONTENT).substr(0, 15), "Subject: inner\r");
  EXPECT_EQ(slice("", mail::v1::BODY_SECTION_HEADER).substr(0, 15), "Subject: outer\r");
  EXPECT_EQ(slice("3", mail::v1::BODY_SECTION_CONTENT).substr(0, 4), "ERR:");
  EXPECT_EQ(slice("1.1", mail::v1::BODY_SECTION_CONTENT).substr(0, 4), "ERR:");
  EXPECT_EQ(slice("1", mail::v1::BODY_SECTION_HEADER).substr(0, 4), "ERR:");  // Not a message.
  EXPECT_EQ(slice("a.b", mail::v1::BODY_SECTION_CONTENT).substr(0, 4), "ERR:");
  EXPECT_EQ(slice("1..2", mail::v1::BODY_SECTION_CONTENT).substr(0, 4), "ERR:");
  EXPECT_EQ(slice("99999999999", mail::v1::BODY_SECTION_CONTENT).substr(0, 4), "ERR:");
}

TEST(StoreInternalTest, SinglePartMessageBodyIsPartOne) {
  const std::string raw = "Subject: x\r\n\r\nhello\r\n";
  mail::v1::MessageStructure s = ParseMessage(raw);
  auto r = ResolveSection(s, "1", mail::v1::BODY_SECTION_CONTENT);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(raw.substr(r->first, r->second), "hello\r\n");
}

}  // namespace
}  // namespace mailboxstore::internal
