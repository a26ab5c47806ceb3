// Building IMAP4 server responses: strings in the right form (atom, quoted, literal), flag
// lists, mailbox names, dates, and the tagged/untagged/continuation lines. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cas/imap/codec/command.h"
#include "common/status.h"

namespace cas::imap {

// Strings longer than this are sent as literals even when they could be quoted.
inline constexpr size_t kMaxQuotedLength = 1024;

// True if `s` can be sent as a quoted string: no NUL, CR or LF, and no 8-bit byte unless
// `utf8` (UTF8=ACCEPT enabled) and `s` is valid UTF-8.
bool CanQuote(std::string_view s, bool utf8 = false);
// True if `s` is a non-empty run of ASTRING-CHAR (so it can be sent as an atom).
bool IsAstringAtom(std::string_view s);

// Appends `s` as a quoted string ("\" and DQUOTE escaped). The caller checked CanQuote().
void AppendQuoted(std::string* out, std::string_view s);
// Appends `s` as a literal: "{n}" CRLF and the bytes.
void AppendLiteral(std::string* out, std::string_view s);
// string: quoted when CanQuote() and not longer than kMaxQuotedLength, a literal otherwise.
void AppendString(std::string* out, std::string_view s, bool utf8 = false);
// astring: an atom when IsAstringAtom() (and not "NIL"), otherwise as AppendString().
void AppendAstring(std::string* out, std::string_view s, bool utf8 = false);
// nstring: NIL for std::nullopt, otherwise as AppendString().
void AppendNString(std::string* out, const std::optional<std::string>& s, bool utf8 = false);
// "(\Seen \Answered $Label1)". Flags are written as atoms; the caller passes valid flags.
void AppendFlagList(std::string* out, const std::vector<std::string>& flags);

// Appends a mailbox name held as UTF-8: modified UTF-7 (RFC 3501 5.1.3) unless `utf8_accept`,
// then as an astring. Fails only if `utf8_name` is not valid UTF-8.
[[nodiscard]] common::Status AppendMailbox(std::string* out, std::string_view utf8_name,
                                           bool utf8_accept);

// date-time (RFC 3501): "26-Nov-2026 10:00:00 +0000", including the double quotes, for the time
// `unix_seconds` shown in the zone `zone_offset_minutes` east of UTC. Days below 10 are padded
// with a space (" 6-Nov-2026"); years are clamped to 0000..9999.
std::string FormatDateTime(int64_t unix_seconds, int zone_offset_minutes = 0);

struct DateTime {
  int64_t unix_seconds = 0;
  int zone_offset_minutes = 0;
  bool operator==(const DateTime&) const = default;
};
// Parses the content of an APPEND date-time (without the double quotes), e.g.
// "26-Nov-2026 10:00:00 +0100" or " 6-Nov-2026 ..." (a one-digit day is also accepted).
common::StatusOr<DateTime> ParseDateTime(std::string_view text);

// Days since 1970-01-01 for a proleptic Gregorian date, and the month/day validity check used
// by the date parsers.
int64_t DaysFromCivil(int year, int month, int day);
bool IsValidDate(int year, int month, int day);
// "Jan".."Dec" -> 1..12 ignoring case, 0 otherwise.
int ParseMonthName(std::string_view name);

// A set of numbers as IMAP writes it ("1:3,7,9:12"). `ranges` are ordered first <= last,
// ascending and not overlapping (as SequenceSet::Resolve returns them); empty gives "".
std::string FormatRanges(const std::vector<SeqRange>& ranges);
// The same for ascending, distinct numbers: {1, 2, 3, 7} -> "1:3,7".
std::string FormatNumbers(const std::vector<uint32_t>& numbers);
// Ascending, distinct numbers merged into ranges.
std::vector<SeqRange> ToRanges(const std::vector<uint32_t>& numbers);

// "* VANISHED 3:5,9" or "* VANISHED (EARLIER) 3:5,9" (RFC 7162 3.2.10), with CRLF; "" when
// `uids` is empty (the response never carries an empty set).
std::string Vanished(const std::vector<SeqRange>& uids, bool earlier);

// Response lines, each ending in CRLF. `code` is a response code with or without its square
// brackets ("READ-WRITE" or "[READ-WRITE]"), empty for none. CR, LF and NUL in `text` and
// `code` are replaced by spaces, so client-supplied text cannot inject lines.
//   Tagged("A1", "OK", "[READ-WRITE]", "SELECT completed") -> "A1 OK [READ-WRITE] SELECT ..."
std::string Tagged(std::string_view tag, std::string_view status, std::string_view code,
                   std::string_view text);
//   UntaggedStatus("OK", "UIDVALIDITY 3", "UIDs valid") -> "* OK [UIDVALIDITY 3] UIDs valid"
std::string UntaggedStatus(std::string_view status, std::string_view code, std::string_view text);
//   Untagged("3 EXISTS") -> "* 3 EXISTS". `data` is sent as is (it may contain literals).
std::string Untagged(std::string_view data);
//   Continuation("Ready for literal data") -> "+ Ready for literal data"
std::string Continuation(std::string_view text);

}  // namespace cas::imap
