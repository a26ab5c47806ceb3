// Tests for the MIME structure parser: exact offsets (checked by slicing the raw message the
// way BODY[section] will), ENVELOPE and BODYSTRUCTURE values as an IMAP client sees them,
// and robustness (every truncation and random mutations of every test message, limits).
//
// Test messages live in testdata/mime with LF line endings and are parsed twice: converted
// to CRLF (as delivered over SMTP) and as stored (bare LF). Expected texts are written with
// "\n" and converted the same way.

#include "mailboxstore/core/mime_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace mailboxstore {
namespace {

using ::mail::v1::BodyPart;
using ::mail::v1::Envelope;
using ::mail::v1::EnvelopeAddress;
using ::mail::v1::MessageStructure;
using ::mail::v1::MimeParam;

enum class Eol { kCrlf, kLf };

void PrintTo(Eol eol, std::ostream* os) { *os << (eol == Eol::kCrlf ? "Crlf" : "Lf"); }

std::string Nl(std::string_view text, Eol eol) {
  if (eol == Eol::kLf) return std::string(text);
  std::string out;
  for (char c : text) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

std::string ReadTestFile(const std::string& name) {
  std::ifstream in(std::string(MIME_TESTDATA_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Load(const std::string& name, Eol eol) { return Nl(ReadTestFile(name), eol); }

std::string_view HeaderOf(const std::string& raw, const BodyPart& p) {
  return std::string_view(raw).substr(p.header_offset(), p.header_size());
}

std::string_view BodyOf(const std::string& raw, const BodyPart& p) {
  return std::string_view(raw).substr(p.body_offset(), p.body_size());
}

const MimeParam* Param(const google::protobuf::RepeatedPtrField<MimeParam>& params,
                       std::string_view name) {
  for (const MimeParam& p : params) {
    if (p.name() == name) return &p;
  }
  return nullptr;
}

std::string DecodedHeader(const MessageStructure& s, std::string_view name) {
  for (const auto& h : s.decoded_headers()) {
    if (h.name() == name) return h.decoded();
  }
  return "<absent>";
}

void ExpectAddress(const EnvelopeAddress& a, std::string_view name, std::string_view mailbox,
                   std::string_view host) {
  if (name.empty()) {
    EXPECT_FALSE(a.has_name()) << a.name();
  } else {
    EXPECT_EQ(a.name(), name);
  }
  EXPECT_EQ(a.mailbox(), mailbox);
  EXPECT_EQ(a.host(), host);
  EXPECT_FALSE(a.group_start());
  EXPECT_FALSE(a.group_end());
}

// ---------------------------------------------------------------------------------------
// Structural invariants every result must satisfy, whatever the input.

struct CheckState {
  uint64_t size = 0;
  int entities = 0;
  int max_level = 0;
  std::string error;
};

void CheckEntity(const BodyPart& p, uint64_t begin, uint64_t end, int level, CheckState* st) {
  if (!st->error.empty()) return;
  ++st->entities;
  st->max_level = std::max(st->max_level, level);
  const uint64_t body_end = p.body_offset() + p.body_size();
  std::ostringstream err;
  if (p.header_offset() < begin) err << "header before parent range; ";
  if (p.header_offset() + p.header_size() != p.body_offset()) err << "header/body gap; ";
  if (body_end > end || body_end > st->size) err << "body beyond parent range; ";
  if (p.type().empty() || p.subtype().empty() || p.encoding().empty()) err << "empty type; ";
  if (p.type() == "multipart" && p.children_size() < 1) err << "multipart without parts; ";
  if (p.type() == "message" && p.subtype() == "rfc822" && p.children_size() != 1) {
    err << "message/rfc822 without exactly one child; ";
  }
  if (p.type() != "multipart" && p.type() != "message" && p.children_size() != 0) {
    err << "leaf with children; ";
  }
  if (!err.str().empty()) {
    st->error = err.str() + " at offset " + std::to_string(p.header_offset());
    return;
  }
  uint64_t cursor = p.body_offset();
  for (const BodyPart& child : p.children()) {
    CheckEntity(child, cursor, body_end, level + 1, st);
    cursor = child.body_offset() + child.body_size();
  }
}

// Returns "" when `s` is consistent with `raw` and the limits.
std::string CheckInvariants(std::string_view raw, const MessageStructure& s,
                            const MimeLimits& limits = {}) {
  CheckState st;
  st.size = raw.size();
  if (s.size() != raw.size()) return "size mismatch";
  if (s.body().header_offset() != 0) return "root header not at 0";
  CheckEntity(s.body(), 0, raw.size(), 0, &st);
  if (!st.error.empty()) return st.error;
  if (st.entities > std::max(limits.max_parts, 1)) return "too many entities";
  if (st.max_level > std::max(limits.max_depth, 0) + 1) return "too deep";
  if (s.decoded_headers_size() > limits.max_header_fields) return "too many header fields";
  // Proto3 strings must be UTF-8 or the structure cannot be read back (e.g. over gRPC).
  MessageStructure copy;
  if (!copy.ParseFromString(s.SerializeAsString())) return "does not round-trip (UTF-8?)";
  return "";
}

std::vector<std::string> TestFileNames() {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(MIME_TESTDATA_DIR)) {
    if (entry.path().extension() == ".eml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// ---------------------------------------------------------------------------------------
// Test messages, CRLF and LF.

class MimeFileTest : public ::testing::TestWithParam<Eol> {
 protected:
  Eol eol() const { return GetParam(); }
  std::string N(std::string_view text) const { return Nl(text, eol()); }
  MessageStructure Parse(const std::string& raw) const {
    MessageStructure s = ParseMessage(raw);
    EXPECT_EQ(CheckInvariants(raw, s), "");
    return s;
  }
};

INSTANTIATE_TEST_SUITE_P(LineEndings, MimeFileTest, ::testing::Values(Eol::kCrlf, Eol::kLf),
                         [](const auto& info) {
                           return info.param == Eol::kCrlf ? std::string("Crlf")
                                                           : std::string("Lf");
                         });

TEST_P(MimeFileTest, MultipartAlternativeTextAndHtml) {
  const std::string raw = Load("alternative.eml", eol());
  const MessageStructure s = Parse(raw);

  const Envelope& env = s.envelope();
  EXPECT_EQ(env.date(), "Mon, 02 Jan 2023 10:00:00 +0100");
  EXPECT_EQ(env.subject(), "Quarterly report is ready");  // Unfolded.
  ASSERT_EQ(env.from_size(), 1);
  ExpectAddress(env.from(0), "Alice Example", "alice", "example.com");
  ASSERT_EQ(env.sender_size(), 1);  // Defaults to From.
  ExpectAddress(env.sender(0), "Alice Example", "alice", "example.com");
  ASSERT_EQ(env.reply_to_size(), 1);
  ExpectAddress(env.reply_to(0), "Alice Example", "alice", "example.com");
  ASSERT_EQ(env.to_size(), 2);
  ExpectAddress(env.to(0), "Bob", "bob", "example.net");
  ExpectAddress(env.to(1), "", "carol", "example.org");
  ASSERT_EQ(env.cc_size(), 1);
  ExpectAddress(env.cc(0), "Doe, John", "john.doe", "example.com");
  EXPECT_EQ(env.bcc_size(), 0);
  EXPECT_EQ(env.in_reply_to(), "<prev-1@example.net>");
  EXPECT_EQ(env.message_id(), "<20230102090000.A1@example.com>");

  EXPECT_EQ(s.size(), raw.size());
  EXPECT_EQ(s.sent_date_unix(), 1672650000);
  EXPECT_FALSE(s.has_attachments());
  EXPECT_EQ(s.preview(), "Hi Bob, the quarterly report is ready. Café at 10? Alice");

  const BodyPart& root = s.body();
  EXPECT_EQ(root.type(), "multipart");
  EXPECT_EQ(root.subtype(), "alternative");
  ASSERT_NE(Param(root.params(), "boundary"), nullptr);
  EXPECT_EQ(Param(root.params(), "boundary")->value(), "----=_Part_0_123456.789");
  EXPECT_FALSE(root.malformed());
  EXPECT_EQ(root.header_offset(), 0u);
  const std::string_view header = HeaderOf(raw, root);
  EXPECT_EQ(header.substr(0, 12), "Return-Path:");
  EXPECT_TRUE(header.ends_with(N("boundary=\"----=_Part_0_123456.789\"\n\n")));
  EXPECT_EQ(root.body_offset() + root.body_size(), raw.size());
  EXPECT_TRUE(BodyOf(raw, root).starts_with("This is a multi-part message"));

  ASSERT_EQ(root.children_size(), 2);
  const BodyPart& text = root.children(0);
  EXPECT_EQ(text.type(), "text");
  EXPECT_EQ(text.subtype(), "plain");
  EXPECT_EQ(text.encoding(), "QUOTED-PRINTABLE");
  ASSERT_NE(Param(text.params(), "charset"), nullptr);
  EXPECT_EQ(Param(text.params(), "charset")->value(), "utf-8");
  EXPECT_EQ(HeaderOf(raw, text), N("Content-Type: text/plain; charset=utf-8\n"
                                   "Content-Transfer-Encoding: quoted-printable\n\n"));
  // The newline before the delimiter belongs to the delimiter.
  EXPECT_EQ(BodyOf(raw, text),
            N("Hi Bob,\n\nthe quarterly report is ready. Caf=C3=A9 at 10?\n\nAlice"));
  EXPECT_EQ(text.body_lines(), 5u);

  const BodyPart& html = root.children(1);
  EXPECT_EQ(html.subtype(), "html");
  EXPECT_EQ(html.encoding(), "7BIT");
  EXPECT_EQ(BodyOf(raw, html),
            N("<html><head><style>p {color: red}</style></head><body><p>Hi Bob,</p>"
              "<p>the report</p></body></html>\n"));
  EXPECT_EQ(html.body_lines(), 1u);

  EXPECT_EQ(DecodedHeader(s, "subject"), "Quarterly report is ready");
  EXPECT_EQ(DecodedHeader(s, "cc"), "\"Doe, John\" <john.doe@example.com>");
  EXPECT_EQ(DecodedHeader(s, "return-path"), "<alice@example.com>");
  EXPECT_EQ(s.decoded_headers(0).name(), "return-path");
  EXPECT_EQ(s.decoded_headers_size(), 11);
}

TEST_P(MimeFileTest, MixedWithPdfAttachmentsAndRfc2231Names) {
  const std::string raw = Load("mixed_pdf.eml", eol());
  const MessageStructure s = Parse(raw);

  // ENVELOPE keeps RFC 2047 words encoded; decoded_headers has them decoded.
  EXPECT_EQ(s.envelope().subject(), "=?UTF-8?B?6KuL5rGC5pu444Gu44GK6YCB44KK?=");
  EXPECT_EQ(DecodedHeader(s, "subject"), "請求書のお送り");
  ASSERT_EQ(s.envelope().from_size(), 1);
  ExpectAddress(s.envelope().from(0), "=?UTF-8?B?5bGx55Sw5aSq6YOO?=", "taro.yamada", "example.jp");
  EXPECT_EQ(DecodedHeader(s, "from"), "山田太郎 <taro.yamada@example.jp>");
  EXPECT_EQ(DecodedHeader(s, "to"), "Hans Müller <hans@example.de>");
  EXPECT_EQ(s.sent_date_unix(), 1678750200);  // 2023-03-13T23:30:00Z
  EXPECT_TRUE(s.has_attachments());
  EXPECT_EQ(s.preview(),
            "山田様 請求書をお送りします。ご確認ください。 よろしくお願いいたします。");

  const BodyPart& root = s.body();
  EXPECT_EQ(root.subtype(), "mixed");
  ASSERT_EQ(root.children_size(), 3);

  const BodyPart& text = root.children(0);
  EXPECT_EQ(text.encoding(), "BASE64");
  EXPECT_EQ(Param(text.params(), "charset")->value(), "UTF-8");
  EXPECT_TRUE(BodyOf(raw, text).starts_with("5bGx55Sw"));
  EXPECT_EQ(text.body_lines(), 2u);

  const BodyPart& pdf = root.children(1);
  EXPECT_EQ(pdf.type(), "application");
  EXPECT_EQ(pdf.subtype(), "pdf");
  EXPECT_EQ(pdf.encoding(), "BASE64");
  EXPECT_EQ(pdf.description(), "Invoice 42");
  EXPECT_EQ(pdf.body_lines(), 0u);  // Only text/* and message/rfc822 count lines.
  EXPECT_TRUE(BodyOf(raw, pdf).starts_with("JVBERi0xLjQK"));
  EXPECT_FALSE(BodyOf(raw, pdf).ends_with("\n"));
  EXPECT_EQ(raw.substr(pdf.body_offset() + pdf.body_size(), 4 + (eol() == Eol::kCrlf)), N("\n--m"));
  // name*0*=UTF-8''...; name*1*=... joined and decoded; no plain fallback, so BODYSTRUCTURE
  // gets the RFC 2047 form under the plain name.
  const MimeParam* name = Param(pdf.params(), "name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->decoded(), "請求書_2023.pdf");
  EXPECT_EQ(name->value(), "=?UTF-8?B?6KuL5rGC5pu4XzIwMjMucGRm?=");
  EXPECT_EQ(pdf.params_size(), 1);
  EXPECT_EQ(pdf.disposition(), "attachment");
  const MimeParam* filename = Param(pdf.disposition_params(), "filename");
  ASSERT_NE(filename, nullptr);
  EXPECT_EQ(filename->decoded(), "請求書_2023.pdf");

  const BodyPart& pdf2 = root.children(2);
  EXPECT_EQ(Param(pdf2.params(), "name")->decoded(), "report.pdf");
  ASSERT_EQ(pdf2.disposition_params_size(), 1);
  const MimeParam* filename2 = Param(pdf2.disposition_params(), "filename");
  ASSERT_NE(filename2, nullptr);
  EXPECT_EQ(filename2->decoded(), "Grüße aus München.pdf");
  EXPECT_EQ(filename2->value(), "Gruesse aus Muenchen.pdf");  // The sender's own fallback.
  EXPECT_EQ(BodyOf(raw, pdf2), BodyOf(raw, pdf));
  EXPECT_EQ(pdf2.body_offset() + pdf2.body_size() + N("\n--mixed-boundary-42--\n").size(),
            raw.size());
}

TEST_P(MimeFileTest, Latin1EightBitBody) {
  const std::string raw = Load("latin1_8bit.eml", eol());
  const MessageStructure s = Parse(raw);
  EXPECT_EQ(s.envelope().subject(), "=?ISO-8859-1?Q?Gr=FC=DFe_aus_M=FCnchen?=");
  EXPECT_EQ(DecodedHeader(s, "subject"), "Grüße aus München");
  EXPECT_EQ(DecodedHeader(s, "from"), "Jörg Müller <joerg@example.de>");
  ExpectAddress(s.envelope().from(0), "=?ISO-8859-1?Q?J=F6rg_M=FCller?=", "joerg", "example.de");
  const BodyPart& root = s.body();
  EXPECT_EQ(root.type(), "text");
  EXPECT_EQ(root.encoding(), "8BIT");
  EXPECT_EQ(Param(root.params(), "charset")->value(), "iso-8859-1");
  EXPECT_EQ(BodyOf(raw, root), N("Liebe Gr\xFC\xDF"
                                 "e aus M\xFCnchen!\nSch\xF6ne Woche.\n"));
  EXPECT_EQ(root.body_lines(), 2u);
  EXPECT_EQ(s.preview(), "Liebe Grüße aus München! Schöne Woche.");
  EXPECT_EQ(s.sent_date_unix(), 1676648712);
  EXPECT_FALSE(s.has_attachments());
}

TEST_P(MimeFileTest, Utf8EightBitBodyAndHeaders) {
  const std::string raw = Load("utf8_8bit.eml", eol());
  const MessageStructure s = Parse(raw);
  EXPECT_EQ(s.envelope().subject(), "Привет из Москвы");  // RFC 6532 raw UTF-8.
  ExpectAddress(s.envelope().from(0), "Иван Петров", "ivan", "example.ru");
  ExpectAddress(s.envelope().to(0), "=?UTF-8?Q?J=C3=B6rg?=", "joerg", "example.de");
  EXPECT_EQ(DecodedHeader(s, "to"), "Jörg <joerg@example.de>");
  EXPECT_EQ(s.envelope().date(), "Wed, 1 Mar 2023 12:00:00 +0300 (MSK)");
  EXPECT_EQ(s.sent_date_unix(), 1677661200);
  EXPECT_EQ(BodyOf(raw, s.body()), N("Привет!   Как дела?\n日本語のテキストも。\n"));
  EXPECT_EQ(s.body().body_lines(), 2u);
  EXPECT_EQ(s.preview(), "Привет! Как дела? 日本語のテキストも。");
}

TEST_P(MimeFileTest, MissingCloseBoundaryEndsAtEndOfData) {
  const std::string raw = Load("missing_close.eml", eol());
  const MessageStructure s = Parse(raw);
  const BodyPart& root = s.body();
  EXPECT_TRUE(root.malformed());
  ASSERT_EQ(root.children_size(), 2);
  EXPECT_EQ(BodyOf(raw, root.children(0)), "first part");
  EXPECT_EQ(HeaderOf(raw, root.children(1)), N("Content-Type: text/plain; name=\"notes.txt\"\n\n"));
  EXPECT_EQ(BodyOf(raw, root.children(1)), N("second part never closed\n"));
  EXPECT_EQ(root.children(1).body_offset() + root.children(1).body_size(), raw.size());
  EXPECT_EQ(root.body_offset() + root.body_size(), raw.size());
  EXPECT_TRUE(s.has_attachments());  // name="notes.txt"
  EXPECT_EQ(s.preview(), "first part");
}

TEST_P(MimeFileTest, UndeclaredBoundaryBecomesOneTextPart) {
  const std::string raw = Load("wrong_boundary.eml", eol());
  const MessageStructure s = Parse(raw);
  const BodyPart& root = s.body();
  EXPECT_EQ(root.type(), "multipart");
  EXPECT_TRUE(root.malformed());
  ASSERT_EQ(root.children_size(), 1);
  const BodyPart& part = root.children(0);
  EXPECT_EQ(part.type(), "text");
  EXPECT_EQ(part.subtype(), "plain");
  EXPECT_EQ(part.header_size(), 0u);
  EXPECT_EQ(part.body_offset(), root.body_offset());
  EXPECT_EQ(BodyOf(raw, part), N("--actual\nContent-Type: text/plain\n\n"
                                 "Text behind a boundary that was never declared.\n--actual--\n"));
  EXPECT_EQ(part.body_lines(), 5u);
}

TEST_P(MimeFileTest, ForwardedMessageRfc822WithOwnMultipart) {
  const std::string raw = Load("forwarded_rfc822.eml", eol());
  const MessageStructure s = Parse(raw);
  EXPECT_EQ(s.envelope().subject(), "Fwd: Original subject");
  EXPECT_TRUE(s.has_attachments());
  EXPECT_EQ(s.preview(), "See the forwarded message below.");

  const BodyPart& root = s.body();
  ASSERT_EQ(root.children_size(), 2);
  EXPECT_FALSE(root.malformed());
  const BodyPart& fwd = root.children(1);
  EXPECT_EQ(fwd.type(), "message");
  EXPECT_EQ(fwd.subtype(), "rfc822");
  EXPECT_EQ(fwd.disposition(), "attachment");
  EXPECT_EQ(Param(fwd.disposition_params(), "filename")->value(), "Original subject.eml");
  EXPECT_EQ(HeaderOf(raw, fwd),
            N("Content-Type: message/rfc822\n"
              "Content-Disposition: attachment; filename=\"Original subject.eml\"\n\n"));
  const std::string_view fwd_body = BodyOf(raw, fwd);
  EXPECT_TRUE(fwd_body.starts_with("From: Carol <carol@example.org>"));
  EXPECT_TRUE(fwd_body.ends_with(N("--inner-alt--\n")));
  EXPECT_EQ(fwd.body_lines(), 17u);

  const Envelope& inner_env = fwd.envelope();
  EXPECT_EQ(inner_env.subject(), "Original subject");
  EXPECT_EQ(inner_env.date(), "Sun, 01 Jan 2023 18:00:00 -0500");
  EXPECT_EQ(inner_env.message_id(), "<orig-1@example.org>");
  ExpectAddress(inner_env.from(0), "Carol", "carol", "example.org");
  ExpectAddress(inner_env.to(0), "Alice", "alice", "example.com");

  ASSERT_EQ(fwd.children_size(), 1);
  const BodyPart& inner = fwd.children(0);
  // The encapsulated message starts at the rfc822 part's body; offsets stay absolute.
  EXPECT_EQ(inner.header_offset(), fwd.body_offset());
  EXPECT_EQ(inner.body_offset() + inner.body_size(), fwd.body_offset() + fwd.body_size());
  EXPECT_TRUE(HeaderOf(raw, inner).starts_with("From: Carol"));
  EXPECT_EQ(inner.type(), "multipart");
  EXPECT_EQ(inner.subtype(), "alternative");
  ASSERT_EQ(inner.children_size(), 2);
  EXPECT_EQ(BodyOf(raw, inner.children(0)), "Original text.");
  EXPECT_EQ(BodyOf(raw, inner.children(1)), "<p>Original text.</p>");
  EXPECT_EQ(inner.children(1).subtype(), "html");
}

TEST_P(MimeFileTest, GroupAddressesAndSourceRoutes) {
  const std::string raw = Load("group_address.eml", eol());
  const MessageStructure s = Parse(raw);
  const Envelope& env = s.envelope();
  ExpectAddress(env.sender(0), "", "bounce-handler", "example.com");
  ASSERT_EQ(env.reply_to_size(), 1);  // Empty Reply-To: defaults to From.
  ExpectAddress(env.reply_to(0), "Newsletter", "news", "example.com");

  ASSERT_EQ(env.to_size(), 2);  // undisclosed-recipients:;
  EXPECT_TRUE(env.to(0).group_start());
  EXPECT_EQ(env.to(0).mailbox(), "undisclosed-recipients");
  EXPECT_FALSE(env.to(0).has_host());
  EXPECT_TRUE(env.to(1).group_end());
  EXPECT_FALSE(env.to(1).has_mailbox());
  EXPECT_FALSE(env.to(1).has_host());

  ASSERT_EQ(env.cc_size(), 5);
  EXPECT_TRUE(env.cc(0).group_start());
  EXPECT_EQ(env.cc(0).mailbox(), "Team");
  ExpectAddress(env.cc(1), "", "anna", "example.com");
  ExpectAddress(env.cc(2), "Doe, John", "john", "example.com");
  EXPECT_TRUE(env.cc(3).group_end());
  ExpectAddress(env.cc(4), "Out Sider", "outsider", "example.org");  // Comment as name.

  ASSERT_EQ(env.bcc_size(), 1);
  ExpectAddress(env.bcc(0), "Mallory (ops)", "mallory", "example.net");
  EXPECT_EQ(env.bcc(0).adl(), "@relay1.example,@relay2.example");
  EXPECT_FALSE(env.has_in_reply_to());

  EXPECT_EQ(DecodedHeader(s, "to"), "undisclosed-recipients:;");
  EXPECT_EQ(DecodedHeader(s, "cc"),
            "Team: anna@example.com, \"Doe, John\" <john@example.com>;, "
            "Out Sider <outsider@example.org>");
  EXPECT_EQ(DecodedHeader(s, "bcc"), "\"Mallory (ops)\" <mallory@example.net>");
  EXPECT_EQ(DecodedHeader(s, "reply-to"), "");
  EXPECT_EQ(s.body().type(), "text");
  EXPECT_EQ(Param(s.body().params(), "charset")->value(), "us-ascii");  // Default.
}

TEST_P(MimeFileTest, HeaderOnlyMessage) {
  const std::string raw = Load("header_only.eml", eol());
  const MessageStructure s = Parse(raw);
  const BodyPart& root = s.body();
  EXPECT_EQ(root.header_size(), raw.size());
  EXPECT_EQ(root.body_offset(), raw.size());
  EXPECT_EQ(root.body_size(), 0u);
  EXPECT_EQ(root.body_lines(), 0u);
  EXPECT_FALSE(root.malformed());
  EXPECT_EQ(s.envelope().subject(), "header only, no blank line, no body");
  EXPECT_EQ(s.sent_date_unix(), 1678269600);
  EXPECT_EQ(s.preview(), "");
}

TEST_P(MimeFileTest, DigestPartsDefaultToMessageRfc822) {
  const std::string raw = Load("digest.eml", eol());
  const MessageStructure s = Parse(raw);
  const BodyPart& root = s.body();
  EXPECT_EQ(root.subtype(), "digest");
  ASSERT_EQ(root.children_size(), 2);
  for (int i = 0; i < 2; ++i) {
    const BodyPart& part = root.children(i);
    EXPECT_EQ(part.type(), "message");
    EXPECT_EQ(part.subtype(), "rfc822");
    EXPECT_EQ(part.params_size(), 0);
    EXPECT_EQ(part.header_size(), N("\n").size());  // A part without header: the blank line.
    ASSERT_EQ(part.children_size(), 1);
    EXPECT_EQ(part.children(0).type(), "text");
  }
  EXPECT_EQ(root.children(0).envelope().subject(), "First post");
  EXPECT_EQ(BodyOf(raw, root.children(0).children(0)), "First body.");
  EXPECT_EQ(root.children(1).envelope().subject(), "Second post");
  EXPECT_EQ(BodyOf(raw, root.children(1).children(0)), "Second body.");
  EXPECT_EQ(s.preview(), "First body.");  // Found inside the encapsulated messages.
}

TEST(MimeParserTest, BareLfFileAsStored) {
  const std::string raw = ReadTestFile("bare_lf.eml");
  ASSERT_EQ(raw.find('\r'), std::string::npos);
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, s), "");
  const BodyPart& root = s.body();
  ASSERT_EQ(root.children_size(), 2);
  EXPECT_EQ(Param(root.params(), "boundary")->value(), "lf-boundary");  // Unquoted.
  EXPECT_EQ(HeaderOf(raw, root.children(0)), "Content-Type: text/plain; charset=us-ascii\n\n");
  EXPECT_EQ(BodyOf(raw, root.children(0)), "Line one\nLine two");
  EXPECT_EQ(root.children(0).body_lines(), 2u);
  const BodyPart& log = root.children(1);
  EXPECT_EQ(BodyOf(raw, log), "log line");
  EXPECT_EQ(log.disposition(), "attachment");
  EXPECT_EQ(log.disposition_params_size(), 0);
  EXPECT_EQ(Param(log.params(), "name")->decoded(), "log.txt");
  EXPECT_TRUE(s.has_attachments());
  EXPECT_EQ(s.preview(), "Line one Line two");
}

// ---------------------------------------------------------------------------------------
// Exact offsets, counted by hand.

TEST(MimeParserTest, ExactOffsetsCrlf) {
  const std::string raw =
      "Subject: x\r\n"                                  // 0..11
      "Content-Type: multipart/mixed; boundary=XY\r\n"  // 12..55
      "\r\n"                                            // 56..57
      "--XY\r\n"                                        // 58..63
      "\r\n"                                            // 64..65: part 1 has no header
      "abc\r\n"                                         // 66..70
      "--XY\r\n"                                        // 71..76
      "Content-Type: text/html\r\n"                     // 77..101
      "\r\n"                                            // 102..103
      "<b>hi</b>\r\n"                                   // 104..114
      "\r\n"                                            // 115..116
      "--XY--\r\n";                                     // 117..124
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, s), "");
  const BodyPart& root = s.body();
  EXPECT_EQ(root.header_size(), 58u);
  EXPECT_EQ(root.body_offset(), 58u);
  EXPECT_EQ(root.body_size(), 67u);
  ASSERT_EQ(root.children_size(), 2);
  const BodyPart& p1 = root.children(0);
  EXPECT_EQ(p1.header_offset(), 64u);
  EXPECT_EQ(p1.header_size(), 2u);
  EXPECT_EQ(p1.body_offset(), 66u);
  EXPECT_EQ(p1.body_size(), 3u);
  EXPECT_EQ(p1.body_lines(), 1u);
  EXPECT_EQ(p1.type(), "text");
  EXPECT_EQ(p1.subtype(), "plain");
  ASSERT_EQ(p1.params_size(), 1);
  EXPECT_EQ(p1.params(0).name(), "charset");
  EXPECT_EQ(p1.params(0).value(), "us-ascii");
  EXPECT_EQ(p1.encoding(), "7BIT");
  const BodyPart& p2 = root.children(1);
  EXPECT_EQ(p2.header_offset(), 77u);
  EXPECT_EQ(p2.header_size(), 27u);
  EXPECT_EQ(p2.body_offset(), 104u);
  EXPECT_EQ(p2.body_size(), 11u);  // "<b>hi</b>\r\n"
  EXPECT_EQ(p2.body_lines(), 1u);
  EXPECT_FALSE(root.malformed());
  EXPECT_EQ(s.preview(), "abc");
}

TEST(MimeParserTest, ExactOffsetsBareLf) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=XY\n"  // 0..42
      "\n"                                            // 43
      "preamble\n"                                    // 44..52
      "--XY\n"                                        // 53..57
      "Content-Type: text/plain\n"                    // 58..82
      "\n"                                            // 83
      "one\n"                                         // 84..87
      "two\n"                                         // 88..91
      "--XY--\n"                                      // 92..98
      "epilogue\n";                                   // 99..107
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, s), "");
  const BodyPart& root = s.body();
  EXPECT_EQ(root.header_size(), 44u);
  EXPECT_EQ(root.body_size(), 64u);
  ASSERT_EQ(root.children_size(), 1);
  const BodyPart& p = root.children(0);
  EXPECT_EQ(p.header_offset(), 58u);
  EXPECT_EQ(p.header_size(), 26u);
  EXPECT_EQ(p.body_offset(), 84u);
  EXPECT_EQ(p.body_size(), 7u);  // "one\ntwo"
  EXPECT_EQ(p.body_lines(), 2u);
}

// ---------------------------------------------------------------------------------------
// Header semantics.

TEST(MimeParserTest, MissingHeadersStayNil) {
  const MessageStructure s = ParseMessage("Subject:\r\nDate: not a date\r\n\r\nbody");
  EXPECT_TRUE(s.envelope().has_subject());
  EXPECT_EQ(s.envelope().subject(), "");
  EXPECT_EQ(s.envelope().date(), "not a date");
  EXPECT_EQ(s.sent_date_unix(), 0);
  EXPECT_FALSE(s.envelope().has_message_id());
  EXPECT_FALSE(s.envelope().has_in_reply_to());
  EXPECT_EQ(s.envelope().from_size(), 0);
  EXPECT_EQ(s.envelope().sender_size(), 0);
  EXPECT_EQ(s.body().body_lines(), 1u);  // "body" without a final newline.

  const MessageStructure empty = ParseMessage("");
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.body().type(), "text");
  EXPECT_FALSE(empty.envelope().has_date());
  EXPECT_EQ(empty.sent_date_unix(), 0);
}

TEST(MimeParserTest, ContentFieldsAndParameterForms) {
  const std::string raw =
      "Content-Type: Application/X-Thing; Name==?UTF-8?B?w6TDtsO8LnR4dA==?=;\r\n"
      " foo*0*=iso-8859-1'de'Gr%FC%DFe; foo*1=\" und so\" (comment); bar=\"a\\\"b\"\r\n"
      "Content-Transfer-Encoding: Base64 (why not)\r\n"
      "Content-ID: <part1@example.com>\r\n"
      "Content-Description: =?UTF-8?Q?Beschreibung?=\r\n"
      "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
      "Content-Language: de-DE, en\r\n"
      "Content-Location: http://example.com/x\r\n"
      "Content-Disposition: INLINE; filename=\"a b.txt\"; size=42\r\n"
      "\r\n"
      "YWJj\r\n";
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, s), "");
  const BodyPart& p = s.body();
  EXPECT_EQ(p.type(), "application");
  EXPECT_EQ(p.subtype(), "x-thing");
  ASSERT_EQ(p.params_size(), 3);
  EXPECT_EQ(p.params(0).name(), "Name");  // As written.
  EXPECT_EQ(p.params(0).value(), "=?UTF-8?B?w6TDtsO8LnR4dA==?=");
  EXPECT_EQ(p.params(0).decoded(), "äöü.txt");
  EXPECT_EQ(p.params(1).name(), "foo");
  EXPECT_EQ(p.params(1).decoded(), "Grüße und so");
  EXPECT_EQ(p.params(1).value(), "=?UTF-8?B?R3LDvMOfZSB1bmQgc28=?=");
  EXPECT_EQ(p.params(2).value(), "a\"b");
  EXPECT_EQ(p.encoding(), "BASE64");
  EXPECT_EQ(p.id(), "<part1@example.com>");
  EXPECT_EQ(p.description(), "=?UTF-8?Q?Beschreibung?=");
  EXPECT_EQ(p.md5(), "Q2hlY2sgSW50ZWdyaXR5IQ==");
  ASSERT_EQ(p.language_size(), 2);
  EXPECT_EQ(p.language(0), "de-DE");
  EXPECT_EQ(p.language(1), "en");
  EXPECT_EQ(p.location(), "http://example.com/x");
  EXPECT_EQ(p.disposition(), "inline");
  ASSERT_EQ(p.disposition_params_size(), 2);
  EXPECT_EQ(p.disposition_params(0).value(), "a b.txt");
  EXPECT_EQ(p.disposition_params(1).value(), "42");
  EXPECT_EQ(p.body_lines(), 0u);
  EXPECT_TRUE(s.has_attachments());
}

TEST(MimeParserTest, InvalidContentTypeFallsBackToTextPlain) {
  const MessageStructure s = ParseMessage("Content-Type: garbage\r\n\r\nhello\r\n");
  EXPECT_EQ(s.body().type(), "text");
  EXPECT_EQ(s.body().subtype(), "plain");
  EXPECT_EQ(s.body().params(0).value(), "us-ascii");
  EXPECT_EQ(s.preview(), "hello");
}

TEST(MimeParserTest, LongestMatchingBoundaryWins) {
  // The inner boundary has the outer one as a prefix (Dovecot semantics).
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=abc\r\n\r\n"
      "--abc\r\n"
      "Content-Type: multipart/alternative; boundary=abcdef\r\n\r\n"
      "--abcdef\r\n\r\none\r\n"
      "--abcdef\r\n\r\ntwo\r\n"
      "--abcdef--\r\n"
      "--abc\r\n\r\nthree\r\n"
      "--abc--\r\n";
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, s), "");
  ASSERT_EQ(s.body().children_size(), 2);
  const BodyPart& alt = s.body().children(0);
  ASSERT_EQ(alt.children_size(), 2);
  EXPECT_EQ(BodyOf(raw, alt.children(0)), "one");
  EXPECT_EQ(BodyOf(raw, alt.children(1)), "two");
  EXPECT_EQ(BodyOf(raw, s.body().children(1)), "three");
  EXPECT_FALSE(alt.malformed());
  EXPECT_FALSE(s.body().malformed());
}

TEST(MimeParserTest, OuterBoundaryEndsUnclosedInnerMultipart) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=outer\r\n\r\n"
      "--outer\r\n"
      "Content-Type: multipart/mixed; boundary=inner\r\n\r\n"
      "--inner\r\n\r\nin\r\n"
      "--outer\r\n\r\nafter\r\n"
      "--outer--\r\n";
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, s), "");
  ASSERT_EQ(s.body().children_size(), 2);
  const BodyPart& inner = s.body().children(0);
  EXPECT_TRUE(inner.malformed());
  ASSERT_EQ(inner.children_size(), 1);
  EXPECT_EQ(BodyOf(raw, inner.children(0)), "in");
  EXPECT_EQ(BodyOf(raw, s.body().children(1)), "after");
  EXPECT_FALSE(s.body().malformed());
}

TEST(MimeParserTest, EncodedMessageRfc822IsOpaque) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "U3ViamVjdDogaGkNCg0KYm9keQ==\r\n--b--\r\n";
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, s), "");
  const BodyPart& p = s.body().children(0);
  EXPECT_EQ(p.type(), "application");
  EXPECT_EQ(p.subtype(), "octet-stream");
  EXPECT_TRUE(p.malformed());
  EXPECT_EQ(p.children_size(), 0);
  EXPECT_EQ(BodyOf(raw, p), "U3ViamVjdDogaGkNCg0KYm9keQ==");
}

TEST(MimeParserTest, PartHeaderCutByBoundary) {
  const std::string raw =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n--b\r\nContent-Type: message/rfc822\r\n--b--\r\n";
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, s), "");
  ASSERT_EQ(s.body().children_size(), 2);
  const BodyPart& p1 = s.body().children(0);
  EXPECT_EQ(HeaderOf(raw, p1), "Content-Type: text/plain");
  EXPECT_EQ(p1.body_size(), 0u);
  const BodyPart& p2 = s.body().children(1);
  EXPECT_EQ(p2.type(), "message");
  ASSERT_EQ(p2.children_size(), 1);
  EXPECT_EQ(p2.children(0).header_size(), 0u);
}

TEST(MimeParserTest, HtmlOnlyPreview) {
  const std::string raw =
      "Content-Type: text/html; charset=windows-1252\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "<html><head><title>T</title><script>var x = 1;</script></head>\r\n"
      "<body><!-- hidden --><p>Fish &amp; chips</p><p>caf=E9&nbsp;&#8364;5</p>=\r\n"
      "<div>end</div></body></html>\r\n";
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(s.preview(), "Fish & chips café €5 end");
}

TEST(MimeParserTest, PreviewIsBoundedTo200Characters) {
  std::string raw = "Content-Type: text/plain; charset=utf-8\r\n\r\n";
  for (int i = 0; i < 500; ++i) raw += "ü \r\n\t";
  const MessageStructure s = ParseMessage(raw);
  std::string expected = "ü";
  for (int i = 0; i < 99; ++i) expected += " ü";  // 199 characters: no trailing space.
  EXPECT_EQ(s.preview(), expected);
}

TEST(MimeParserTest, NulAndEightBitBytesInHeaders) {
  using std::string_literals::operator""s;
  const std::string raw =
      "Subject: a\0b\xff\xfe c\r\nFrom: \"J\xf6rg\" <j@x\0y>\r\nX-\xff: \x80\r\n\r\nb\0dy"s;
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, s), "");
  EXPECT_EQ(s.envelope().subject(), "ab\xC3\xBF\xC3\xBE c");  // windows-1252 fallback.
  ASSERT_EQ(s.envelope().from_size(), 1);
  ExpectAddress(s.envelope().from(0), "J\xC3\xB6rg", "j", "xy");
  EXPECT_EQ(s.body().body_size(), 4u);
  EXPECT_EQ(s.decoded_headers(2).name(), "x-\xC3\xBF");
}

TEST(MimeParserTest, HeaderFieldsAreBounded) {
  std::string raw;
  for (int i = 0; i < 20; ++i) raw += "X-Field-" + std::to_string(i) + ": v\r\n";
  raw += "\r\n";
  MimeLimits limits;
  limits.max_header_fields = 5;
  const MessageStructure s = ParseMessage(raw, limits);
  EXPECT_EQ(CheckInvariants(raw, s, limits), "");
  ASSERT_EQ(s.decoded_headers_size(), 5);
  EXPECT_EQ(s.decoded_headers(4).name(), "x-field-4");
  EXPECT_EQ(s.decoded_headers(4).decoded(), "v");
}

// ---------------------------------------------------------------------------------------
// Limits and hostile input.

std::string NestedMultiparts(int levels) {
  std::string raw;
  for (int i = 0; i < levels; ++i) {
    const std::string b = "b" + std::to_string(i) + "z";  // Not a prefix of another one.
    raw += "Content-Type: multipart/mixed; boundary=" + b + "\r\n\r\n--" + b + "\r\n";
  }
  raw += "Content-Type: text/plain\r\n\r\ndeep\r\n";
  for (int i = levels; i-- > 0;) raw += "--b" + std::to_string(i) + "z--\r\n";
  return raw;
}

TEST(MimeParserTest, DepthIsBounded) {
  const std::string raw = NestedMultiparts(3000);
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, s), "");

  MimeLimits small;
  small.max_depth = 3;
  const MessageStructure t = ParseMessage(raw, small);
  EXPECT_EQ(CheckInvariants(raw, t, small), "");
  const BodyPart* p = &t.body();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(p->type(), "multipart");
    ASSERT_EQ(p->children_size(), 1);
    p = &p->children(0);
  }
  EXPECT_EQ(p->type(), "application");  // The fourth level is opaque.
  EXPECT_TRUE(p->malformed());

  // Nested message/rfc822 (no boundaries at all).
  std::string messages;
  for (int i = 0; i < 3000; ++i) messages += "Content-Type: message/rfc822\r\n\r\n";
  messages += "Subject: deepest\r\n\r\nbody\r\n";
  const MessageStructure m = ParseMessage(messages);
  EXPECT_EQ(CheckInvariants(messages, m), "");

  // A caller's huge limit is clamped so the result still parses back from the wire.
  MimeLimits huge;
  huge.max_depth = 1 << 30;
  const MessageStructure h = ParseMessage(raw, huge);
  MessageStructure copy;
  EXPECT_TRUE(copy.ParseFromString(h.SerializeAsString()));
}

TEST(MimeParserTest, PartCountIsBounded) {
  std::string raw = "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (int i = 0; i < 30000; ++i) raw += "--p\r\n\r\nx\r\n";
  raw += "--p--\r\n";
  MimeLimits limits;
  limits.max_parts = 100;
  const MessageStructure s = ParseMessage(raw, limits);
  EXPECT_EQ(CheckInvariants(raw, s, limits), "");
  EXPECT_EQ(s.body().children_size(), 99);
  EXPECT_TRUE(s.body().malformed());
  EXPECT_EQ(s.body().body_offset() + s.body().body_size(), raw.size());

  const MessageStructure d = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, d), "");
  EXPECT_EQ(d.body().children_size(), 9999);
}

TEST(MimeParserTest, HugeHeadersAreLinear) {
  std::string raw = "Subject: start";
  for (int i = 0; i < 200000; ++i) raw += "\r\n continued";
  raw += "\r\n";
  for (int i = 0; i < 200000; ++i) raw += "X-H: =?UTF-8?Q?v=C3=A4lue?=\r\n";
  raw += "To: ";
  for (int i = 0; i < 50000; ++i) raw += "a" + std::to_string(i) + "@example.com, ";
  raw += "\r\n";
  for (int i = 0; i < 300; ++i) {  // Quadratic for GMime's address parser.
    raw += "Cc: ";
    for (int j = 0; j < 8000; ++j) raw += "a,";
    raw += "\r\n";
  }
  raw += "Content-Type: text/plain; ";
  for (int i = 0; i < 50000; ++i) raw += "p" + std::to_string(i) + "*" + std::to_string(i) + "=x;";
  raw += "\r\n\r\n";
  raw += std::string(1 << 20, '-');
  const auto start = std::chrono::steady_clock::now();
  const MessageStructure s = ParseMessage(raw);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(CheckInvariants(raw, s), "");
  EXPECT_EQ(s.decoded_headers_size(), 5000);
  EXPECT_EQ(s.decoded_headers(1).decoded(), "välue");
  EXPECT_EQ(s.envelope().to_size(), 10000);
  EXPECT_TRUE(s.envelope().subject().starts_with("start continued continued"));
  EXPECT_LT(elapsed, std::chrono::seconds(20));  // Quadratic behavior would take hours.
}

TEST(MimeParserTest, ManyBoundaryLikeLines) {
  std::string raw = NestedMultiparts(50);
  std::string noise;
  for (int i = 0; i < 100000; ++i) noise += "--b4" + std::to_string(i % 7) + "x\r\n--b4\r\n";
  raw.insert(raw.find("deep"), noise);
  const MessageStructure s = ParseMessage(raw);
  EXPECT_EQ(CheckInvariants(raw, s), "");
}

// Every truncation of every test message (as a stored message may be cut anywhere).
TEST(MimeParserTest, EveryPrefixOfEveryTestMessage) {
  for (const std::string& name : TestFileNames()) {
    for (const Eol eol : {Eol::kCrlf, Eol::kLf}) {
      const std::string raw = Load(name, eol);
      for (size_t len = 0; len <= raw.size(); ++len) {
        const std::string_view prefix(raw.data(), len);
        const MessageStructure s = ParseMessage(prefix);
        ASSERT_EQ(CheckInvariants(prefix, s), "") << name << " prefix " << len;
      }
    }
  }
}

// Random mutations with a fixed seed: byte flips, insertions of structural bytes, deletions,
// duplications.
TEST(MimeParserTest, RandomMutationsOfTestMessages) {
  std::mt19937 rng(20230102);
  const std::vector<std::string> inserts = {
      "\r\n", "\n", "--", "\0", "\xff", ";", "\"", "(", "=?UTF-8?B?", "*0*=", "\r\n\r\n", ":", "<"};
  MimeLimits limits;
  limits.max_depth = 4;
  limits.max_parts = 8;
  limits.max_header_fields = 10;
  for (const std::string& name : TestFileNames()) {
    const std::string original = Load(name, Eol::kCrlf);
    for (int round = 0; round < 300; ++round) {
      std::string raw = original;
      const int edits = 1 + static_cast<int>(rng() % 8);
      for (int e = 0; e < edits && !raw.empty(); ++e) {
        const size_t pos = rng() % raw.size();
        switch (rng() % 5) {
          case 0:
            raw[pos] = static_cast<char>(rng() % 256);
            break;
          case 1: {
            const std::string& ins = inserts[rng() % inserts.size()];
            raw.insert(pos, ins.empty() ? std::string(1, '\0') : ins);
            break;
          }
          case 2:
            raw.erase(pos, rng() % 64);
            break;
          case 3:
            raw.insert(pos, raw.substr(rng() % raw.size(), rng() % 128));
            break;
          default: {
            // A boundary-looking line made of existing text.
            const size_t from = rng() % raw.size();
            raw.insert(pos, "\r\n--" + raw.substr(from, rng() % 24) + "\r\n");
            break;
          }
        }
      }
      const MessageStructure s = ParseMessage(raw);
      ASSERT_EQ(CheckInvariants(raw, s), "") << name << " round " << round;
      const MessageStructure bounded = ParseMessage(raw, limits);
      ASSERT_EQ(CheckInvariants(raw, bounded, limits), "") << name << " round " << round;
    }
  }
}

}  // namespace
}  // namespace mailboxstore
