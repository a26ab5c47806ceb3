// BuildDsn: the reports are read back with GMime, as a mail client would, and checked for the
// RFC 6522 structure, the RFC 3464 fields, the returned original, and RFC 5322 line rules.
#include "transport/queue/dsn.h"

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

namespace transport::queue {
namespace {

using mail::v1::QueuedMessage;

constexpr int64_t kNow = 1772528700;       // Tue, 03 Mar 2026 09:05:00 +0000
constexpr int64_t kReceived = 1772442000;  // Mon, 02 Mar 2026 09:00:00 +0000
constexpr int64_t kExpires = 1772874000;   // Sat, 07 Mar 2026 09:00:00 +0000

const std::string kOriginal =
    "From: Alice <alice@example.test>\r\n"
    "To: Bob <bob@example.org>\r\n"
    "Subject: Quarterly numbers\r\n"
    "Message-ID: <orig-1@example.test>\r\n"
    "\r\n"
    "Hi Bob,\r\n"
    "the numbers are attached.\r\n";

class Gmime : public ::testing::Environment {
 public:
  void SetUp() override { g_mime_init(); }
};
const auto* const kGmime = ::testing::AddGlobalTestEnvironment(new Gmime);

// One parsed report: the message and its decoded parts.
struct Parsed {
  GMimeMessage* message = nullptr;
  std::string content_type;  // Of the top-level part, "type/subtype".
  std::string report_type;
  std::vector<std::string> part_types;
  std::vector<GMimeObject*> parts;
  ~Parsed() {
    if (message != nullptr) g_object_unref(message);
  }
  std::string Header(const char* name) const {
    const char* v = g_mime_object_get_header(GMIME_OBJECT(message), name);
    return v == nullptr ? "" : v;
  }
  std::string Subject() const {
    const char* v = g_mime_message_get_subject(message);
    return v == nullptr ? "" : v;
  }
};

std::string TypeOf(GMimeObject* o) {
  GMimeContentType* ct = g_mime_object_get_content_type(o);
  return std::string(g_mime_content_type_get_media_type(ct)) + "/" +
         g_mime_content_type_get_media_subtype(ct);
}

// The decoded content of a leaf part.
std::string ContentOf(GMimeObject* o) {
  if (!GMIME_IS_PART(o)) return "";
  GMimeDataWrapper* wrapper = g_mime_part_get_content(GMIME_PART(o));
  if (wrapper == nullptr) return "";
  GMimeStream* mem = g_mime_stream_mem_new();
  g_mime_data_wrapper_write_to_stream(wrapper, mem);
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
  std::string out(reinterpret_cast<const char*>(bytes->data), bytes->len);
  g_object_unref(mem);
  return out;
}

std::unique_ptr<Parsed> Parse(const std::string& raw) {
  auto p = std::make_unique<Parsed>();
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(raw.data(), raw.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  p->message = g_mime_parser_construct_message(parser, nullptr);
  g_object_unref(parser);
  g_object_unref(stream);
  if (p->message == nullptr) return p;
  GMimeObject* top = g_mime_message_get_mime_part(p->message);
  p->content_type = TypeOf(top);
  const char* rt =
      g_mime_content_type_get_parameter(g_mime_object_get_content_type(top), "report-type");
  p->report_type = rt == nullptr ? "" : rt;
  if (GMIME_IS_MULTIPART(top)) {
    GMimeMultipart* mp = GMIME_MULTIPART(top);
    for (int i = 0; i < g_mime_multipart_get_count(mp); ++i) {
      GMimeObject* part = g_mime_multipart_get_part(mp, i);
      p->parts.push_back(part);
      p->part_types.push_back(TypeOf(part));
    }
  }
  return p;
}

// message/delivery-status content: groups of "Name: value" fields separated by empty lines.
using Fields = std::map<std::string, std::string>;
std::vector<Fields> StatusGroups(const std::string& content) {
  std::vector<Fields> groups(1);
  std::string last;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t eol = content.find('\n', pos);
    if (eol == std::string::npos) eol = content.size();
    std::string line = content.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (!groups.back().empty()) groups.emplace_back();
      continue;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !last.empty()) {
      groups.back()[last] += line;  // Unfold.
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    last = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value[0] == ' ') value.erase(0, 1);
    groups.back()[last] = value;
  }
  if (groups.back().empty()) groups.pop_back();
  return groups;
}

// Every line ends in CRLF, no bare CR or LF, no line longer than 998 octets.
void ExpectWellFormedLines(const std::string& raw) {
  ASSERT_GE(raw.size(), 2u);
  EXPECT_EQ(raw.substr(raw.size() - 2), "\r\n");
  size_t line_len = 0;
  size_t longest = 0;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r') {
      ASSERT_TRUE(i + 1 < raw.size() && raw[i + 1] == '\n') << "bare CR at " << i;
      longest = std::max(longest, line_len);
      line_len = 0;
      ++i;
    } else if (raw[i] == '\n') {
      FAIL() << "bare LF at " << i;
    } else {
      ++line_len;
    }
  }
  EXPECT_LE(longest, 998u);
}

// The header section of the report itself (everything before the first empty line).
std::string TopHeaders(const std::string& raw) { return raw.substr(0, raw.find("\r\n\r\n") + 2); }

QueuedMessage Message() {
  QueuedMessage m;
  m.set_id(4711);
  m.set_sender("alice@example.test");
  m.set_received_unix(kReceived);
  m.set_expires_unix(kExpires);
  m.set_next_hop("example.org");
  m.set_subject("Quarterly numbers");
  m.set_envid("QQ314159");
  auto* bob = m.add_recipients();
  bob->set_address("bob@example.org");
  bob->set_state(mail::v1::RECIPIENT_STATE_FAILED);
  bob->set_attempts(1);
  bob->set_last_response("550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown");
  bob->set_orcpt("rfc822;bob+2Bsales@example.org");
  auto* carol = m.add_recipients();
  carol->set_address("carol@example.org");
  carol->set_state(mail::v1::RECIPIENT_STATE_DELIVERED);
  carol->set_attempts(1);
  carol->set_last_response("250 2.0.0 Ok: queued as 4F2");
  auto* dave = m.add_recipients();
  dave->set_address("dave@example.org");
  dave->set_state(mail::v1::RECIPIENT_STATE_FAILED);
  dave->set_attempts(1);
  dave->set_last_response("552 5.2.2 <dave@example.org>: Mailbox full");
  return m;
}

DsnInput Input(const QueuedMessage* m, std::vector<int> rcpts, DsnAction action,
               std::string_view original = kOriginal) {
  DsnInput in;
  in.message = m;
  in.original = original;
  in.recipient_indexes = std::move(rcpts);
  in.action = action;
  in.reporting_mta = "mail.example.test";
  in.now_unix = kNow;
  in.postmaster_address = "postmaster@example.test";
  in.remote_mta = "mx1.example.org";
  return in;
}

TEST(DsnTest, FormatsRfc5322Dates) {
  EXPECT_EQ(FormatRfc5322Date(kNow), "Tue, 03 Mar 2026 09:05:00 +0000");
  EXPECT_EQ(FormatRfc5322Date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(DsnTest, FailedReportHasTheRfc3464Structure) {
  QueuedMessage m = Message();
  std::string raw = BuildDsn(Input(&m, {0, 2}, DsnAction::kFailed));
  ExpectWellFormedLines(raw);
  auto p = Parse(raw);
  ASSERT_NE(p->message, nullptr);

  EXPECT_EQ(p->Subject(), "Undeliverable: Quarterly numbers");
  EXPECT_EQ(p->Header("From"), "Mail Delivery System <postmaster@example.test>");
  EXPECT_EQ(p->Header("To"), "<alice@example.test>");
  EXPECT_EQ(p->Header("Auto-Submitted"), "auto-replied");
  EXPECT_EQ(p->Header("MIME-Version"), "1.0");
  EXPECT_EQ(p->Header("In-Reply-To"), "<orig-1@example.test>");
  EXPECT_NE(p->Header("Message-ID").find("@mail.example.test>"), std::string::npos);
  GDateTime* date = g_mime_message_get_date(p->message);
  ASSERT_NE(date, nullptr);
  EXPECT_EQ(g_date_time_to_unix(date), kNow);

  EXPECT_EQ(p->content_type, "multipart/report");
  EXPECT_EQ(p->report_type, "delivery-status");
  ASSERT_EQ(p->part_types,
            (std::vector<std::string>{"text/plain", "message/delivery-status", "message/rfc822"}));

  // The explanation names the recipients, quotes the server, and says what to do.
  std::string text = ContentOf(p->parts[0]);
  EXPECT_NE(text.find("could not be delivered"), std::string::npos);
  EXPECT_NE(text.find("bob@example.org"), std::string::npos);
  EXPECT_NE(text.find("dave@example.org"), std::string::npos);
  EXPECT_EQ(text.find("carol@example.org"), std::string::npos);
  EXPECT_NE(text.find("mx1.example.org"), std::string::npos);
  EXPECT_NE(text.find("Recipient address rejected: User unknown"), std::string::npos);
  EXPECT_NE(text.find("misspelled"), std::string::npos);
  EXPECT_NE(text.find("mailbox is full"), std::string::npos);
  EXPECT_NE(text.find("Quarterly numbers"), std::string::npos);

  std::vector<Fields> groups = StatusGroups(ContentOf(p->parts[1]));
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0]["Reporting-MTA"], "dns;mail.example.test");
  EXPECT_EQ(groups[0]["Original-Envelope-Id"], "QQ314159");
  EXPECT_EQ(groups[0]["Arrival-Date"], "Mon, 02 Mar 2026 09:00:00 +0000");
  EXPECT_EQ(groups[1]["Original-Recipient"], "rfc822;bob+sales@example.org");
  EXPECT_EQ(groups[1]["Final-Recipient"], "rfc822;bob@example.org");
  EXPECT_EQ(groups[1]["Action"], "failed");
  EXPECT_EQ(groups[1]["Status"], "5.1.1");
  EXPECT_EQ(groups[1]["Remote-MTA"], "dns;mx1.example.org");
  EXPECT_EQ(groups[1]["Diagnostic-Code"],
            "smtp; 550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown");
  EXPECT_EQ(groups[1]["Last-Attempt-Date"], "Tue, 03 Mar 2026 09:05:00 +0000");
  EXPECT_EQ(groups[1].count("Will-Retry-Until"), 0u);
  EXPECT_EQ(groups[2]["Final-Recipient"], "rfc822;dave@example.org");
  EXPECT_EQ(groups[2].count("Original-Recipient"), 0u);
  EXPECT_EQ(groups[2]["Status"], "5.2.2");
  EXPECT_EQ(groups[2]["Action"], "failed");

  // The original comes back whole.
  ASSERT_TRUE(GMIME_IS_MESSAGE_PART(p->parts[2]));
  GMimeMessage* original = g_mime_message_part_get_message(GMIME_MESSAGE_PART(p->parts[2]));
  ASSERT_NE(original, nullptr);
  EXPECT_STREQ(g_mime_message_get_subject(original), "Quarterly numbers");
  EXPECT_NE(raw.find(kOriginal), std::string::npos);
}

TEST(DsnTest, DelayedReportSaysUntilWhenRetriesContinue) {
  QueuedMessage m = Message();
  m.mutable_recipients(0)->set_last_response(
      "451 4.3.0 <bob@example.org>: Temporary lookup failure");
  m.mutable_recipients(0)->set_state(mail::v1::RECIPIENT_STATE_PENDING);
  m.mutable_recipients(0)->set_attempts(5);
  std::string raw = BuildDsn(Input(&m, {0}, DsnAction::kDelayed));
  ExpectWellFormedLines(raw);
  auto p = Parse(raw);
  ASSERT_NE(p->message, nullptr);
  EXPECT_EQ(p->Subject(), "Delivery delayed: Quarterly numbers");
  ASSERT_EQ(p->parts.size(), 3u);
  std::string text = ContentOf(p->parts[0]);
  EXPECT_NE(text.find("do not need to send it again"), std::string::npos);
  EXPECT_NE(text.find("until Sat, 07 Mar 2026 09:00:00 +0000"), std::string::npos);
  EXPECT_NE(text.find("Temporary lookup failure"), std::string::npos);
  std::vector<Fields> groups = StatusGroups(ContentOf(p->parts[1]));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1]["Action"], "delayed");
  EXPECT_EQ(groups[1]["Status"], "4.3.0");
  EXPECT_EQ(groups[1]["Will-Retry-Until"], "Sat, 07 Mar 2026 09:00:00 +0000");
  EXPECT_EQ(groups[1]["Diagnostic-Code"],
            "smtp; 451 4.3.0 <bob@example.org>: Temporary lookup failure");
  // Not a failure: only the header comes back (RFC 3461 section 4.3).
  EXPECT_EQ(p->part_types[2], "text/rfc822-headers");
  EXPECT_NE(ContentOf(p->parts[2]).find("Subject: Quarterly numbers"), std::string::npos);
  EXPECT_EQ(raw.find("the numbers are attached"), std::string::npos);
}

TEST(DsnTest, DeliveredReport) {
  QueuedMessage m = Message();
  std::string raw = BuildDsn(Input(&m, {1}, DsnAction::kDelivered));
  ExpectWellFormedLines(raw);
  auto p = Parse(raw);
  ASSERT_NE(p->message, nullptr);
  EXPECT_EQ(p->Subject(), "Delivered: Quarterly numbers");
  ASSERT_EQ(p->parts.size(), 3u);
  std::vector<Fields> groups = StatusGroups(ContentOf(p->parts[1]));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1]["Final-Recipient"], "rfc822;carol@example.org");
  EXPECT_EQ(groups[1]["Action"], "delivered");
  EXPECT_EQ(groups[1]["Status"], "2.0.0");
  EXPECT_NE(ContentOf(p->parts[0]).find("was delivered"), std::string::npos);
  EXPECT_EQ(p->part_types[2], "text/rfc822-headers");
}

TEST(DsnTest, RelayedReport) {
  QueuedMessage m = Message();
  std::string raw = BuildDsn(Input(&m, {1}, DsnAction::kRelayed));
  ExpectWellFormedLines(raw);
  auto p = Parse(raw);
  ASSERT_NE(p->message, nullptr);
  EXPECT_EQ(p->Subject(), "Relayed: Quarterly numbers");
  ASSERT_EQ(p->parts.size(), 3u);
  std::vector<Fields> groups = StatusGroups(ContentOf(p->parts[1]));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1]["Final-Recipient"], "rfc822;carol@example.org");
  // RFC 3464 section 2.3.3: passed to a next hop that will not report.
  EXPECT_EQ(groups[1]["Action"], "relayed");
  EXPECT_EQ(groups[1]["Status"], "2.0.0");
  EXPECT_NE(ContentOf(p->parts[0]).find("does not send delivery notifications"), std::string::npos);
  EXPECT_EQ(p->part_types[2], "text/rfc822-headers");
  EXPECT_EQ(raw.find("the numbers are attached"), std::string::npos);
}

TEST(DsnTest, StatusFallsBackToTheActionClass) {
  QueuedMessage m = Message();
  m.mutable_recipients(0)->set_last_response("554 no thanks");
  m.mutable_recipients(2)->set_last_response("connect to mx.example.org: Connection refused");
  auto* expired = m.add_recipients();
  expired->set_address("erin@example.org");
  expired->set_attempts(30);
  expired->set_last_response("451 4.4.1 connection timed out");
  auto* untried = m.add_recipients();
  untried->set_address("frank@example.org");
  DsnInput in = Input(&m, {0, 2, 3, 4}, DsnAction::kFailed);
  in.now_unix = kExpires + 1;
  in.remote_mta.clear();
  std::string raw = BuildDsn(in);
  ExpectWellFormedLines(raw);
  auto p = Parse(raw);
  ASSERT_EQ(p->parts.size(), 3u);
  std::vector<Fields> groups = StatusGroups(ContentOf(p->parts[1]));
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[1]["Status"], "5.0.0");
  EXPECT_EQ(groups[1]["Diagnostic-Code"], "smtp; 554 no thanks");
  EXPECT_EQ(groups[1].count("Remote-MTA"), 0u);
  EXPECT_EQ(groups[2]["Status"], "5.0.0");
  EXPECT_EQ(groups[2]["Diagnostic-Code"], "X-Local; connect to mx.example.org: Connection refused");
  EXPECT_EQ(groups[3]["Status"], "4.4.1");  // Expired after temporary errors.
  EXPECT_EQ(groups[3]["Action"], "failed");
  EXPECT_EQ(groups[4]["Status"], "5.0.0");
  EXPECT_EQ(groups[4].count("Diagnostic-Code"), 0u);
  EXPECT_EQ(groups[4].count("Last-Attempt-Date"), 0u);
  std::string text = ContentOf(p->parts[0]);
  EXPECT_NE(text.find("stopped trying"), std::string::npos);
  EXPECT_NE(text.find("Reason:"), std::string::npos);
}

TEST(DsnTest, RetHdrsReturnsOnlyTheHeader) {
  QueuedMessage m = Message();
  m.set_ret_headers_only(true);
  std::string raw = BuildDsn(Input(&m, {0}, DsnAction::kFailed));
  ExpectWellFormedLines(raw);
  auto p = Parse(raw);
  ASSERT_EQ(p->part_types, (std::vector<std::string>{"text/plain", "message/delivery-status",
                                                     "text/rfc822-headers"}));
  std::string headers = ContentOf(p->parts[2]);
  EXPECT_NE(headers.find("Subject: Quarterly numbers"), std::string::npos);
  EXPECT_NE(headers.find("Message-ID: <orig-1@example.test>"), std::string::npos);
  EXPECT_EQ(headers.find("the numbers are attached"), std::string::npos);
  EXPECT_EQ(raw.find("the numbers are attached"), std::string::npos);
  EXPECT_NE(ContentOf(p->parts[0]).find("Only the header"), std::string::npos);
}

TEST(DsnTest, LargeOriginalReturnsOnlyTheHeader) {
  QueuedMessage m = Message();
  std::string big = kOriginal;
  std::string line(76, 'x');
  line += "\r\n";
  while (big.size() <= kDsnMaxReturnedOriginal) big += line;
  std::string raw = BuildDsn(Input(&m, {0}, DsnAction::kFailed, big));
  EXPECT_LT(raw.size(), 64u * 1024);
  ExpectWellFormedLines(raw);
  auto p = Parse(raw);
  ASSERT_EQ(p->part_types.size(), 3u);
  EXPECT_EQ(p->part_types[2], "text/rfc822-headers");
  EXPECT_NE(ContentOf(p->parts[2]).find("Subject: Quarterly numbers"), std::string::npos);
}

TEST(DsnTest, NonAsciiSubjectIsEncoded) {
  QueuedMessage m = Message();
  m.set_subject("Grüße aus München — 你好");
  std::string raw = BuildDsn(Input(&m, {0}, DsnAction::kFailed));
  ExpectWellFormedLines(raw);
  std::string top = TopHeaders(raw);
  for (char c : top) ASSERT_EQ(c & 0x80, 0) << "8-bit header: " << top;
  auto p = Parse(raw);
  ASSERT_NE(p->message, nullptr);
  EXPECT_EQ(p->Subject(), "Undeliverable: Grüße aus München — 你好");
  // The explanation carries it too, in a declared charset.
  EXPECT_NE(ContentOf(p->parts[0]).find("Grüße aus München"), std::string::npos);
}

TEST(DsnTest, LongNonAsciiSubjectIsFolded) {
  QueuedMessage m = Message();
  std::string subject;
  for (int i = 0; i < 60; ++i) subject += "Größenänderung ";
  subject.pop_back();
  m.set_subject(subject);
  std::string raw = BuildDsn(Input(&m, {0}, DsnAction::kDelayed));
  ExpectWellFormedLines(raw);
  std::string top = TopHeaders(raw);
  size_t pos = 0;
  while (pos < top.size()) {
    size_t eol = top.find("\r\n", pos);
    EXPECT_LE(eol - pos, 78u) << top.substr(pos, eol - pos);
    pos = eol + 2;
  }
  auto p = Parse(raw);
  EXPECT_EQ(p->Subject(), "Delivery delayed: " + subject);
}

TEST(DsnTest, EncodedWordSubjectFromTheOriginalStaysValid) {
  QueuedMessage m = Message();
  m.clear_subject();
  std::string original =
      "From: alice@example.test\r\n"
      "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"
      "\r\n"
      "body\r\n";
  std::string raw = BuildDsn(Input(&m, {0}, DsnAction::kFailed, original));
  ExpectWellFormedLines(raw);
  auto p = Parse(raw);
  EXPECT_EQ(p->Subject(), "Undeliverable: Grüße");
}

TEST(DsnTest, LfOnlyOriginalIsSentWithCrlf) {
  QueuedMessage m = Message();
  std::string original = "Subject: Quarterly numbers\nFrom: alice@example.test\n\nline 1\nline 2\n";
  std::string raw = BuildDsn(Input(&m, {0}, DsnAction::kFailed, original));
  ExpectWellFormedLines(raw);
  EXPECT_NE(raw.find("\r\n\r\nline 1\r\nline 2\r\n"), std::string::npos);
  auto p = Parse(raw);
  ASSERT_EQ(p->part_types.size(), 3u);
  EXPECT_EQ(p->part_types[2], "message/rfc822");
}

TEST(DsnTest, OverlongLinesNeverReachTheReport) {
  QueuedMessage m = Message();
  m.set_subject(std::string(1500, 'S'));  // One word, too long to fold.
  m.mutable_recipients(0)->set_last_response("550 5.7.1 " + std::string(3000, 'R'));
  std::string original = "Subject: x\r\nX-Long: " + std::string(1200, 'h') + "\r\n\r\n" +
                         std::string(2000, 'b') + "\r\n";
  std::string raw = BuildDsn(Input(&m, {0}, DsnAction::kFailed, original));
  ExpectWellFormedLines(raw);
  auto p = Parse(raw);
  ASSERT_NE(p->message, nullptr);
  EXPECT_EQ(p->Subject(), "Undeliverable: " + std::string(1500, 'S'));
  ASSERT_EQ(p->part_types.size(), 3u);
  // A body with overlong lines cannot travel as message/rfc822: its header does.
  EXPECT_EQ(p->part_types[2], "text/rfc822-headers");
  EXPECT_NE(ContentOf(p->parts[2]).find("X-Long: " + std::string(1200, 'h')), std::string::npos);
  EXPECT_NE(ContentOf(p->parts[0]).find(std::string(3000, 'R')), std::string::npos);
  std::vector<Fields> groups = StatusGroups(ContentOf(p->parts[1]));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1]["Status"], "5.7.1");
  EXPECT_NE(ContentOf(p->parts[0]).find("anti-spam"), std::string::npos);
}

TEST(DsnTest, NulInTheOriginalReturnsOnlyTheHeader) {
  QueuedMessage m = Message();
  std::string original = "Subject: nul\r\n\r\nbinary ";
  original += '\0';
  original += " junk\r\n";
  DsnInput in = Input(&m, {0}, DsnAction::kFailed, original);
  in.reporting_mta = "mail example.test<>";  // Not a host name: cleaned.
  std::string raw = BuildDsn(in);
  ExpectWellFormedLines(raw);
  EXPECT_EQ(raw.find('\0'), std::string::npos);
  auto p = Parse(raw);
  ASSERT_EQ(p->part_types.size(), 3u);
  EXPECT_EQ(p->part_types[2], "text/rfc822-headers");
  EXPECT_EQ(StatusGroups(ContentOf(p->parts[1]))[0]["Reporting-MTA"], "dns;mailexample.test");
}

TEST(DsnTest, EightBitOriginalIsDeclared) {
  QueuedMessage m = Message();
  std::string original =
      "Subject: Gr\xc3\xbc\xc3\x9f\xc3\xa9\r\n\r\nSch\xc3\xb6ne Gr\xc3\xbc\xc3\x9f\xc3\xa9\r\n";
  std::string raw = BuildDsn(Input(&m, {0}, DsnAction::kFailed, original));
  ExpectWellFormedLines(raw);
  EXPECT_NE(TopHeaders(raw).find("Content-Transfer-Encoding: 8bit\r\n"), std::string::npos);
  auto p = Parse(raw);
  ASSERT_EQ(p->part_types.size(), 3u);
  EXPECT_EQ(p->part_types[2], "message/rfc822");
  EXPECT_NE(raw.find(original), std::string::npos);
  // A 7-bit original gives a 7-bit report.
  raw = BuildDsn(Input(&m, {0}, DsnAction::kFailed));
  EXPECT_NE(TopHeaders(raw).find("Content-Transfer-Encoding: 7bit\r\n"), std::string::npos);
  for (char c : raw) ASSERT_EQ(c & 0x80, 0);
}

TEST(DsnTest, BoundaryDoesNotOccurInTheOriginal) {
  QueuedMessage m = Message();
  std::string original = "Subject: tricky\r\n\r\n--=_dsn_4711_" + std::to_string(kNow) +
                         "\r\n--=_dsn_4711_" + std::to_string(kNow) + "_1--\r\nend\r\n";
  std::string raw = BuildDsn(Input(&m, {0}, DsnAction::kFailed, original));
  ExpectWellFormedLines(raw);
  auto p = Parse(raw);
  ASSERT_EQ(p->part_types.size(), 3u);
  EXPECT_EQ(p->part_types[2], "message/rfc822");
  EXPECT_NE(raw.find(original), std::string::npos);
}

TEST(DsnTest, NonAsciiRecipientUsesUtf8AddressType) {
  QueuedMessage m = Message();
  m.mutable_recipients(0)->set_address("jörg@example.org");
  std::string raw = BuildDsn(Input(&m, {0}, DsnAction::kFailed));
  ExpectWellFormedLines(raw);
  auto p = Parse(raw);
  std::vector<Fields> groups = StatusGroups(ContentOf(p->parts[1]));
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1]["Final-Recipient"], "utf-8;j\\x{F6}rg@example.org");
}

TEST(DsnTest, SameInputSameBytesAndDistinctMessageIds) {
  QueuedMessage m = Message();
  EXPECT_EQ(BuildDsn(Input(&m, {0}, DsnAction::kFailed)),
            BuildDsn(Input(&m, {0}, DsnAction::kFailed)));
  auto a = Parse(BuildDsn(Input(&m, {0}, DsnAction::kFailed)));
  auto b = Parse(BuildDsn(Input(&m, {2}, DsnAction::kFailed)));
  auto c = Parse(BuildDsn(Input(&m, {0}, DsnAction::kDelayed)));
  EXPECT_NE(a->Header("Message-ID"), b->Header("Message-ID"));
  EXPECT_NE(a->Header("Message-ID"), c->Header("Message-ID"));
}

// Whatever the envelope and the remote server sent, the report keeps the line rules and its
// three parts.
TEST(DsnTest, ArbitraryInputsStayWellFormed) {
  std::mt19937 rng(3464);
  auto junk = [&](size_t max_len) {
    static const std::string kPieces[] = {
        "\r", "\n", "\r\n", " ", "\t", "\x80", "\xc3\xa9", "\xff",
        "=?", "?=", "--",   "a", "Z",  ";",    "+2B",      std::string(1, '\0')};
    std::string out;
    size_t len = rng() % max_len;
    while (out.size() < len) {
      out += rng() % 3 == 0 ? kPieces[rng() % std::size(kPieces)]
                            : std::string(rng() % 40 + 1, static_cast<char>('a' + rng() % 26));
    }
    return out;
  };
  for (int i = 0; i < 300; ++i) {
    QueuedMessage m = Message();
    m.set_subject(junk(i % 10 == 0 ? 3000 : 200));
    m.set_sender(junk(60));
    m.set_envid(junk(120));
    m.set_ret_headers_only(rng() % 4 == 0);
    for (auto& r : *m.mutable_recipients()) {
      r.set_address(junk(80));
      r.set_orcpt(junk(80));
      r.set_last_response(junk(i % 7 == 0 ? 2500 : 300));
    }
    std::string original = junk(i % 5 == 0 ? 4000 : 600);
    DsnInput in = Input(&m, {0, 1, 2}, static_cast<DsnAction>(rng() % 3), original);
    in.reporting_mta = junk(40);
    in.remote_mta = junk(40);
    std::string raw = BuildDsn(in);
    ExpectWellFormedLines(raw);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "iteration " << i;
      return;
    }
    auto p = Parse(raw);
    ASSERT_NE(p->message, nullptr) << i;
    ASSERT_EQ(p->part_types.size(), 3u) << i;
    EXPECT_EQ(p->part_types[1], "message/delivery-status") << i;
    EXPECT_EQ(StatusGroups(ContentOf(p->parts[1])).size(), 4u) << i;
    for (char c : ContentOf(p->parts[1])) ASSERT_EQ(c & 0x80, 0) << i;
  }
}

TEST(DsnTest, IgnoresIndexesOutOfRange) {
  QueuedMessage m = Message();
  std::string raw = BuildDsn(Input(&m, {-1, 0, 0, 99}, DsnAction::kFailed));
  auto p = Parse(raw);
  EXPECT_EQ(StatusGroups(ContentOf(p->parts[1])).size(), 2u);
}

}  // namespace
}  // namespace transport::queue
