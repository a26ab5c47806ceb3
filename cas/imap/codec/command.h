// Typed IMAP4 client commands, as produced by CommandParser. Pure data: no I/O, no storage.
//
// Every string here is already decoded: quoted-string escapes removed, literals inlined,
// mailbox names converted from modified UTF-7 to UTF-8 (unless UTF8=ACCEPT is on, when they
// arrive as UTF-8) with "INBOX" in any case normalised to "INBOX".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace cas::imap {

// ---------------------------------------------------------------------------------------------
// Sequence sets (RFC 3501 sequence-set, RFC 5182 "$").

// One range of a sequence set as the client wrote it. A single number has first == last.
// SequenceSet::kStar stands for "*" (the largest number in use); it never collides with a real
// number because sequence numbers and UIDs start at 1. "5:2" is kept as written.
struct SeqRange {
  uint32_t first = 0;
  uint32_t last = 0;
  bool operator==(const SeqRange&) const = default;
};

struct SequenceSet {
  static constexpr uint32_t kStar = 0;

  // "$": the result saved by the last SEARCH RETURN (SAVE) (RFC 5182). `ranges` is empty then;
  // the session substitutes the saved set.
  bool saved = false;
  std::vector<SeqRange> ranges;

  bool operator==(const SequenceSet&) const = default;

  // The ranges with "*" replaced by `max`, each ordered first <= last, clipped to [1, max],
  // sorted and merged. Empty when max is 0 or for "$".
  std::vector<SeqRange> Resolve(uint32_t max) const;
  // True if `n` is in the set resolved against `max`.
  bool Contains(uint32_t n, uint32_t max) const;
  // The largest explicit number (ignoring "*"); 0 if none. Lets a session reject a message
  // sequence number beyond the mailbox size.
  uint32_t MaxExplicit() const;
  bool HasStar() const;
  // Canonical text, e.g. "1:3,7,9:*" or "$".
  std::string ToString() const;
};

// Parses a whole sequence set ("1,3:*", "$"); std::nullopt if malformed or longer than
// `max_ranges` ranges.
std::optional<SequenceSet> ParseSequenceSet(std::string_view text, size_t max_ranges = 10000);

// ---------------------------------------------------------------------------------------------
// Shared value types.

// A calendar date from SEARCH ("1-Feb-1994").
struct Date {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31, valid for the month
  bool operator==(const Date&) const = default;
};

enum class StatusItem {
  kMessages,
  kUidNext,
  kUidValidity,
  kUnseen,
  kDeleted,
  kSize,
  kRecent,
  kHighestModSeq,
  kAppendLimit,  // RFC 7889
};
std::string_view StatusItemName(StatusItem item);

// ---------------------------------------------------------------------------------------------
// SEARCH keys (RFC 3501 6.4.4, RFC 9051 6.4.4, MODSEQ from RFC 7162, OLDER/YOUNGER from
// RFC 5032).

enum class SearchKeyType {
  kAnd,  // children: every key must match (the top level and each parenthesised group)
  kOr,   // children: exactly two
  kNot,  // children: exactly one
  kAll,
  kSequenceSet,  // set
  kUid,          // set
  // Flags.
  kAnswered,
  kDeleted,
  kDraft,
  kFlagged,
  kNew,
  kOld,
  kRecent,
  kSeen,
  kUnanswered,
  kUndeleted,
  kUndraft,
  kUnflagged,
  kUnseen,
  kKeyword,    // value
  kUnkeyword,  // value
  // Header and text matches: value (HEADER also field).
  kBcc,
  kBody,
  kCc,
  kFrom,
  kSubject,
  kText,
  kTo,
  kHeader,
  // Dates: date.
  kBefore,
  kOn,
  kSince,
  kSentBefore,
  kSentOn,
  kSentSince,
  // Numbers: number.
  kLarger,
  kSmaller,
  kOlder,    // seconds
  kYounger,  // seconds
  kModSeq,   // number; optional field (entry name) and value (entry type priv/shared/all)
};

// The keyword of a search key ("SENTBEFORE"); "" for kAnd and kSequenceSet.
std::string_view SearchKeyName(SearchKeyType type);

struct SearchKey {
  SearchKeyType type = SearchKeyType::kAll;
  std::string field;  // kHeader: field name. kModSeq: entry name ("/flags/\Seen") or empty.
  std::string value;  // Match text, keyword, or kModSeq entry type ("priv"/"shared"/"all").
  Date date;
  uint64_t number = 0;
  SequenceSet set;
  std::vector<SearchKey> children;

  bool operator==(const SearchKey&) const = default;
};

enum class SearchReturnOption { kMin, kMax, kAll, kCount, kSave };
std::string_view SearchReturnOptionName(SearchReturnOption option);

// ---------------------------------------------------------------------------------------------
// FETCH (RFC 3501, RFC 3516 BINARY, RFC 7162 MODSEQ).

enum class SectionText {
  kNone,             // BODY[] or BODY[1.2]
  kHeader,           // HEADER
  kHeaderFields,     // HEADER.FIELDS (fields)
  kHeaderFieldsNot,  // HEADER.FIELDS.NOT (fields)
  kText,             // TEXT
  kMime,             // MIME (only after a part number)
};

struct Section {
  std::vector<uint32_t> part;  // "1.2.3" -> {1, 2, 3}; empty for the whole message
  SectionText text = SectionText::kNone;
  std::vector<std::string> header_fields;  // As the client wrote them (compare ignoring case).
  bool operator==(const Section&) const = default;
};

// "<offset.count>"
struct Partial {
  uint32_t offset = 0;
  uint32_t count = 0;
  bool operator==(const Partial&) const = default;
};

enum class FetchItemType {
  kEnvelope,
  kFlags,
  kInternalDate,
  kRfc822,
  kRfc822Header,
  kRfc822Size,
  kRfc822Text,
  kBody,  // BODY without section: the non-extensible BODYSTRUCTURE
  kBodyStructure,
  kUid,
  kBodySection,  // BODY[section]<partial> / BODY.PEEK[...]
  kBinary,       // BINARY[part]<partial> / BINARY.PEEK[...]
  kBinarySize,   // BINARY.SIZE[part]
  kModSeq,
};

struct FetchItem {
  FetchItemType type = FetchItemType::kFlags;
  bool peek = false;  // BODY.PEEK / BINARY.PEEK
  Section section;
  std::optional<Partial> partial;
  bool operator==(const FetchItem&) const = default;
};

// ---------------------------------------------------------------------------------------------
// One struct per command. "Args" is what follows the command name.

struct CapabilityArgs {
  bool operator==(const CapabilityArgs&) const = default;
};
struct NoopArgs {
  bool operator==(const NoopArgs&) const = default;
};
struct LogoutArgs {
  bool operator==(const LogoutArgs&) const = default;
};
struct StartTlsArgs {
  bool operator==(const StartTlsArgs&) const = default;
};

struct AuthenticateArgs {
  std::string mechanism;  // Upper-cased, e.g. "PLAIN", "SCRAM-SHA-256".
  // SASL-IR (RFC 4959) initial response, base64-decoded; "=" gives an empty string.
  std::optional<std::string> initial_response;
  bool operator==(const AuthenticateArgs&) const = default;
};

struct LoginArgs {
  std::string user;
  std::string password;
  bool operator==(const LoginArgs&) const = default;
};

// ID (RFC 2971).
struct IdArgs {
  // std::nullopt for "ID NIL". Values may be NIL.
  std::optional<std::vector<std::pair<std::string, std::optional<std::string>>>> params;
  bool operator==(const IdArgs&) const = default;
};

// ENABLE (RFC 5161).
struct EnableArgs {
  std::vector<std::string> capabilities;  // Upper-cased.
  bool operator==(const EnableArgs&) const = default;
};

// The QRESYNC parameter of SELECT/EXAMINE (RFC 7162 section 3.2.5).
struct QresyncParams {
  uint32_t uid_validity = 0;
  uint64_t mod_seq = 0;
  std::optional<SequenceSet> known_uids;
  // seq-match-data: known sequence numbers and their UIDs.
  std::optional<std::pair<SequenceSet, SequenceSet>> seq_match;
  bool operator==(const QresyncParams&) const = default;
};

// SELECT and EXAMINE (CONDSTORE and QRESYNC parameters from RFC 7162).
struct SelectArgs {
  std::string mailbox;
  bool read_only = false;  // EXAMINE
  bool condstore = false;
  std::optional<QresyncParams> qresync;
  bool operator==(const SelectArgs&) const = default;
};

struct CreateArgs {
  std::string mailbox;
  std::vector<std::string> special_use;  // RFC 6154 "(USE (\Sent))"; canonical case.
  bool operator==(const CreateArgs&) const = default;
};

struct DeleteArgs {
  std::string mailbox;
  bool operator==(const DeleteArgs&) const = default;
};

struct RenameArgs {
  std::string from;
  std::string to;
  bool operator==(const RenameArgs&) const = default;
};

struct SubscribeArgs {
  std::string mailbox;
  bool operator==(const SubscribeArgs&) const = default;
};

struct UnsubscribeArgs {
  std::string mailbox;
  bool operator==(const UnsubscribeArgs&) const = default;
};

// RFC 3501 LIST with RFC 5258 LIST-EXTENDED and RFC 6154 SPECIAL-USE
struct ListArgs {
  std::string reference;              // Decoded like a mailbox name, never INBOX-normalised.
  std::vector<std::string> patterns;  // At least one; "" asks for the hierarchy delimiter.
  // True if any extended syntax was used (selection options, several patterns, RETURN):
  // replies then follow RFC 5258.
  bool extended = false;
  // Selection options.
  bool select_subscribed = false;
  bool select_remote = false;
  bool select_recursive_match = false;
  bool select_special_use = false;
  // Return options.
  bool return_subscribed = false;
  bool return_children = false;
  bool return_special_use = false;
  std::optional<std::vector<StatusItem>> return_status;  // RFC 5819 LIST-STATUS
  bool operator==(const ListArgs&) const = default;
};

struct LsubArgs {
  std::string reference;
  std::string pattern;
  bool operator==(const LsubArgs&) const = default;
};

struct NamespaceArgs {
  bool operator==(const NamespaceArgs&) const = default;
};

struct StatusArgs {
  std::string mailbox;
  std::vector<StatusItem> items;  // At least one, in the client's order.
  bool operator==(const StatusArgs&) const = default;
};

struct AppendMessage {
  std::vector<std::string> flags;  // System flags in canonical case ("\Seen"), keywords as sent.
  // The date-time argument: seconds since the epoch and the zone offset it was written with.
  std::optional<int64_t> internal_date;
  int zone_offset_minutes = 0;
  std::string data;     // The message bytes.
  bool binary = false;  // Sent as literal8 "~{n}" (RFC 3516).
  bool utf8 = false;    // Sent as "UTF8 (~{n})" (RFC 6855).
  bool operator==(const AppendMessage&) const = default;
};

// One message, or several with MULTIAPPEND (RFC 3502).
struct AppendArgs {
  std::string mailbox;
  std::vector<AppendMessage> messages;
  bool operator==(const AppendArgs&) const = default;
};

struct IdleArgs {
  bool operator==(const IdleArgs&) const = default;
};
struct CheckArgs {
  bool operator==(const CheckArgs&) const = default;
};
struct CloseArgs {
  bool operator==(const CloseArgs&) const = default;
};
struct UnselectArgs {
  bool operator==(const UnselectArgs&) const = default;
};

struct ExpungeArgs {
  std::optional<SequenceSet> uid_set;  // UID EXPUNGE (RFC 4315) only.
  bool operator==(const ExpungeArgs&) const = default;
};

struct SearchArgs {
  // RFC 4731 ESEARCH: std::nullopt when RETURN was not given (classic "* SEARCH" reply);
  // an empty vector for "RETURN ()", which means ALL.
  std::optional<std::vector<SearchReturnOption>> return_options;
  std::optional<std::string> charset;  // As sent; the session checks it is supported.
  SearchKey key;                       // Always a kAnd node holding the top-level keys.
  bool operator==(const SearchArgs&) const = default;
};

struct FetchArgs {
  SequenceSet set;
  std::vector<FetchItem> items;           // Macros ALL/FAST/FULL expanded.
  std::optional<uint64_t> changed_since;  // (CHANGEDSINCE n)
  bool vanished = false;                  // (VANISHED), UID FETCH with CHANGEDSINCE only
  bool operator==(const FetchArgs&) const = default;
};

enum class StoreOperation { kReplace, kAdd, kRemove };  // FLAGS, +FLAGS, -FLAGS

struct StoreArgs {
  SequenceSet set;
  StoreOperation operation = StoreOperation::kReplace;
  bool silent = false;
  std::vector<std::string> flags;           // System flags in canonical case, keywords as sent.
  std::optional<uint64_t> unchanged_since;  // (UNCHANGEDSINCE n), RFC 7162
  bool operator==(const StoreArgs&) const = default;
};

struct CopyArgs {
  SequenceSet set;
  std::string mailbox;
  bool operator==(const CopyArgs&) const = default;
};

// MOVE (RFC 6851).
struct MoveArgs {
  SequenceSet set;
  std::string mailbox;
  bool operator==(const MoveArgs&) const = default;
};

// GETQUOTA, GETQUOTAROOT and SETQUOTA (RFC 9208); parsed only.
struct GetQuotaArgs {
  std::string root;
  bool operator==(const GetQuotaArgs&) const = default;
};

struct GetQuotaRootArgs {
  std::string mailbox;
  bool operator==(const GetQuotaRootArgs&) const = default;
};

struct SetQuotaArgs {
  std::string root;
  std::vector<std::pair<std::string, uint64_t>> limits;  // Resource names upper-cased.
  bool operator==(const SetQuotaArgs&) const = default;
};

using CommandArgs =
    std::variant<CapabilityArgs, NoopArgs, LogoutArgs, StartTlsArgs, AuthenticateArgs, LoginArgs,
                 IdArgs, EnableArgs, SelectArgs, CreateArgs, DeleteArgs, RenameArgs, SubscribeArgs,
                 UnsubscribeArgs, ListArgs, LsubArgs, NamespaceArgs, StatusArgs, AppendArgs,
                 IdleArgs, CheckArgs, CloseArgs, UnselectArgs, ExpungeArgs, SearchArgs, FetchArgs,
                 StoreArgs, CopyArgs, MoveArgs, GetQuotaArgs, GetQuotaRootArgs, SetQuotaArgs>;

struct Command {
  std::string tag;
  bool uid = false;  // "UID FETCH", "UID SEARCH", "UID STORE", "UID COPY", "UID MOVE",
                     // "UID EXPUNGE"
  CommandArgs args;

  bool operator==(const Command&) const = default;

  // The command name in upper case without "UID", e.g. "FETCH", "EXAMINE".
  std::string_view name() const;
};

// Canonical IMAP text of a command, for tests and debugging: keywords upper case, strings
// quoted (or as literals when they cannot be quoted), mailbox names as UTF-8, no CRLF at the
// end. It contains credentials (LOGIN, AUTHENTICATE): never log it as is.
std::string FormatCommand(const Command& command);

}  // namespace cas::imap
