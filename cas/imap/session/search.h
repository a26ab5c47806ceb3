// SEARCH evaluation (RFC 3501 6.4.4, RFC 9051 6.4.4, MODSEQ from RFC 7162, OLDER/YOUNGER from
// RFC 5032): does one message match a parsed SearchKey tree? Pure logic over the stored
// MessageRecord and, for BODY/TEXT, either the raw message bytes or the answers of the store's
// text and header search (MatchesWithText): no I/O, no store. The session reads records only
// when NeedsStoredRecord() (with structures only when NeedsSentDate()), otherwise works from
// its view, decides what it can without the store (MatchesWithoutBody), and sends the rest to
// the store in one SearchText call. Matches() with the raw message is the reference the tests
// compare that path with. The text rules (decoding, charsets, folding) live in
// common/mail_text.h, shared with the store.
//
// Matching rules (Dovecot-compatible where the RFCs leave room):
//   - Sequence sets use `*` = max_seq, UID sets `*` = max_uid; "UID n:*" with n beyond the
//     largest UID matches the last message (RFC 3501 6.4.8). "$" (RFC 5182) must be replaced
//     by the saved set before evaluation: an unresolved "$" matches nothing.
//   - \Recent is never set here: RECENT and NEW match nothing, OLD matches everything.
//   - Flags and KEYWORD compare ignoring ASCII case.
//   - BEFORE/ON/SINCE compare the calendar day of the internal date in UTC. SENTBEFORE/SENTON/
//     SENTSINCE compare the day of the Date header in the zone it was written in ("disregarding
//     time and timezone"); without a valid Date header the internal date is used.
//   - OLDER n: the internal date is more than n seconds before now; YOUNGER n: at most n
//     seconds before now (RFC 5032), so the two are complementary.
//   - FROM/TO/CC/BCC/SUBJECT/HEADER match a substring of the decoded (RFC 2047, unfolded) value
//     of any top-level header field with that name; HEADER with an empty string matches every
//     message that has the field. BODY matches a substring of the text/* parts (the
//     encapsulated messages' parts included) after transfer decoding and conversion of their
//     charset to UTF-8; other parts are not searched. TEXT matches the decoded header block
//     ("name: value" lines) or the body as BODY does.
//   - Text comparisons ignore case with a simple Unicode case folding (ASCII, Latin-1, Latin
//     Extended-A and Additional, Greek, Cyrillic, Armenian, fullwidth Latin); no other
//     normalisation (accents and white space are significant).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cas/imap/codec/command.h"
#include "store.pb.h"

namespace cas::imap {

struct SearchMessage {
  uint32_t seq = 0;  // 1-based sequence number in the session's view.
  // With `structure` filled when NeedsStructure(key). Not owned; must outlive Matches().
  const mail::v1::MessageRecord* rec = nullptr;
};

struct SearchLimits {
  uint32_t max_seq = 0;  // The number of messages in the view: what "*" means in a sequence set.
  uint32_t max_uid = 0;  // The largest UID in the view: what "*" means in a UID set.
  int64_t now_unix = 0;  // The clock for OLDER/YOUNGER.
  // Decoded body text examined per message by BODY/TEXT; the rest of a larger body is not
  // searched. Default: 10 MiB.
  size_t max_body_text_bytes = 10 * 1024 * 1024;
};

// True if evaluating `key` with Matches() reads the message structure (header, address,
// subject, sent-date, BODY and TEXT keys).
bool NeedsStructure(const SearchKey& key);

// True if evaluating `key` needs the raw message (BODY, TEXT).
bool NeedsBody(const SearchKey& key);

// True if message `m` matches `key`. `raw` returns the raw message bytes; it is called at most
// once per call of Matches and only when a BODY or TEXT key has to be evaluated (cheaper keys
// of an AND are evaluated first, so a message they rule out is never read). The returned view
// must stay valid until Matches returns. Never fails: data that cannot be decoded just does not
// match.
bool Matches(const SearchKey& key, const SearchMessage& m, const SearchLimits& limits,
             const std::function<std::string_view()>& raw);

// True if `key` looks at what a session's view of the folder does not hold: the internal
// date, the size or the sent date (BEFORE/ON/SINCE, OLDER/YOUNGER, LARGER/SMALLER, SENT*).
// Otherwise UID, flags and MODSEQ from the view and the store's answers for text and header
// keys decide, and no record is read.
bool NeedsStoredRecord(const SearchKey& key);

// True if `key` has SENTBEFORE/SENTON/SENTSINCE: with the store answering the text and header
// keys, these are the only keys the session evaluates from the message structure.
bool NeedsSentDate(const SearchKey& key);

// BODY and TEXT (and, for records fetched without structure, FROM/TO/CC/BCC/SUBJECT/HEADER)
// answered from elsewhere: true if the message matches that key. A session asks the store,
// which searches the messages where they are (one call per SEARCH command).
using TextOracle = std::function<bool(const SearchKey& key)>;

// Like Matches, but BODY and TEXT keys are answered by `text` (called only for messages the
// cheaper keys do not decide), and so are the header keys when the record has no structure.
bool MatchesWithText(const SearchKey& key, const SearchMessage& m, const SearchLimits& limits,
                     const TextOracle& text);

// The keys of `key` the store answers: BODY and TEXT, and with `header_keys` also FROM, TO,
// CC, BCC, SUBJECT and HEADER; each distinct (type, field, value) once, in tree order. The
// pointers point into `key`.
void CollectTextKeys(const SearchKey& key, std::vector<const SearchKey*>* out,
                     bool header_keys = false);

// The header field a header key (FROM ... HEADER) searches, lower-case: "from", "x-spam".
std::string HeaderKeyField(const SearchKey& key);

// Evaluates `key` without the raw message: true or false when the other keys decide, std::nullopt
// when the answer depends on a BODY or TEXT key, or on a header key of a record without
// structure (then ask the store, or fetch the raw message and call Matches).
// Lets a session that reads bodies asynchronously skip the bodies of messages that cheaper keys
// already rule in or out: "UNSEEN BODY x" reads only the unseen messages. Never reads the body;
// the structure is used as Matches uses it.
std::optional<bool> MatchesWithoutBody(const SearchKey& key, const SearchMessage& m,
                                       const SearchLimits& limits);

// The SEARCH CHARSET argument: true when absent or "UTF-8" / "US-ASCII" (ignoring case). The
// session answers NO [BADCHARSET (UTF-8 US-ASCII)] otherwise.
bool IsSupportedCharset(const std::optional<std::string>& charset);

}  // namespace cas::imap
