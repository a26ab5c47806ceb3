#include "cas/imap/session/search.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/mail_text.h"
#include "common/status.h"

namespace cas::imap {
namespace {

using ::mail::v1::MessageRecord;
using ::mail::v1::MessageStructure;

constexpr int64_t kSecondsPerDay = 86400;
// Longest Date header value looked at for its zone (the store parses no longer ones either).
constexpr size_t kMaxDateBytes = 1024;

// ---------------------------------------------------------------------------------------------
// ASCII helpers.

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return AsciiLower(x) == AsciiLower(y);
         });
}

std::string AsciiLowerString(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool IsWsp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimWsp(std::string_view s) {
  while (!s.empty() && IsWsp(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsWsp(s.back())) s.remove_suffix(1);
  return s;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out = 0;
  if (!__builtin_add_overflow(a, b, &out)) return out;
  return b > 0 ? INT64_MAX : INT64_MIN;
}

// ---------------------------------------------------------------------------------------------
// Dates.

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t DayOf(int64_t unix_seconds) { return FloorDiv(unix_seconds, kSecondsPerDay); }

int64_t DayOf(const Date& date) { return DaysFromCivil(date.year, date.month, date.day); }

// The zone of an RFC 5322 date-time, in seconds east of UTC: "+0200", "-0430", the obsolete
// names of RFC 5322 4.3 ("EST", "GMT"); 0 for military or unknown zones (RFC 5322 treats them
// as -0000) and when there is none. Comments ("+0200 (CEST)") are skipped.
int64_t ZoneOffsetSeconds(std::string_view date) {
  std::string text;
  int depth = 0;
  for (char c : date.substr(0, kMaxDateBytes)) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth > 0) --depth;
    } else if (depth == 0) {
      text.push_back(c);
    }
  }
  std::string_view rest = TrimWsp(text);
  const size_t space = rest.find_last_of(" \t");
  const std::string_view zone = space == std::string_view::npos ? rest : rest.substr(space + 1);
  if (zone.size() == 5 && (zone[0] == '+' || zone[0] == '-') &&
      std::all_of(zone.begin() + 1, zone.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const int hours = (zone[1] - '0') * 10 + (zone[2] - '0');
    const int minutes = (zone[3] - '0') * 10 + (zone[4] - '0');
    if (minutes > 59) return 0;
    const int64_t offset = (hours * 60 + minutes) * 60;
    return zone[0] == '-' ? -offset : offset;
  }
  static constexpr std::pair<std::string_view, int> kNamedZones[] = {
      {"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
      {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7},
  };
  for (const auto& [name, hours] : kNamedZones) {
    if (EqualsIgnoreAsciiCase(zone, name)) return int64_t{hours} * 3600;
  }
  return 0;
}

// The day the message was sent, as written in its Date header; the internal date's day (UTC)
// without a valid Date header.
int64_t SentDay(const MessageRecord& rec) {
  const MessageStructure& s = rec.structure();
  if (s.sent_date_unix() == 0) return DayOf(rec.internal_date_unix());
  const int64_t offset = s.envelope().has_date() ? ZoneOffsetSeconds(s.envelope().date()) : 0;
  return DayOf(SaturatingAdd(s.sent_date_unix(), offset));
}

// ---------------------------------------------------------------------------------------------
// Evaluation of one message.

bool IsHeaderKey(SearchKeyType type) {
  switch (type) {
    case SearchKeyType::kBcc:
    case SearchKeyType::kCc:
    case SearchKeyType::kFrom:
    case SearchKeyType::kSubject:
    case SearchKeyType::kTo:
    case SearchKeyType::kHeader:
      return true;
    default:
      return false;
  }
}

class Evaluator {
 public:
  Evaluator(const SearchMessage& m, const SearchLimits& limits,
            const std::function<std::string_view()>& raw)
      : m_(m), rec_(*m.rec), limits_(limits), raw_fn_(raw) {}
  Evaluator(const SearchMessage& m, const SearchLimits& limits,
            const std::function<std::string_view()>& no_raw, const TextOracle& text)
      : m_(m), rec_(*m.rec), limits_(limits), raw_fn_(no_raw), text_(&text) {}

  bool Eval(const SearchKey& key) {
    switch (key.type) {
      case SearchKeyType::kAnd:
        return EvalAll(key.children);
      case SearchKeyType::kOr:
        return EvalAny(key.children);
      case SearchKeyType::kNot:
        return !EvalAll(key.children);
      case SearchKeyType::kAll:
        return true;
      case SearchKeyType::kSequenceSet:
        return key.set.Contains(m_.seq, limits_.max_seq);
      case SearchKeyType::kUid:
        return key.set.Contains(rec_.uid(), limits_.max_uid);

      case SearchKeyType::kAnswered:
        return HasFlag("\\Answered");
      case SearchKeyType::kDeleted:
        return HasFlag("\\Deleted");
      case SearchKeyType::kDraft:
        return HasFlag("\\Draft");
      case SearchKeyType::kFlagged:
        return HasFlag("\\Flagged");
      case SearchKeyType::kSeen:
        return HasFlag("\\Seen");
      case SearchKeyType::kUnanswered:
        return !HasFlag("\\Answered");
      case SearchKeyType::kUndeleted:
        return !HasFlag("\\Deleted");
      case SearchKeyType::kUndraft:
        return !HasFlag("\\Draft");
      case SearchKeyType::kUnflagged:
        return !HasFlag("\\Flagged");
      case SearchKeyType::kUnseen:
        return !HasFlag("\\Seen");
      // No message is ever \Recent in this server: NEW (RECENT UNSEEN) and RECENT match
      // nothing, OLD (NOT RECENT) matches everything.
      case SearchKeyType::kNew:
      case SearchKeyType::kRecent:
        return false;
      case SearchKeyType::kOld:
        return true;
      case SearchKeyType::kKeyword:
        return HasFlag(key.value);
      case SearchKeyType::kUnkeyword:
        return !HasFlag(key.value);

      case SearchKeyType::kBcc:
      case SearchKeyType::kCc:
      case SearchKeyType::kFrom:
      case SearchKeyType::kSubject:
      case SearchKeyType::kTo:
      case SearchKeyType::kHeader:
      {
        const std::string field = HeaderKeyField(key);
        if (field.empty()) return false;  // HEADER "" x: no field has an empty name.
        // Records fetched without structure: the store searched the header fields.
        if (text_ && !rec_.has_structure()) return (*text_)(key);
        return HeaderContains(field, key.value);
      }
      case SearchKeyType::kBody:
      case SearchKeyType::kText:
        return TextKey(key);

      case SearchKeyType::kBefore:
        return DayOf(rec_.internal_date_unix()) < DayOf(key.date);
      case SearchKeyType::kOn:
        return DayOf(rec_.internal_date_unix()) == DayOf(key.date);
      case SearchKeyType::kSince:
        return DayOf(rec_.internal_date_unix()) >= DayOf(key.date);
      case SearchKeyType::kSentBefore:
        return SentDay(rec_) < DayOf(key.date);
      case SearchKeyType::kSentOn:
        return SentDay(rec_) == DayOf(key.date);
      case SearchKeyType::kSentSince:
        return SentDay(rec_) >= DayOf(key.date);

      case SearchKeyType::kLarger:
        return rec_.size() > key.number;
      case SearchKeyType::kSmaller:
        return rec_.size() < key.number;
      case SearchKeyType::kOlder:
        return IsOlder(key.number);
      case SearchKeyType::kYounger:
        return !IsOlder(key.number);
      case SearchKeyType::kModSeq:
        // One MODSEQ per message: the entry name and type (RFC 7162 3.1.5) narrow nothing.
        return rec_.modseq() >= key.number;
    }
    return false;
  }

  // Three-valued evaluation without the raw message: std::nullopt where BODY/TEXT decide.
  std::optional<bool> EvalWithoutBody(const SearchKey& key) {
    switch (key.type) {
      case SearchKeyType::kAnd:
      case SearchKeyType::kNot: {
        std::optional<bool> all = true;
        for (const SearchKey& k : key.children) {
          const std::optional<bool> r = EvalWithoutBody(k);
          if (r.has_value() && !*r) {
            all = false;
            break;
          }
          if (!r.has_value()) all = std::nullopt;
        }
        if (key.type == SearchKeyType::kAnd || !all.has_value()) return all;
        return !*all;
      }
      case SearchKeyType::kOr: {
        std::optional<bool> any = false;
        for (const SearchKey& k : key.children) {
          const std::optional<bool> r = EvalWithoutBody(k);
          if (r.has_value() && *r) return true;
          if (!r.has_value()) any = std::nullopt;
        }
        return any;
      }
      case SearchKeyType::kBody:
        if (key.value.empty()) return true;
        return std::nullopt;
      case SearchKeyType::kText:
        if (HeaderBlock().find(common::FoldCase(key.value)) != std::string::npos) return true;
        return std::nullopt;
      default:
        if (IsHeaderKey(key.type) && !rec_.has_structure() && !HeaderKeyField(key).empty()) {
          return std::nullopt;
        }
        return Eval(key);
    }
  }

 private:
  // AND: keys that need no message body first, so the body is read only if they all match.
  bool EvalAll(const std::vector<SearchKey>& keys) {
    for (const bool body_pass : {false, true}) {
      for (const SearchKey& k : keys) {
        if (NeedsBody(k) == body_pass && !Eval(k)) return false;
      }
    }
    return true;
  }

  // OR: likewise, the body is read only if no cheaper key matches.
  bool EvalAny(const std::vector<SearchKey>& keys) {
    for (const bool body_pass : {false, true}) {
      for (const SearchKey& k : keys) {
        if (NeedsBody(k) == body_pass && Eval(k)) return true;
      }
    }
    return false;
  }

  bool HasFlag(std::string_view flag) const {
    return std::any_of(rec_.flags().begin(), rec_.flags().end(),
                       [&](const std::string& f) { return EqualsIgnoreAsciiCase(f, flag); });
  }

  // The internal date is more than `seconds` before now (RFC 5032 OLDER).
  bool IsOlder(uint64_t seconds) const {
    int64_t age = 0;
    if (__builtin_sub_overflow(limits_.now_unix, rec_.internal_date_unix(), &age)) {
      return limits_.now_unix > rec_.internal_date_unix();
    }
    return age > 0 && static_cast<uint64_t>(age) > seconds;
  }

  // Any top-level header field `lower_name` whose decoded value contains `value`; with an
  // empty `value`, any such field.
  bool HeaderContains(std::string_view lower_name, std::string_view value) {
    const auto& headers = rec_.structure().decoded_headers();
    const std::string needle = common::FoldCase(value);
    for (int i = 0; i < headers.size(); ++i) {
      if (headers[i].name() != lower_name) continue;
      if (needle.empty() || FoldedHeaderValue(i).find(needle) != std::string::npos) return true;
    }
    return false;
  }

  const std::string& FoldedHeaderValue(int index) {
    if (folded_headers_.empty()) {
      const auto& headers = rec_.structure().decoded_headers();
      folded_headers_.resize(static_cast<size_t>(headers.size()));
      folded_header_done_.resize(static_cast<size_t>(headers.size()), false);
    }
    const auto i = static_cast<size_t>(index);
    if (!folded_header_done_[i]) {
      folded_headers_[i] = common::FoldCase(rec_.structure().decoded_headers(index).decoded());
      folded_header_done_[i] = true;
    }
    return folded_headers_[i];
  }

  // The decoded header block for TEXT: "name: value" lines, folded.
  const std::string& HeaderBlock() {
    if (!header_block_) header_block_ = common::FoldedHeaderBlock(rec_.structure());
    return *header_block_;
  }

  // BODY and TEXT: answered by the oracle (the store searched the bodies) when there is one,
  // otherwise from the raw message.
  bool TextKey(const SearchKey& key) {
    if (text_) return (*text_)(key);
    const std::string needle = common::FoldCase(key.value);
    if (key.type == SearchKeyType::kText && HeaderBlock().find(needle) != std::string::npos) {
      return true;
    }
    return BodyText().find(needle) != std::string::npos;
  }

  const std::string& BodyText() {
    if (!body_text_) {
      const std::string_view raw = raw_fn_ ? raw_fn_() : std::string_view();
      body_text_ =
          common::FoldedBodyText(raw, rec_.structure().body(), limits_.max_body_text_bytes);
    }
    return *body_text_;
  }

  const SearchMessage& m_;
  const MessageRecord& rec_;
  const SearchLimits& limits_;
  const std::function<std::string_view()>& raw_fn_;
  const TextOracle* text_ = nullptr;
  std::optional<std::string> body_text_;
  std::optional<std::string> header_block_;
  std::vector<std::string> folded_headers_;
  std::vector<bool> folded_header_done_;
};

}  // namespace

bool NeedsStructure(const SearchKey& key) {
  switch (key.type) {
    case SearchKeyType::kAnd:
    case SearchKeyType::kOr:
    case SearchKeyType::kNot:
      return std::any_of(key.children.begin(), key.children.end(),
                         [](const SearchKey& k) { return NeedsStructure(k); });
    case SearchKeyType::kBody:
    case SearchKeyType::kText:
    case SearchKeyType::kSentBefore:
    case SearchKeyType::kSentOn:
    case SearchKeyType::kSentSince:
      return true;
    default:
      return IsHeaderKey(key.type);
  }
}

bool NeedsBody(const SearchKey& key) {
  switch (key.type) {
    case SearchKeyType::kAnd:
    case SearchKeyType::kOr:
    case SearchKeyType::kNot:
      return std::any_of(key.children.begin(), key.children.end(),
                         [](const SearchKey& k) { return NeedsBody(k); });
    case SearchKeyType::kBody:
    case SearchKeyType::kText:
      return true;
    default:
      return false;
  }
}

bool Matches(const SearchKey& key, const SearchMessage& m, const SearchLimits& limits,
             const std::function<std::string_view()>& raw) {
  if (m.rec == nullptr) return false;
  return Evaluator(m, limits, raw).Eval(key);
}

std::optional<bool> MatchesWithoutBody(const SearchKey& key, const SearchMessage& m,
                                       const SearchLimits& limits) {
  if (m.rec == nullptr) return false;
  const std::function<std::string_view()> no_raw;
  return Evaluator(m, limits, no_raw).EvalWithoutBody(key);
}

bool MatchesWithText(const SearchKey& key, const SearchMessage& m, const SearchLimits& limits,
                     const TextOracle& text) {
  if (m.rec == nullptr) return false;
  const std::function<std::string_view()> no_raw;
  return Evaluator(m, limits, no_raw, text).Eval(key);
}

bool NeedsStoredRecord(const SearchKey& key) {
  switch (key.type) {
    case SearchKeyType::kBefore:
    case SearchKeyType::kOn:
    case SearchKeyType::kSince:
    case SearchKeyType::kSentBefore:
    case SearchKeyType::kSentOn:
    case SearchKeyType::kSentSince:
    case SearchKeyType::kLarger:
    case SearchKeyType::kSmaller:
    case SearchKeyType::kOlder:
    case SearchKeyType::kYounger:
      return true;
    default:
      return std::any_of(key.children.begin(), key.children.end(),
                         [](const SearchKey& k) { return NeedsStoredRecord(k); });
  }
}

bool NeedsSentDate(const SearchKey& key) {
  switch (key.type) {
    case SearchKeyType::kSentBefore:
    case SearchKeyType::kSentOn:
    case SearchKeyType::kSentSince:
      return true;
    default:
      return std::any_of(key.children.begin(), key.children.end(),
                         [](const SearchKey& k) { return NeedsSentDate(k); });
  }
}

std::string HeaderKeyField(const SearchKey& key) {
  switch (key.type) {
    case SearchKeyType::kBcc:
      return "bcc";
    case SearchKeyType::kCc:
      return "cc";
    case SearchKeyType::kFrom:
      return "from";
    case SearchKeyType::kSubject:
      return "subject";
    case SearchKeyType::kTo:
      return "to";
    case SearchKeyType::kHeader:
      return AsciiLowerString(TrimWsp(key.field));
    default:
      return "";
  }
}

void CollectTextKeys(const SearchKey& key, std::vector<const SearchKey*>* out, bool header_keys) {
  if (key.type == SearchKeyType::kBody || key.type == SearchKeyType::kText ||
      (header_keys && IsHeaderKey(key.type) && !HeaderKeyField(key).empty())) {
    const bool seen = std::any_of(out->begin(), out->end(), [&](const SearchKey* k) {
      return k->type == key.type && k->value == key.value &&
             HeaderKeyField(*k) == HeaderKeyField(key);
    });
    if (!seen) out->push_back(&key);
    return;
  }
  for (const SearchKey& k : key.children) CollectTextKeys(k, out, header_keys);
}

bool IsSupportedCharset(const std::optional<std::string>& charset) {
  if (!charset) return true;
  return EqualsIgnoreAsciiCase(*charset, "UTF-8") || EqualsIgnoreAsciiCase(*charset, "US-ASCII");
}

}  // namespace cas::imap
