// Rendering of IMAP FETCH data items from the structure the mailbox store computed at delivery
// (ENVELOPE, BODY, BODYSTRUCTURE: RFC 3501 7.4.2 / RFC 9051 7.5.2), and the byte-level helpers
// for section fetches (HEADER.FIELDS[.NOT], <origin.count> partials, BINARY decoding per
// RFC 3516). Pure functions over protobuf messages and bytes: no sockets, no store.
//
// Strings are quoted when every byte may appear in a quoted string ("\" and DQUOTE escaped),
// otherwise sent as a literal "{n}" CRLF bytes (CR, LF, 8-bit). NUL bytes, which no IMAP string
// can carry, are dropped. Subjects and display names are tidied for humans as Dovecot does
// (TAB becomes a space, runs of white space collapse to one, leading and trailing white space
// is removed). Where Dovecot differs (it sends types in the case the message used, and a
// subject or display name holding DQUOTE or "\" as a literal) the RFCs allow either form.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mail_text.h"
#include "common/status.h"
#include "store.pb.h"

namespace cas::imap {

// `utf8`: the session may send UTF-8 in quoted strings (IMAP4rev2, RFC 9051, or UTF8=ACCEPT,
// RFC 6855). Default: false, so any 8-bit byte forces a literal (RFC 3501 quoted strings are
// 7-bit); invalid UTF-8 is always sent as a literal.

// The ENVELOPE value, parentheses included:
//   ("date" "subject" ((from)) ((sender)) ((reply-to)) ((to)) ((cc)) ((bcc)) "in-reply-to"
//    "message-id")
// Absent fields and empty address lists are NIL; an address is (name adl mailbox host);
// a group is (NIL NIL "group" NIL) followed by its members and (NIL NIL NIL NIL).
std::string EnvelopeString(const mail::v1::Envelope& envelope, bool utf8 = false);

// The BODYSTRUCTURE value (`extensible` = true, with extension data) or the BODY value
// (`extensible` = false) of `part`, parentheses included. Types, subtypes, disposition types
// and parameter names are upper-case ("TEXT" "PLAIN" ("CHARSET" "utf-8")); parameter values
// are sent as stored. Multipart children are concatenated without separators and followed
// by the subtype; text/* adds its line count; message/rfc822 adds the envelope, the body of
// the encapsulated message and the line count.
std::string BodyStructureString(const mail::v1::BodyPart& part, bool extensible, bool utf8 = false);

// BODY[HEADER.FIELDS (fields)] (`exclude` = false) or BODY[HEADER.FIELDS.NOT (fields)]
// (`exclude` = true) of a raw header block (as BODY[HEADER] / BODY[n.MIME] returns it; the
// block ends at its blank line, anything after it is ignored). Field names match ignoring
// ASCII case; a field keeps its folded continuation lines; fields keep their order; every
// line ends in CRLF (bare LF is converted) and the result always ends with the blank line, so
// no match yields "\r\n". A line without a colon is no field: it is kept only by .NOT.
std::string HeaderFields(std::string_view header_block, const std::vector<std::string>& fields,
                         bool exclude);

// The <origin.count> slice of `data` (RFC 3501 6.4.5): empty when `origin` is at or beyond
// the end, cut short at the end; no `count` means to the end. The result points into `data`.
std::string_view Partial(std::string_view data, uint64_t origin, std::optional<uint64_t> count);

// The FETCH response item name for a partial fetch: "BODY[1.2]" with origin 0 becomes
// "BODY[1.2]<0>" (the count is not repeated); without an origin `item` is returned as is.
std::string PartialItemName(std::string_view item, std::optional<uint64_t> origin);

// Content-Transfer-Encoding decoding for BINARY[section] (RFC 3516); see common/mail_text.h.
// Either failure is reported to the client as NO [UNKNOWN-CTE].
using common::DecodeTransferEncoding;

// The INTERNALDATE value, double quotes included, in UTC: "\"26-Nov-2026 10:00:00 +0000\"".
// The day has two digits ("02-Jan-2023", date-day-fixed allows 2DIGIT), as Dovecot sends it;
// times outside the years 1..9999 are clamped to them.
std::string FormatInternalDate(int64_t unix_seconds);

}  // namespace cas::imap
